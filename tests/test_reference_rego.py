"""The repository's Rego under the real reference tools: `opa test`, `opa check --strict`, `regal lint`.

The built-in rules (policies/) and the conftest policies (infra/policy/) run on the
embedded regorus, but they are Rego meant to mean the same on OPA: every unit test
passes under `opa test` too, and it runs exactly the tests `pe-policy verify` runs on
regorus (a test that one engine skips or fails is a semantic difference between them).
The modules are clean under OPA's strict checker and under Regal with the committed
configuration (.regal/config.yaml, where every rule turned off says why).

The tools come from tests/reference_tools.py: missing, they skip these tests locally and
fail them in CI.  Each failure prints the tool's own output.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import run_cli
from tests.reference_tools import REPO, run_tool

TESTED_DIRS = ("policies", "infra/policy")  # each has *_test.rego files
LINTED_DIRS = ("policies", "infra/policy")
REGAL_CONFIG = REPO / ".regal" / "config.yaml"

VERIFY_LINE = re.compile(r"^(?:PASS|FAIL|ERROR|SKIP)\s+\S+:\d+: (?P<name>data\.\S+?)(?::| \()", re.MULTILINE)
VERIFY_SUMMARY = re.compile(r"^(?P<passed>\d+) passed, (?P<failed>\d+) failed", re.MULTILINE)


def shown(proc: subprocess.CompletedProcess[str], most: int = 8000) -> str:
    """The tool's output, for an assertion message."""
    return (f"$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-most:]}\n--- stderr\n{proc.stderr[-most:]}")


def opa_test(directory: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    proc = run_tool("opa", "test", directory, "--format", "json")
    try:
        results = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"`opa test` printed no JSON report\n{shown(proc)}")
    assert isinstance(results, list), shown(proc)
    return proc, results


def qualified_name(result: dict[str, Any]) -> str:
    return f"{result['package']}.{result['name']}"


@pytest.mark.parametrize("directory", TESTED_DIRS)
def test_opa_test_passes_every_test(directory: str) -> None:
    proc, results = opa_test(directory)
    bad = [f"{qualified_name(r)} ({r['location']['file']}:{r['location']['row']}): "
           f"{'error ' + json.dumps(r['error']) if r.get('error') else 'skipped' if r.get('skip') else 'FAIL'}"
           for r in results if r.get("fail") or r.get("error") or r.get("skip")]
    assert not bad, "opa test failures:\n" + "\n".join(bad) + "\n" + shown(run_tool("opa", "test", directory, "-v"))
    assert proc.returncode == 0, shown(proc)
    assert results, f"`opa test {directory}` ran no tests\n{shown(proc)}"


@pytest.mark.parametrize("directory", TESTED_DIRS)
def test_opa_runs_the_tests_pe_policy_verify_runs(directory: str) -> None:
    """Same count, same tests: `opa test` (OPA) against `pe-policy verify` (regorus)."""
    _proc, results = opa_test(directory)
    verified = run_cli(["verify", directory], cwd=REPO)
    output = f"pe-policy verify {directory}: exit {verified.exit_code}\n{verified.stdout[-8000:]}\n{verified.stderr}"
    summary = VERIFY_SUMMARY.search(verified.stdout)
    assert summary is not None, f"no `N passed, M failed` line\n{output}"
    passed, failed = int(summary["passed"]), int(summary["failed"])
    assert verified.exit_code == 0, output
    assert failed == 0, output
    assert passed == len(results), (
        f"pe-policy verify passed {passed} tests, opa test ran {len(results)}\n{output}")
    on_regorus = set(VERIFY_LINE.findall(verified.stdout))
    on_opa = {qualified_name(r) for r in results}
    assert on_regorus == on_opa, (
        f"only pe-policy verify: {sorted(on_regorus - on_opa)}\nonly opa test: {sorted(on_opa - on_regorus)}")


def test_opa_check_strict_is_clean() -> None:
    proc = run_tool("opa", "check", "--strict", *LINTED_DIRS)
    assert proc.returncode == 0, shown(proc)
    assert not proc.stdout.strip() and not proc.stderr.strip(), shown(proc)


def test_regal_lint_is_clean() -> None:
    assert REGAL_CONFIG.is_file(), f"{REGAL_CONFIG} is missing"
    proc = run_tool("regal", "lint", "--config-file", str(REGAL_CONFIG), "--format", "json", *LINTED_DIRS)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"`regal lint` printed no JSON report\n{shown(proc)}")
    violations = [f"{v['location']['file']}:{v['location']['row']}: {v['category']}/{v['title']}: "
                  f"{v['description']}" for v in report.get("violations") or []]
    assert not violations, "regal violations:\n" + "\n".join(violations)
    assert proc.returncode == 0, shown(proc)
    assert report["summary"]["files_scanned"] > 0, shown(proc)


def test_every_rule_turned_off_in_the_regal_config_says_why() -> None:
    """A rule set to `level: ignore` has a comment in its block giving the reason."""
    text = REGAL_CONFIG.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    ignored = [(category, rule) for category, rules in config["rules"].items()
               for rule, settings in rules.items() if settings.get("level") == "ignore"]
    assert ignored, "no rule is turned off: drop this test or the config"
    blocks = re.split(r"^    (?=[a-z])", text, flags=re.MULTILINE)
    for category, rule in ignored:
        block = next((b for b in blocks if b.startswith(f"{rule}:")), "")
        reason = " ".join(line.strip().lstrip("#").strip() for line in block.splitlines()
                          if line.strip().startswith("#"))
        assert len(reason) > 20, f"{category}/{rule} is turned off without a reason in {REGAL_CONFIG}"
