"""Outputs survive interruption: a writer killed mid-write leaves the previous file intact."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pe_policy.output import write_atomic
from tests.conftest import REPO

SRC = REPO / "src" / "pe_policy"

# Run `code` in a fresh interpreter whose os.<hook> SIGKILLs the process: a real kill, at the
# exact moment the new content is on disk but not yet in place.
KILLER = """\
import os, signal, sys
_real = getattr(os, {hook!r})
def _die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr(os, {hook!r}, _die)
"""


def run_killed(hook: str, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = KILLER.format(hook=hook) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("hook", ["fsync", "replace"])
def test_killed_writer_leaves_the_old_file(tmp_path: Path, hook: str) -> None:
    target = tmp_path / "report.sarif"
    target.write_text('{"old": true}\n', encoding="utf-8")
    proc = run_killed(hook, f"""
        from pathlib import Path
        from pe_policy.output import write_atomic
        write_atomic(Path({str(target)!r}), "{{" + "x" * 5_000_000)
    """, tmp_path)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'


def test_killed_check_run_keeps_the_previous_reports(tmp_repo: Path) -> None:
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    (tmp_repo / ".github/workflows/ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n", encoding="utf-8")
    reports = {name: tmp_repo / name for name in ("out.sarif", "out.json", "baseline.json")}
    for path in reports.values():
        path.write_text('{"previous": "run"}\n', encoding="utf-8")
    args = ["check", "--root", str(tmp_repo), "-f", "sarif", "-o", str(reports["out.sarif"]),
            "-f", "json", "-o", str(reports["out.json"]),
            "--write-baseline", str(reports["baseline.json"]), str(tmp_repo / ".github")]
    proc = run_killed("replace", f"""
        import sys
        from pe_policy.cli import main
        sys.argv = ["pe-policy", *{args!r}]
        main()
    """, tmp_repo)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    for path in reports.values():
        assert json.loads(path.read_text(encoding="utf-8")) == {"previous": "run"}
    # and without the kill, the same run replaces them with complete reports
    done = subprocess.run([sys.executable, "-m", "pe_policy", *args], cwd=tmp_repo,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # --write-baseline accepts what it records
    assert json.loads(reports["baseline.json"].read_text(encoding="utf-8")) != {"previous": "run"}
    assert json.loads(reports["out.sarif"].read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert json.loads(reports["out.json"].read_text(encoding="utf-8"))["findings"]


def test_written_files_keep_ordinary_permissions(tmp_path: Path) -> None:
    new = tmp_path / "new.json"
    old = os.umask(0o022)
    try:
        write_atomic(new, "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's 0600
    existing = tmp_path / "shared.json"
    existing.write_text("{}", encoding="utf-8")
    existing.chmod(0o664)
    write_atomic(existing, b"{}")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664
    assert not list(tmp_path.glob(".*.tmp"))


_DIRECT_WRITE = re.compile(
    r"\.write_(?:text|bytes)\(|open\([^)]*[\"'][wax]b?\+?[\"']|fdopen\([^)]*[\"'][wax]")


def test_every_writer_goes_through_write_atomic() -> None:
    """pe-policy writes files only via output.write_atomic (tarfile writes into memory)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "output.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if _DIRECT_WRITE.search(code) and "fileobj=" not in code:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
