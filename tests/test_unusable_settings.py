"""Settings no run can use are usage errors (exit 2, one clear line), never a traceback or a hang.

YAML has `.nan` and `.inf`, and `float()` reads `nan` and `inf`: NaN passes every range check
(every comparison with it is false) and reaches the engine, which cannot serialise it; an
infinite deadline overflows the wait on a worker.  A configuration path may name a device or a
FIFO: reading `/dev/zero` never ends, and opening a FIFO blocks until someone writes to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

WORKFLOW = """\
name: CI
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest --cov-fail-under=80
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, capture_output=True)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    return tmp_path


def _pe_policy(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, in its own process: a hang is a timeout, a traceback is on stderr."""
    return subprocess.run([sys.executable, "-m", "pe_policy", *args], cwd=repo, text=True,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")}, check=False)


def _assert_usage_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


@pytest.mark.parametrize(("config", "where", "value"), [
    ("params:\n  coverage_threshold: .nan\n", ".pe-policy.yaml:2:3: params.coverage_threshold", "nan"),
    ("params:\n  coverage_threshold: .inf\n", ".pe-policy.yaml:2:3: params.coverage_threshold", "inf"),
    ("params:\n  max_pr_commits: -.inf\n", ".pe-policy.yaml:2:3: params.max_pr_commits", "-inf"),
    ("max_file_bytes: .inf\n", ".pe-policy.yaml:1:1: max_file_bytes", "inf"),
    ("max_file_bytes: .NaN\n", ".pe-policy.yaml:1:1: max_file_bytes", "nan"),
    ("exclude: [docs/, .nan]\n", ".pe-policy.yaml:1:18: exclude[1]", "nan"),
])
def test_nan_and_infinity_in_the_configuration(repo: Path, config: str, where: str,
                                               value: str) -> None:
    (repo / ".pe-policy.yaml").write_text(config, encoding="utf-8")
    done = _pe_policy(repo, "check", ".")
    _assert_usage_error(done, f"{where}: {value} is not a finite number")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_nan_and_infinity_as_the_evaluation_deadline(repo: Path, value: str) -> None:
    for command in ("check", "test"):
        done = _pe_policy(repo, command, f"--eval-timeout={value}", ".")
        _assert_usage_error(done, "Invalid value for '--eval-timeout'")
        assert "is not a finite number of seconds" in done.stderr or "range" in done.stderr


def test_a_deadline_too_long_to_wait_for_is_a_usage_error(repo: Path) -> None:
    done = _pe_policy(repo, "check", "--eval-timeout", "1e308", ".")
    _assert_usage_error(done, "Invalid value for '--eval-timeout'", "is not in the range")


def test_a_finite_deadline_still_works(repo: Path) -> None:
    done = _pe_policy(repo, "check", "--eval-timeout", "30.5", ".")
    assert done.returncode == 1, done.stderr  # PE-WF-003: the pipeline has only a test job
    assert "PE-WF-003" in done.stdout


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "/dev/null", "fifo"])
def test_a_device_or_fifo_as_the_configuration(repo: Path, special: str) -> None:
    if special == "fifo":
        special = str(repo / "config.fifo")
        os.mkfifo(special)  # nobody writes to it: opening it to read would block forever
    elif not Path(special).exists():
        pytest.skip(f"no {special} here")
    done = _pe_policy(repo, "check", "--config", special, ".")
    _assert_usage_error(done, "invalid configuration", "not a regular file")


def test_a_configuration_that_links_to_a_device(repo: Path) -> None:
    (repo / "config.yaml").symlink_to("/dev/zero")
    done = _pe_policy(repo, "check", "--config", "config.yaml", ".")
    _assert_usage_error(done, "config.yaml", "not a regular file")


def test_a_missing_configuration_is_still_named_as_such(repo: Path) -> None:
    done = _pe_policy(repo, "check", "--config", "nope.yaml", ".")
    _assert_usage_error(done, "configuration file not found")
