"""Files and outputs: a pull request can neither weaken the gate nor make it read or write
what it should not.

* a symbolic link that leads out of the repository is never read (walked or named);
* `--output` only ever replaces a regular file, or creates one (`-`: standard output);
* hostile input stays in bounded memory: YAML aliases and markdown tables are refused, by a
  PE-PARSE naming the file and the limit, before they expand;
* a killed run leaves no temporary file behind that the next run does not remove.

Every test runs the real command in its own process, on real files.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pe_policy.discover import (
    DIRECTORY_LINK_OUT_OF_ROOT,
    LINK_OUT_OF_ROOT,
    inside_root,
    link_out_of_root,
)
from pe_policy.loaders.markdown_source import MAX_ELEMENTS, MAX_LINES, MAX_TABLE_CELLS
from pe_policy.loaders.migration import MAX_STATEMENTS
from pe_policy.loaders.terraform import MAX_HCL_TOKENS
from pe_policy.loaders.yaml_source import MAX_NODES
from pe_policy.output import output_problem, remove_stale_temporaries, write_atomic
from pe_policy.report_plan import ReportPlanError, plan_reports
from pe_policy.source_lines import SourceLines
from tests.conftest import line_of
from tests.userland import write
from tests.workflow_text import GOOD_WORKFLOW

# What a link out of the repository points at: checked, it would show its own finding
OUTSIDE_WORKFLOW = GOOD_WORKFLOW.replace("actions/checkout@v4", "evil/exfiltrate@v1")
OUTSIDE_REPORT = """\
---
tags: [deployment]
unit_id: "PE-9"
status: "success"
---

# Deployment Report — PE-9

## Summary
- **Status:** SUCCESS
"""
WAIT_SECONDS = 120


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    peak_mb: float

    @property
    def report(self) -> dict[str, Any]:
        try:
            return json.loads(self.stdout)  # type: ignore[no-any-return]
        except json.JSONDecodeError:
            pytest.fail(f"no JSON report (exit {self.exit_code}):\n{self.stdout[-2000:]}\n"
                        f"{self.stderr[-2000:]}")

    def findings(self, rule_id: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"]
                if (rule_id is None or f["rule_id"] == rule_id)
                and (path is None or f["location"]["path"] == path)]


def pe_policy(args: list[str], cwd: Path, *, address_space: int | None = None,
              python: list[str] | None = None) -> Run:
    """`pe-policy ARGS` in its own process (optionally under an address-space limit), with the
    peak memory of it and its workers."""

    # (started by test_hostile_input's launcher, not forked from pytest: a fork of pytest
    # carries the session's resident memory, 500 MB late in a full run, into its peak)
    from .test_hostile_input import _LAUNCHER

    cap = address_space if address_space is not None else resource.RLIM_INFINITY
    cmd = [sys.executable, *(python or ["-m", "pe_policy"]), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as scratch:
        usage_file = Path(scratch, "usage.json")
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(cap), str(usage_file), *cmd],
                                cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            pytest.fail(f"pe-policy {' '.join(args)} still running after {WAIT_SECONDS} s")
        usage = json.loads(usage_file.read_text())
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    assert "Traceback" not in stderr, stderr
    return Run(usage["exit"], stdout, stderr, usage["peak_kb"] / 1024)


def check_json(args: list[str], repo: Path, **kwargs: Any) -> Run:
    return pe_policy(["check", "--format", "json", "--root", str(repo), *args], repo, **kwargs)


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    write(tmp_repo, ".github/workflows/good.yml", GOOD_WORKFLOW)
    return tmp_repo


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the repository, holding what links out of it point at."""
    directory = tmp_path_factory.mktemp("outside")
    write(directory, "secret.yml", OUTSIDE_WORKFLOW)
    write(directory, "Deploy-PE-9.md", OUTSIDE_REPORT)
    write(directory, "evil.tf", 'resource "aws_s3_bucket" "evil" {\n  bucket = "evil"\n}\n')
    return directory


def good_still_checked(run: Run, repo: Path) -> None:
    lines = [f["location"]["line"] for f in run.findings("PE-WF-002", ".github/workflows/good.yml")]
    assert lines == [line_of(repo / ".github/workflows/good.yml", "actions/checkout@v4")]


def nothing_from(run: Run, outside: Path) -> None:
    """No finding anywhere names, or was found in, a file outside the repository."""
    text = json.dumps(run.report["findings"])
    assert "evil/exfiltrate" not in text and str(outside) not in text
    assert not run.findings(path=str(outside / "Deploy-PE-9.md"))


# ------------------------------------------------------------------ symbolic links out


def test_links_out_of_the_root_are_not_followed_by_a_walk(repo: Path, outside: Path) -> None:
    (repo / ".github/workflows/leak.yml").symlink_to(outside / "secret.yml")
    write(repo, "docs/.keep", "")
    (repo / "docs/Deploy-PE-9.md").symlink_to(outside / "Deploy-PE-9.md")  # read to sniff
    (repo / "docs/notes.txt").symlink_to(outside / "secret.yml")  # never read: no problem
    (repo / ".github/workflows/alias.yml").symlink_to("good.yml")  # inside: still checked
    run = check_json(["."], repo)
    assert run.exit_code == 2  # an input was not read, as for any unreadable one
    assert sorted(map(tuple, (e.values() for e in run.report["errors"]))) == [
        (".github/workflows/leak.yml", LINK_OUT_OF_ROOT),
        ("docs/Deploy-PE-9.md", LINK_OUT_OF_ROOT),
    ]
    nothing_from(run, outside)
    good_still_checked(run, repo)


def test_a_link_out_named_on_the_command_line_is_not_read(repo: Path, outside: Path) -> None:
    (repo / ".github/workflows/leak.yml").symlink_to(outside / "secret.yml")
    run = check_json([".github/workflows/leak.yml", ".github/workflows/good.yml"], repo)
    assert run.exit_code == 2
    assert run.report["errors"] == [{"path": ".github/workflows/leak.yml",
                                     "message": LINK_OUT_OF_ROOT}]
    nothing_from(run, outside)
    good_still_checked(run, repo)


def test_a_directory_link_into_another_repository_is_not_walked(repo: Path, outside: Path) -> None:
    """`pe-policy check ci` where the pull request made `ci` a link to another checkout: the
    root stays the repository holding the link (it is not re-inferred from the target)."""
    (outside / ".git").mkdir()
    write(outside, ".github/workflows/ci.yml", OUTSIDE_WORKFLOW)
    (repo / "ci").symlink_to(outside / ".github")
    run = pe_policy(["check", "--format", "json", "ci", ".github/workflows/good.yml"], repo)
    assert run.exit_code == 2
    assert run.report["errors"] == [{"path": "ci", "message": DIRECTORY_LINK_OUT_OF_ROOT}]
    nothing_from(run, outside)
    good_still_checked(run, repo)


def test_terraform_never_reads_a_sibling_linked_out(repo: Path, outside: Path) -> None:
    write(repo, "infra/main.tf", 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    (repo / "infra/evil.tf").symlink_to(outside / "evil.tf")
    run = pe_policy(["parse", "infra/main.tf"], repo)
    assert run.exit_code == 0, run.stderr
    module = json.loads(run.stdout)["input"]["module"]
    assert module["files"] == ["infra/main.tf"]
    assert "evil" not in json.dumps(module)


def test_nothing_outside_the_root_is_read_for_code_frames(repo: Path, outside: Path) -> None:
    """Code frames, inline suppressions and cross-document reads name files relative to the
    root (`inside_root`): a link out, `..` or an absolute path reads nothing."""
    (repo / "leak.yml").symlink_to(outside / "secret.yml")
    (repo / "inner.yml").symlink_to(".github/workflows/good.yml")
    assert inside_root(repo, "leak.yml") is None
    assert inside_root(repo, "inner.yml") == repo / "inner.yml"
    assert link_out_of_root(repo / "leak.yml", repo) and not link_out_of_root(
        repo / "inner.yml", repo)
    lines = SourceLines(repo)
    for path in ("leak.yml", f"../{outside.name}/secret.yml", str(outside / "secret.yml")):
        assert lines.line(path, 1) is None
    assert lines.line("inner.yml", 1) == "name: CI"


# ------------------------------------------------------------------ --output


def special_targets(base: Path) -> dict[str, Path]:
    fifo = base / "fifo.sarif"
    os.mkfifo(fifo)
    directory = base / "reports"
    directory.mkdir()
    targets = {"fifo": fifo, "directory": directory}
    for name, target in [("link-to-fifo", fifo), ("link-to-directory", directory),
                         ("link-to-device", Path("/dev/null"))]:
        link = base / f"{name}.sarif"
        link.symlink_to(target)
        targets[name] = link
    return targets


@pytest.mark.parametrize("kind", ["fifo", "directory", "link-to-fifo", "link-to-directory",
                                  "link-to-device"])
def test_output_to_anything_but_a_file_is_refused_before_the_run(repo: Path, kind: str) -> None:
    target = special_targets(repo)[kind]
    before = os.lstat(target)
    run = pe_policy(["check", "--root", str(repo), "-f", "sarif", "-o", str(target),
                     ".github/workflows/good.yml"], repo)
    assert run.exit_code == 2
    assert f"--output {target}: " in run.stderr and "pe-policy: error:" in run.stderr
    after = os.lstat(target)
    assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before.st_ino, stat.S_IFMT(before.st_mode))
    assert not list(repo.glob(".*.tmp"))


def test_write_baseline_never_replaces_a_fifo(repo: Path) -> None:
    fifo = repo / "baseline.json"
    os.mkfifo(fifo)
    run = pe_policy(["check", "--root", str(repo), "--write-baseline", str(fifo),
                     ".github/workflows/good.yml"], repo)
    assert run.exit_code == 2
    assert f"cannot write {fifo}: not a regular file" in run.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/null", "/dev/stderr", "/proc/self/fd/1"])
def test_device_paths_are_refused_and_dash_is_standard_output(target: str) -> None:
    """Checked without writing: an unfixed pe-policy run as root would replace /dev/stdout."""
    assert output_problem(target) is not None
    with pytest.raises(ReportPlanError, match=f"--output {target}: a device or system path"):
        plan_reports([("format_", "sarif"), ("output", target)])
    with pytest.raises(ReportPlanError, match=f"--output {target}: "):
        plan_reports([("format_", "json"), ("output", "-"), ("format_", "sarif"),
                      ("output", target)])
    assert plan_reports([("format_", "json"), ("output", "-")]) == [("json", "-")]
    assert plan_reports([("format_", "json"), ("output", "-"), ("format_", "sarif"),
                         ("output", "out.sarif")]) == [("json", None), ("sarif", "out.sarif")]


def test_write_atomic_checks_again_before_the_rename(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A target swapped for a FIFO while the report was being written is not replaced."""
    target = tmp_path / "out.sarif"
    target.write_text("old", encoding="utf-8")
    real_fsync = os.fsync

    def swap(fd: int) -> None:
        real_fsync(fd)
        target.unlink()
        os.mkfifo(target)

    monkeypatch.setattr(os, "fsync", swap)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(target, "new")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sarif"]


def test_a_link_to_a_regular_file_and_a_new_path_are_written(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")  # as before: the link is replaced, its target left alone
    write_atomic(tmp_path / "sub" / "new.json", "new")
    assert link.read_text(encoding="utf-8") == "new" and not link.is_symlink()
    assert real.read_text(encoding="utf-8") == "old"
    assert (tmp_path / "sub" / "new.json").read_text(encoding="utf-8") == "new"


# ------------------------------------------------------------------ bounded memory

BUDGET_MB = 500
_VM_PEAK = """\
import sys
from pe_policy.cli import main
sys.argv = ["pe-policy", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
with open("/proc/self/status", encoding="ascii") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmPeak:"))
sys.stderr.write(f"VMPEAK {peak * 1024}\\n")
"""


@pytest.fixture(scope="module")
def address_space_cap(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The address space of a run on harmless files, plus the 500 MB budget."""
    clean = tmp_path_factory.mktemp("clean")
    (clean / ".git").mkdir()
    write(clean, ".github/workflows/good.yml", GOOD_WORKFLOW)
    write(clean, "Deploy-PE-1.md", OUTSIDE_REPORT + "\n## Deployment Timeline\n| Time | Action "
          "| Status |\n|---|---|---|\n| 12:00 | deploy | PASS |\n")
    run = pe_policy(["check", "--format", "json", "--root", str(clean), "."], clean,
                    python=["-c", _VM_PEAK])
    peak = int(run.stderr.rsplit("VMPEAK ", 1)[1].split()[0])
    return peak + BUDGET_MB * 1024 * 1024


def hostile_report_with_a_table(size: int) -> str:
    """A deployment report whose timeline is a table of one-character cells."""
    columns = 50
    head = OUTSIDE_REPORT + "\n## Deployment Timeline\n| Time | Action | Status |" + "".join(
        f" c{i} |" for i in range(columns - 3)) + "\n|" + "---|" * columns + "\n"
    row = "|a" * columns + "|\n"
    return head + row * ((size - len(head)) // len(row))


def aliases_of_a_long_string(size: int) -> str:
    """1 MB of YAML: one long string, then aliases repeating it (50 GB of text expanded)."""
    anchor = "x" * (size // 2)
    aliases = ", ".join(["*a"] * ((size - len(anchor)) // 4))
    return (f"name: bomb\non: push\nenv:\n  A: &a {anchor}\n  B: [{aliases}]\njobs:\n  a:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n")


MB = 1024 * 1024


@pytest.mark.parametrize(("rel", "make", "limit"), [
    ("reports/Deploy-PE-1.md", lambda: hostile_report_with_a_table(10 * MB),
     f"more than {MAX_TABLE_CELLS:,} cells"),
    ("reports/Deploy-PE-2.md", lambda: OUTSIDE_REPORT + "*a* " * (10 * MB // 4),
     f"more than {MAX_ELEMENTS:,} elements"),
    ("reports/Deploy-PE-3.md", lambda: OUTSIDE_REPORT + "\n" * (10 * MB),
     f"more than {MAX_LINES:,} lines"),
    (".github/workflows/bomb.yml", lambda: aliases_of_a_long_string(MB),
     f"more than {MAX_NODES:,} nodes"),
    ("infra/main.tf", lambda: "locals {\n  a = [" + ",".join(["1"] * (5 * MB)) + "]\n}\n",
     f"more than {MAX_HCL_TOKENS:,} tokens"),
    ("db/0001_seed.up.sql", lambda: "SELECT 1;\n" * MB, f"more than {MAX_STATEMENTS:,} statements"),
], ids=["10MB-report-table", "10MB-report-inline", "10MB-report-lines", "1MB-yaml-aliases",
        "10MB-terraform", "10MB-sql-migration"])
def test_expansion_is_refused_in_bounded_memory(repo: Path, address_space_cap: int, rel: str,
                                                make: Any, limit: str) -> None:
    write(repo, rel, make())
    run = check_json(["."], repo, address_space=address_space_cap)
    assert run.exit_code == 2
    errors = run.findings("PE-PARSE", rel)
    assert len(errors) == 1 and limit in errors[0]["message"], errors
    assert run.findings("PE-PARSE") == errors  # nothing else ran out of memory
    good_still_checked(run, repo)
    assert run.peak_mb < BUDGET_MB, f"peaked at {run.peak_mb:.0f} MB"


# ------------------------------------------------------------------ killed runs

# Run the command in a fresh interpreter whose os.<hook> stops the process (SIGSTOP) when it
# is about the report's directory, so the test can kill it (SIGKILL) at that exact point.
STOPPER = """\
import os, signal, sys
_real = getattr(os, {hook!r})
def _about(arg):
    where = os.readlink(f"/proc/self/fd/{{arg}}") if isinstance(arg, int) else os.fspath(arg)
    return os.path.abspath(where).startswith({directory!r} + "/")
def _stop(*args, **kwargs):
    if _about(args[-1]):
        os.kill(os.getpid(), signal.SIGSTOP)
    return _real(*args, **kwargs)
setattr(os, {hook!r}, _stop)
from pe_policy.cli import main
sys.argv = ["pe-policy", *sys.argv[1:]]
main()
"""
# ... or records what the directory holds when the first file is put in place
RECORDER = """\
import os, sys
_real = os.replace
def _replace(src, dst):
    with open({log!r}, "a", encoding="utf-8") as fh:
        fh.write(repr(sorted(os.listdir(os.path.dirname(os.path.abspath(dst))))) + "\\n")
    return _real(src, dst)
os.replace = _replace
from pe_policy.cli import main
sys.argv = ["pe-policy", *sys.argv[1:]]
main()
"""


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def kill_while_writing(hook: str, directory: Path, args: list[str], cwd: Path) -> None:
    """Start pe-policy, let it stop itself in os.<hook> while writing into `directory`, then
    SIGKILL it."""
    code = STOPPER.format(hook=hook, directory=str(directory))
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG | os.WUNTRACED)
        if pid and os.WIFSTOPPED(status):
            break
        assert not pid, f"pe-policy ended before writing: {proc.stderr.read()!r}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "pe-policy never got to writing its report"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    os.waitpid(proc.pid, 0)
    proc.returncode = -signal.SIGKILL
    proc.stderr.close()  # type: ignore[union-attr]


def older_than_the_next_run(directory: Path) -> None:
    """Let the clock move past what the killed run left (the next run starts after it)."""
    newest = max((p.stat().st_mtime for p in directory.iterdir()), default=0.0)
    while time.time() < newest + 1.1:
        time.sleep(0.05)


@pytest.mark.parametrize("hook", ["fsync", "replace"],
                         ids=["killed-mid-write", "killed-before-rename"])
def test_a_killed_run_leaves_nothing_the_next_run_keeps(repo: Path, hook: str) -> None:
    out = repo / "out" / "report.sarif"
    baseline = repo / "out" / "baseline.json"
    out.parent.mkdir()
    out.write_text('{"previous": "run"}\n', encoding="utf-8")
    args = ["check", "--root", str(repo), "-f", "sarif", "-o", str(out),
            ".github/workflows/good.yml"]
    kill_while_writing(hook, out.parent, args, repo)
    assert json.loads(out.read_text(encoding="utf-8")) == {"previous": "run"}
    left = temporaries(out.parent)
    # killed mid-write, the report has no name yet where O_TMPFILE works; before the rename
    # it has one; either way only a name of pe-policy's own
    assert all(name.startswith(".report.sarif.pe-policy-") for name in left), left
    if hook == "replace":
        assert len(left) == 1
    older_than_the_next_run(out.parent)
    log = repo / "replace.log"
    # the next run writes a baseline first: it must not land beside the stale report
    proc = subprocess.run([sys.executable, "-c", RECORDER.format(log=str(log)), *args,
                           "--write-baseline", str(baseline)], cwd=repo, capture_output=True,
                          text=True, timeout=WAIT_SECONDS)
    assert proc.returncode == 0, proc.stderr
    first_landing = ast.literal_eval(log.read_text(encoding="utf-8").splitlines()[0])
    assert [name for name in first_landing if name in left] == []
    assert temporaries(out.parent) == []
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert json.loads(baseline.read_text(encoding="utf-8"))


def test_a_live_writers_file_and_other_tools_files_are_left_alone(tmp_path: Path) -> None:
    import fcntl

    stale = tmp_path / ".a.json.pe-policy-0123456789abcdef.tmp"
    live = tmp_path / ".b.json.pe-policy-fedcba9876543210.tmp"
    foreign = tmp_path / ".c.json.k2j3h4l5.tmp"  # mkstemp's: not ours to judge
    new = tmp_path / ".d.json.pe-policy-00112233445566ff.tmp"  # written during this run
    for path in (stale, live, foreign, new):
        path.write_text("{", encoding="utf-8")
    for path in (stale, live, foreign):
        os.utime(path, (time.time() - 864_000, time.time() - 864_000))  # before any run
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # its writer is still at work
        assert remove_stale_temporaries(tmp_path) == [stale.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (live, foreign, new))


def test_temporary_files_are_recognisable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the kernel offers no unnamed files, the named one is ours by its name."""
    import pe_policy.output as output

    monkeypatch.setattr(output, "_open_unnamed", lambda directory: None)
    seen: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        seen.extend(p.name for p in tmp_path.iterdir())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_atomic(tmp_path / "out.sarif", "{}")
    assert len(seen) == 1 and seen[0].startswith(".out.sarif.pe-policy-"), seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sarif"]


def test_nothing_is_written_for_a_run_that_only_prints(repo: Path) -> None:
    run = pe_policy(["check", "--root", str(repo), "-f", "json", "-o", "-",
                     ".github/workflows/good.yml"], repo)
    assert run.exit_code == 1 and json.loads(run.stdout)["findings"]
    assert sorted(p.name for p in repo.iterdir()) == [".git", ".github"]
