"""Hostile and broken input: each file gets a clear error naming it, fast and in bounded memory,
and every other file is still checked.

Most cases run the real CLI in its own process (`bounded_cli`), measuring its CPU time and the
peak memory of it and its workers with `os.wait4`; the process also runs under an address-space
limit so a regression fails the test instead of swapping the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pe_policy.config import resolve_config
from pe_policy.discover import LINK_OUT_OF_ROOT, discover
from pe_policy.findings import ParseError
from pe_policy.pipeline import check
from pe_policy.runner import Limits
from tests.conftest import line_of, load_candidates
from tests.userland import write
from tests.workflow_text import GOOD_WORKFLOW

BUDGET_CPU_SECONDS = 5.0  # the work itself (user + system time of the run and its workers)
BUDGET_WALL_SECONDS = 60.0  # a hang detector; the machine is shared, so wall time varies
BUDGET_PEAK_MB = 500.0
ADDRESS_SPACE_CAP = 3 * 1024**3  # a runaway test fails here instead of taking the machine down


@dataclass
class Bounded:
    exit_code: int
    report: dict  # type: ignore[type-arg]
    stderr: str
    cpu: float
    wall: float
    peak_mb: float

    def findings(self, rule_id: str | None = None, path: str | None = None) -> list[dict]:  # type: ignore[type-arg]
        return [f for f in self.report.get("findings", [])
                if (rule_id is None or f["rule_id"] == rule_id)
                and (path is None or f["location"]["path"] == path)]


# The measured process is started by this small launcher, not by pytest: a child forked
# from pytest carries pytest's resident memory into its peak (ru_maxrss counts the pages a
# fork inherits), so the budget would measure the test session, not pe-policy.  The launcher
# (a bare interpreter, about 10 MB) caps the address space, runs the command and writes its
# exit status and usage, which cover the workers it reaped, to a file.
_LAUNCHER = """
import json, os, resource, sys
cap, report, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.execv(command[0], command)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    json.dump({"exit": os.waitstatus_to_exitcode(status),
               "cpu": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss}, out)
"""


def bounded_cli(args: list[str], cwd: Path, *, prefix: list[str] | None = None) -> Bounded:
    """`pe-policy check --format json ARGS` in its own process, with time and memory measured."""
    cmd = [*(prefix or []), sys.executable, "-m", "pe_policy", "check", "--format", "json",
           "--root", str(cwd), *args]
    if not os.path.isabs(cmd[0]):
        cmd[0] = shutil.which(cmd[0]) or cmd[0]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("RUST_BACKTRACE", None)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as scratch:
        usage_file = Path(scratch, "usage.json")
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(ADDRESS_SPACE_CAP),
                                 str(usage_file), *cmd],
                                cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            proc.wait(timeout=BUDGET_WALL_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            pytest.fail(f"pe-policy {' '.join(args)} still running after "
                        f"{BUDGET_WALL_SECONDS:.0f} s")
        wall = time.monotonic() - start
        usage = json.loads(usage_file.read_text())
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    assert "Traceback" not in stderr, stderr
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON report (exit {usage['exit']}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    result = Bounded(usage["exit"], report, stderr, usage["cpu"], wall, usage["peak_kb"] / 1024)
    assert result.cpu < BUDGET_CPU_SECONDS, f"took {result.cpu:.1f} s of CPU"
    assert result.peak_mb < BUDGET_PEAK_MB, f"peaked at {result.peak_mb:.0f} MB"
    return result


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    """A repository whose good workflow has one known finding (an unpinned action)."""
    write(tmp_repo, ".github/workflows/good.yml", GOOD_WORKFLOW)
    return tmp_repo


def assert_good_still_checked(result: Bounded, repo: Path) -> None:
    """The innocent file beside the hostile one still got its finding."""
    good = repo / ".github/workflows/good.yml"
    lines = [f["location"]["line"] for f in result.findings("PE-WF-002", ".github/workflows/good.yml")]
    assert lines == [line_of(good, "actions/checkout@v4")]


def parse_error(result: Bounded, path: str) -> dict:  # type: ignore[type-arg]
    errors = result.findings("PE-PARSE", path)
    assert len(errors) == 1, result.report["findings"]
    assert result.exit_code == 2
    return errors[0]


# --------------------------------------------------------------------------- YAML and JSON


def test_yaml_alias_bomb_is_refused_quickly(repo: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    bomb = "name: bomb\non: push\n" + "\n".join(lines) + "\njobs: {}\n"
    path = write(repo, ".github/workflows/bomb.yml", bomb)
    result = bounded_cli(["."], repo)
    error = parse_error(result, ".github/workflows/bomb.yml")
    assert "alias bomb" in error["message"]
    assert error["location"]["line"] >= line_of(path, "a1: &a1")
    assert_good_still_checked(result, repo)


@pytest.mark.parametrize(("rel", "content"), [
    (".github/workflows/deep.yml", "[" * 100_000 + "]" * 100_000),
    (".github/workflows/deep-map.yml", "a: " + "{a: " * 100_000 + "1" + "}" * 100_000),
    ("infra/tfplan.json", '{"format_version": "1.2", "resource_changes": '
                          + "[" * 100_000 + "]" * 100_000 + "}"),
    ("reports/scan.sarif", '{"version": "2.1.0", "runs": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    # front matter: kept under the 8 KB that kind detection reads, so it is found by content
    ("deployments/Deploy-PE-1.md", '---\nunit_id: "PE-1"\nstatus: success\nx: ' + "[" * 3000
     + "]" * 3000 + "\n---\n# Deployment Report — PE-1\n"),
])
def test_deep_nesting_is_an_error_not_a_crash(repo: Path, rel: str, content: str) -> None:
    write(repo, rel, content)
    result = bounded_cli(["."], repo)
    error = parse_error(result, rel)
    assert "nest" in error["message"] or "deep" in error["message"], error
    assert_good_still_checked(result, repo)


@pytest.mark.parametrize("rel", ["coverage.json", "reports/scan.sarif", "infra/main.tf.json"])
def test_a_number_longer_than_python_converts_is_invalid_json(repo: Path, rel: str) -> None:
    """`json` refuses an integer of more than 4,300 digits with a ValueError that is not a
    JSONDecodeError: every JSON loader reports it as invalid JSON (generic.parse_json_text)."""
    write(repo, rel, '{"version": ' + "1" * 5000 + "}")
    result = bounded_cli(["."], repo)
    error = parse_error(result, rel)
    assert error["message"].startswith("invalid JSON: Exceeds the limit"), error
    assert_good_still_checked(result, repo)


def test_nesting_the_rego_engine_refuses_is_reported(repo: Path) -> None:
    """regorus (serde_json) stops at 128 levels; the YAML reader allows more."""
    deep = "[" * 200 + "1" + "]" * 200
    write(repo, ".github/workflows/nested-env.yml",
          GOOD_WORKFLOW.replace("permissions:", f"env:\n  DATA: {json.dumps(deep)}\n  X: {deep}\n"
                                "permissions:"))
    result = bounded_cli(["."], repo)
    error = parse_error(result, ".github/workflows/nested-env.yml")
    assert "Rego engine cannot read" in error["message"] or "nest" in error["message"]
    assert_good_still_checked(result, repo)


# --------------------------------------------------------------------------- bytes and sizes


def test_file_over_the_default_size_limit(repo: Path) -> None:
    big = repo / "infra" / "tfplan.json"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as fh:  # sparse: 100 MB + 1 byte on disk costs nothing
        fh.truncate(100 * 1024 * 1024 + 1)
    result = bounded_cli(["."], repo)
    error = parse_error(result, "infra/tfplan.json")
    assert "104,857,601 bytes" in error["message"] and "limit" in error["message"]
    assert_good_still_checked(result, repo)


def test_max_file_bytes_option(repo: Path) -> None:
    write(repo, ".github/workflows/large.yml", GOOD_WORKFLOW + "#" * 4000 + "\n")
    result = bounded_cli([".", "--max-file-bytes", "2000"], repo)
    error = parse_error(result, ".github/workflows/large.yml")
    assert "2,000-byte limit" in error["message"] and "--max-file-bytes" in error["message"]
    assert_good_still_checked(result, repo)


def test_invalid_utf8_names_the_line_and_column(repo: Path) -> None:
    write(repo, ".github/workflows/latin1.yml", GOOD_WORKFLOW.encode() + b"# caf\xe9\n")
    result = bounded_cli(["."], repo)
    error = parse_error(result, ".github/workflows/latin1.yml")
    assert "not valid UTF-8" in error["message"]
    assert error["location"]["line"] == GOOD_WORKFLOW.count("\n") + 1
    assert error["location"]["column"] == len("# caf") + 1
    assert_good_still_checked(result, repo)


def test_nul_bytes_are_binary(repo: Path) -> None:
    write(repo, ".github/workflows/binary.yml", b"name: x\non: push\n\x00\x01\x02jobs: {}\n")
    result = bounded_cli(["."], repo)
    error = parse_error(result, ".github/workflows/binary.yml")
    assert "NUL" in error["message"] and error["location"]["line"] == 3
    assert_good_still_checked(result, repo)


# --------------------------------------------------------------------------- the file system


def test_file_that_vanishes_or_changes_kind_mid_run(repo: Path) -> None:
    gone = write(repo, ".github/workflows/gone.yml", GOOD_WORKFLOW)
    swapped = write(repo, ".github/workflows/swapped.yml", GOOD_WORKFLOW)
    candidates, _problems = discover([repo], repo)
    gone.unlink()  # removed between discovery and reading
    swapped.unlink()
    os.mkfifo(swapped)  # replaced by a FIFO: reading must not block
    documents, errors = load_candidates(candidates, repo)
    messages = {e.location.path: e.message for e in errors}
    assert "file not found" in messages[".github/workflows/gone.yml"]
    assert "not a regular file" in messages[".github/workflows/swapped.yml"]
    assert [d.path for d in documents] == [".github/workflows/good.yml"]


def test_unreadable_file(repo: Path) -> None:
    write(repo, ".github/workflows/secret.yml", GOOD_WORKFLOW).chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without util-linux's setpriv")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    result = bounded_cli(["."], repo, prefix=prefix)
    error = parse_error(result, ".github/workflows/secret.yml")
    assert "permission denied" in error["message"]
    assert_good_still_checked(result, repo)


def test_symlink_loops(repo: Path) -> None:
    loop = repo / ".github/workflows/loop.yml"
    loop.symlink_to("loop.yml")
    (repo / "infra").mkdir()
    (repo / "infra" / "again").symlink_to("..")  # a directory loop: the walk must not follow it
    result = bounded_cli(["."], repo)
    error = parse_error(result, ".github/workflows/loop.yml")
    assert "symbolic link loop" in error["message"]
    assert_good_still_checked(result, repo)


def test_fifo_and_device_paths(repo: Path) -> None:
    os.mkfifo(repo / ".github/workflows/fifo.yml")
    os.mkfifo(repo / "pipe.json")  # sniffed by content: must not block either
    (repo / ".github/workflows/zero.yml").symlink_to("/dev/zero")  # a link out: never opened
    result = bounded_cli(["."], repo)
    assert "not a regular file" in result.findings("PE-PARSE", ".github/workflows/fifo.yml")[0][
        "message"]
    assert {"path": ".github/workflows/zero.yml", "message": LINK_OUT_OF_ROOT} in result.report[
        "errors"]
    assert_good_still_checked(result, repo)
    direct = bounded_cli(["--kind", "workflow", "/dev/zero", ".github/workflows/good.yml"], repo)
    assert "not a regular file" in direct.findings("PE-PARSE", "/dev/zero")[0]["message"]
    assert_good_still_checked(direct, repo)


# --------------------------------------------------------------------------- hostile policies

POLICY_HEADER = """\
# METADATA
# title: {title}
# custom:
#   id: {rule_id}
#   severity: high
#   kinds: [workflow]
package acme.{package}

import rego.v1

"""


def user_policy(repo: Path, package: str, rule_id: str, body: str) -> Path:
    path = write(repo, f"policies/{package}.rego",
                 POLICY_HEADER.format(title=f"{package} check", rule_id=rule_id,
                                      package=package) + body)
    config = repo / ".pe-policy.yaml"
    if not config.exists():
        config.write_text("policies: [policies]\n", encoding="utf-8")
    return path


NAMED_JOB = 'deny contains {"msg": sprintf("job %s", [id]), "path": ["jobs", id]} if {\n' \
            "\tsome id, _ in input.jobs\n}\n"


def test_rego_syntax_error_is_named_and_other_policies_still_run(repo: Path) -> None:
    broken = user_policy(repo, "broken", "ACME-001", "deny contains msg if {\n\tmsg := \n}\n")
    user_policy(repo, "fine", "ACME-002", NAMED_JOB)
    result = bounded_cli(["."], repo)
    assert result.exit_code == 2
    error = next(e for e in result.report["errors"] if "broken.rego" in e["path"])
    line = line_of(broken, "msg := ")
    assert f"broken.rego:{line}:" in error["message"], error
    assert [f["message"] for f in result.findings("ACME-002")] == ["job lint"]
    assert_good_still_checked(result, repo)


RUNAWAY = 'deny contains "never" if {\n' \
          "\tcount([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) < 0\n}\n"
EXPLODING = 'deny contains "huge" if {\n\tcount(numbers.range(1, 1000000000)) < 0\n}\n'


def test_runaway_rego_rule_hits_the_deadline_and_is_named(repo: Path) -> None:
    user_policy(repo, "runaway", "ACME-010", RUNAWAY)
    user_policy(repo, "fine", "ACME-002", NAMED_JOB)
    result = bounded_cli([".", "--eval-timeout", "1.5"], repo)
    errors = result.findings("PE-RULE-ERROR", ".github/workflows/good.yml")
    assert len(errors) == 1 and "ACME-010" in errors[0]["message"]
    assert "deadline of 1.5 s" in errors[0]["message"]
    assert [f["message"] for f in result.findings("ACME-002")] == ["job lint"]
    assert_good_still_checked(result, repo)
    assert result.wall < 15


def test_rego_rule_that_explodes_in_memory_is_stopped(repo: Path) -> None:
    user_policy(repo, "exploding", "ACME-011", EXPLODING)
    result = bounded_cli([".", "--eval-memory", "200"], repo)
    errors = result.findings("PE-RULE-ERROR", ".github/workflows/good.yml")
    assert len(errors) == 1 and "ACME-011" in errors[0]["message"]
    assert "memory" in errors[0]["message"]
    assert "memory allocation" not in result.stderr  # the engine's abort noise is not echoed
    assert_good_still_checked(result, repo)


PY_RULES = '''\
import sys
import tempfile

from pe_policy.engine.python_rules import rule


@rule("ACME-020", severity="high", kinds=["workflow"], title="Raises")
def raises(doc, ctx):
    raise KeyError("jobs")
    yield


@rule("ACME-021", severity="high", kinds=["workflow"], title="Exits")
def exits(doc, ctx):
    sys.exit(3)
    yield


@rule("ACME-022", severity="low", kinds=["workflow"], title="Fine")
def fine(doc, ctx):
    yield "checked by a Python rule"
'''

PY_LOOP = '''\
from pe_policy.engine.python_rules import rule


@rule("ACME-023", severity="high", kinds=["workflow"], title="Never returns")
def never(doc, ctx):
    while True:
        pass
    yield
'''


@pytest.mark.parametrize("isolated", [True, False], ids=["worker", "in-process"])
def test_python_rule_that_raises_or_exits(repo: Path, isolated: bool) -> None:
    write(repo, "policies/acme_rules.py", PY_RULES)
    write(repo, ".pe-policy.yaml", "policies: [policies]\npython_rules: true\n")
    args = ["."] if isolated else [".", "--eval-timeout", "0", "--eval-memory", "0"]
    result = bounded_cli(args, repo)
    errors = {f["properties"]["failed_rule"]: f["message"]
              for f in result.findings("PE-RULE-ERROR", ".github/workflows/good.yml")}
    assert "KeyError" in errors["ACME-020"] and "SystemExit" in errors["ACME-021"]
    assert [f["message"] for f in result.findings("ACME-022")] == ["checked by a Python rule"]
    assert_good_still_checked(result, repo)


def test_python_rule_that_never_returns_hits_the_deadline(repo: Path) -> None:
    write(repo, "policies/acme_loop.py", PY_LOOP)
    write(repo, ".pe-policy.yaml", "policies: [policies]\npython_rules: true\n")
    result = bounded_cli([".", "--eval-timeout", "1"], repo)
    errors = result.findings("PE-RULE-ERROR", ".github/workflows/good.yml")
    assert len(errors) == 1 and "ACME-023" in errors[0]["message"]
    assert_good_still_checked(result, repo)


def test_stopped_worker_leaves_every_other_document_checked(repo: Path) -> None:
    """The deadline is per document: the runaway rule is stopped on each, the rest all run."""
    for n in range(3):
        write(repo, f".github/workflows/copy{n}.yml", GOOD_WORKFLOW)
    user_policy(repo, "runaway", "ACME-010", RUNAWAY)
    root = repo.resolve()
    result = check([root], root, config=resolve_config(root),
                   limits=Limits(timeout=0.5, memory_mb=512))
    paths = sorted(f.location.path for f in result.findings if f.rule_id == "PE-RULE-ERROR")
    assert paths == [f".github/workflows/{n}.yml" for n in ("copy0", "copy1", "copy2", "good")]
    pinned = sorted(f.location.path for f in result.findings if f.rule_id == "PE-WF-002")
    assert pinned == paths


def test_no_traceback_for_a_missing_loader() -> None:
    """A kind whose loader module is missing (a broken install) is a PE-PARSE, not a crash."""
    from pe_policy import loaders

    loaders.LOADER_MODULES["bogus_kind"] = "does_not_exist"
    try:
        with pytest.raises(ParseError, match="could not load as bogus_kind"):
            loaders.load_text("x: 1\n", "x.yml", "bogus_kind")
    finally:
        del loaders.LOADER_MODULES["bogus_kind"]


# --------------------------------------------------------------------------- in a big run

def test_every_hostile_file_in_a_big_run_loaded_by_the_lanes(repo: Path) -> None:
    """A run big enough for the evaluation workers to load the files themselves: each hostile
    file is still one PE-PARSE naming it, and every innocent workflow is still checked."""
    from pe_policy.runner import lane_count

    for n in range(90):
        write(repo, f".github/workflows/copy-{n:02d}.yml", GOOD_WORKFLOW)
    bomb = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    write(repo, ".github/workflows/bomb.yml", "name: bomb\non: push\n" + "\n".join(bomb) + "\n")
    write(repo, ".github/workflows/deep.yml", "[" * 100_000 + "]" * 100_000)
    write(repo, ".github/workflows/latin1.yml", GOOD_WORKFLOW.encode() + b"# caf\xe9\n")
    write(repo, ".github/workflows/binary.yml", b"name: x\non: push\n\x00\x01jobs: {}\n")
    (repo / ".github/workflows/loop.yml").symlink_to("loop.yml")
    os.mkfifo(repo / ".github/workflows/fifo.yml")
    (repo / ".github/workflows/zero.yml").symlink_to("/dev/zero")
    with open(write(repo, "infra/tfplan.json", b""), "wb") as fh:
        fh.truncate(100 * 1024 * 1024 + 1)
    expected = {
        ".github/workflows/bomb.yml": "alias bomb",
        ".github/workflows/deep.yml": "nest",
        ".github/workflows/latin1.yml": "not valid UTF-8",
        ".github/workflows/binary.yml": "NUL",
        ".github/workflows/loop.yml": "symbolic link loop",
        ".github/workflows/fifo.yml": "not a regular file",
        "infra/tfplan.json": "limit",
    }
    if lane_count(91 + len(expected)) < 2:
        pytest.skip("one core: a big run is not split into lanes here")
    result = bounded_cli(["."], repo)
    assert result.exit_code == 2
    assert result.report["errors"] == [{"path": ".github/workflows/zero.yml",
                                        "message": LINK_OUT_OF_ROOT}]  # never opened
    for path, words in expected.items():
        errors = result.findings("PE-PARSE", path)
        assert len(errors) == 1 and words in errors[0]["message"], (path, errors)
    assert {f["location"]["path"] for f in result.findings("PE-PARSE")} == set(expected)
    pinned = {f["location"]["path"] for f in result.findings("PE-WF-002")}
    assert pinned == {".github/workflows/good.yml"} | {
        f".github/workflows/copy-{n:02d}.yml" for n in range(90)}
