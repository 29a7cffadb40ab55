"""A repository's Python rules are opt-in, and run isolated: hostile rule files, real processes.

Each hostile rule tries one thing a pull request's rule file might: run `id`, write a file,
end the run with `os._exit(0)` (at import, where no rule is running yet), start a thread,
connect to a listener on 127.0.0.1, start a process, call libc's `system` through ctypes,
read /etc/passwd, read an environment variable.  Without opt-in none of it runs (the files
are never even read); with it, each is a PE-RULE-ERROR for its rule, and the run still
reports the critical finding of the built-in pack and exits non-zero.  The rules that first
switch the audit hook off show the operating system refuses the same without it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pe_policy import isolation
from pe_policy.engine.lazy_rules import python_rules_from
from pe_policy.engine.pack import load_ruleset
from tests.conftest import FIXTURES

PWN_REQUEST = FIXTURES / "workflow/bad/.github/workflows/pwn-request.yml"
CANARY_NAME = "PE_ISOLATION_CANARY"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the isolation under test is Linux's")

HEADER = """\
import ctypes
import os
import signal
import socket
import subprocess
import threading

from pe_policy.engine.python_rules import rule

MARKERS = {markers!r}
PORT = {port}


def marker(name):
    return os.path.join(MARKERS, name)


def conn():
    # the worker's connection to the main process, from a caller's frame
    import sys

    frame = sys._getframe()
    while frame is not None:
        if "conn" in frame.f_locals and hasattr(frame.f_locals["conn"], "send_bytes"):
            return frame.f_locals["conn"]
        frame = frame.f_back
    raise LookupError("no connection")
"""

# file name -> source (after HEADER); each rule's ID is HOSTILE-<n>
HOSTILE = {
    "top_id.py": '''
subprocess.run(["sh", "-c", "id > " + marker("top_id")], check=False)


@rule("HOSTILE-101", severity="low", kinds=["workflow"], title="Runs id at import")
def top_id(doc, ctx):
    yield "imported"
''',
    "top_write.py": '''
with open(marker("top_write"), "w") as fh:
    fh.write("written at import")


@rule("HOSTILE-102", severity="low", kinds=["workflow"], title="Writes at import")
def top_write(doc, ctx):
    yield "imported"
''',
    "top_exit.py": '''
os._exit(0)


@rule("HOSTILE-103", severity="low", kinds=["workflow"], title="Exits at import")
def top_exit(doc, ctx):
    yield "imported"
''',
    "thread.py": '''
def _behind_its_back():
    with open(marker("thread"), "w") as fh:
        fh.write(os.environ.get("PE_ISOLATION_CANARY", "no canary"))


@rule("HOSTILE-104", severity="low", kinds=["workflow"], title="Starts a thread")
def thread(doc, ctx):
    worker = threading.Thread(target=_behind_its_back)
    worker.start()
    worker.join()
    yield "a thread ran"
''',
    "network.py": '''
@rule("HOSTILE-105", severity="low", kinds=["workflow"], title="Connects")
def network(doc, ctx):
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as conn:
        conn.sendall(b"hello from a rule")
    yield "connected"
''',
    "process.py": '''
@rule("HOSTILE-106", severity="low", kinds=["workflow"], title="Starts a process")
def process(doc, ctx):
    subprocess.run(["sh", "-c", "id > " + marker("process")], check=False)
    yield "ran a process"
''',
    "native.py": '''
@rule("HOSTILE-107", severity="low", kinds=["workflow"], title="Calls libc system")
def native(doc, ctx):
    libc = ctypes.CDLL(None)
    libc.system(("id > " + marker("native")).encode())
    yield "called system"
''',
    "passwd.py": '''
@rule("HOSTILE-108", severity="low", kinds=["workflow"], title="Reads /etc/passwd")
def passwd(doc, ctx):
    with open("/etc/passwd", encoding="utf-8") as fh:
        yield fh.read()
''',
    "environ.py": '''
@rule("HOSTILE-109", severity="low", kinds=["workflow"], title="Reads the environment")
def environ(doc, ctx):
    value = os.environ["PE_ISOLATION_CANARY"]
    yield value
''',
    "proc_environ.py": '''
@rule("HOSTILE-110", severity="low", kinds=["workflow"], title="Reads its parent's environment")
def proc_environ(doc, ctx):
    with open(f"/proc/{os.getppid()}/environ", "rb") as fh:
        yield fh.read().decode("utf-8", "replace")
''',
}

# With the audit hook switched off first: only the operating system stands in the way.
# Each attempt's outcome is a finding message; nothing may succeed.
BYPASS = '''
import pe_policy.engine.guard as guard


def attempts(doc, ctx):
    guard._state.depth = 0  # the hook only acts at depth > 0: a rule can switch it off
    ppid = os.getppid()

    def write():
        with open(marker("bypass_write"), "w") as fh:
            fh.write("x")

    def connect():
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as conn:
            conn.sendall(os.environ.get("PE_ISOLATION_CANARY", "no canary").encode())

    def unix_socket():
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def process():
        subprocess.run(["sh", "-c", "id > " + marker("bypass_process")], check=False)

    def native():
        status = ctypes.CDLL(None).system(("id > " + marker("bypass_native")).encode())
        raise OSError(f"system() returned {status}")

    def thread():
        threading.Thread(target=write).start()

    def read_passwd():
        with open("/etc/passwd", encoding="utf-8") as fh:
            return fh.read()

    def read_environ():
        value = os.environ.get("PE_ISOLATION_CANARY")
        if value is None:
            raise KeyError("PE_ISOLATION_CANARY")
        return value

    def read_own_environ_block():
        with open("/proc/self/environ", "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def read_parent_environ():
        with open(f"/proc/{ppid}/environ", "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def kill_parent():
        os.kill(ppid, signal.SIGKILL)

    def kill_group():
        os.kill(0, signal.SIGKILL)

    def git_config():
        with open(os.path.join(str(ctx.repo_root), ".git", "config"), encoding="utf-8") as fh:
            return fh.read()

    for name, attempt in [("write", write), ("connect", connect), ("unix_socket", unix_socket),
                          ("process", process), ("native", native), ("thread", thread),
                          ("read_passwd", read_passwd), ("read_environ", read_environ),
                          ("read_own_environ_block", read_own_environ_block),
                          ("read_parent_environ", read_parent_environ),
                          ("kill_parent", kill_parent), ("kill_group", kill_group),
                          ("git_config", git_config)]:
        try:
            got = attempt()
        except Exception as exc:
            yield f"{name}: refused ({type(exc).__name__})"
        else:
            yield f"{name}: SUCCEEDED {got!r}"


@rule("HOSTILE-120", severity="low", kinds=["workflow"], title="Without the audit hook")
def bypass(doc, ctx):
    yield from attempts(doc, ctx)
'''

ATTEMPTS = ["write", "connect", "unix_socket", "process", "native", "thread", "read_passwd",
            "read_environ", "read_own_environ_block", "read_parent_environ", "kill_parent",
            "kill_group", "git_config"]


def make_repo(tmp_path: Path, port: int, rule_files: dict[str, str], config: str = "") -> Path:
    """A repository with a critical built-in finding (PE-WF-007) and these rule files."""
    repo = tmp_path / "repo"
    markers = tmp_path / "markers"
    markers.mkdir()
    (repo / ".git").mkdir(parents=True)
    (repo / ".git/config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n",
                                      encoding="utf-8")
    workflows = repo / ".github/workflows"
    workflows.mkdir(parents=True)
    shutil.copy(PWN_REQUEST, workflows / "pwn-request.yml")
    header = HEADER.format(markers=str(markers), port=port)
    policies = repo / "policies"
    policies.mkdir()
    for name, body in rule_files.items():
        (policies / name).write_text(header + textwrap.dedent(body), encoding="utf-8")
    (repo / ".pe-policy.yaml").write_text("policies: [policies]\n" + config, encoding="utf-8")
    return repo


@pytest.fixture
def hostile_repo(tmp_path: Path, listener: tuple[int, list[bytes]]) -> Path:
    return make_repo(tmp_path, listener[0], HOSTILE)


def pe_policy(repo: Path, *args: str, canary: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a process (and session) of its own, the canary in its environment."""
    env = {**os.environ, CANARY_NAME: canary}
    return subprocess.run([sys.executable, "-m", "pe_policy", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, start_new_session=True,
                          check=False)


def markers_written(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo.parent / "markers").iterdir())


def platform_gaps() -> list[str]:
    """What `isolation.lock_down` cannot enforce here (the codes of its notes)."""
    receiver, sender = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            notes = isolation.lock_down(isolation.readable_paths(None, []), keep_fds=(sender,))
            os.write(sender, json.dumps([code for code, _ in notes]).encode())
        finally:
            os._exit(0)
    os.close(sender)
    with os.fdopen(receiver, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return list(json.loads(data or b'["unknown"]'))


def test_without_opt_in_no_repository_python_rule_file_is_even_read(
        hostile_repo: Path, listener: tuple[int, list[bytes]], tmp_path: Path) -> None:
    canary = secrets.token_hex(16)
    sarif = tmp_path / "out.sarif"
    result = pe_policy(hostile_repo, "check", ".", "-f", "sarif", "-o", str(sarif), canary=canary)
    assert result.returncode == 1, result.stderr  # the critical built-in finding
    found = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    # PE-WF-020 (info) names the pull_request_target trigger of the same workflow
    assert sorted(r["ruleId"] for r in found) == ["PE-WF-007", "PE-WF-020"]
    for name in HOSTILE:
        assert (f"pe-policy: skipped policies/{name}: Python rules run only when the "
                "configuration enables them") in result.stderr
    assert markers_written(hostile_repo) == [] and listener[1] == []
    assert canary not in result.stdout + result.stderr + sarif.read_text(encoding="utf-8")
    # listing the rules reads no file either, and says which are skipped
    listed = pe_policy(hostile_repo, "rules", "--format", "json", canary=canary)
    assert listed.returncode == 0 and "HOSTILE" not in listed.stdout
    assert "skipped policies/top_exit.py" in listed.stderr
    assert markers_written(hostile_repo) == []


def test_with_opt_in_each_hostile_rule_is_a_rule_error_and_the_gate_holds(
        hostile_repo: Path, listener: tuple[int, list[bytes]], tmp_path: Path) -> None:
    canary = secrets.token_hex(16)
    sarif, report = tmp_path / "out.sarif", tmp_path / "report.json"
    result = pe_policy(hostile_repo, "check", ".", "--allow-python-rules", "-f", "json", "-o",
                       str(report), "-f", "sarif", "-o", str(sarif), canary=canary)
    assert result.returncode == 1, result.stderr  # non-zero: the critical finding, the errors
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert [f["severity"] for f in findings if f["rule_id"] == "PE-WF-007"] == ["critical"]
    errors: dict[str, str] = {}
    for f in findings:
        if f["rule_id"] == "PE-RULE-ERROR":
            errors[f["properties"]["failed_rule"]] = f["message"]
    assert sorted(errors) == [f"HOSTILE-{n}" for n in range(101, 111)]
    assert "PermissionError" in errors["HOSTILE-101"]  # subprocess at import
    assert "PermissionError" in errors["HOSTILE-102"]  # a write at import
    assert "exit status 0" in errors["HOSTILE-103"]  # os._exit(0) ends only its worker
    assert "can't start new thread" in errors["HOSTILE-104"]
    assert "PermissionError" in errors["HOSTILE-105"]
    assert "PermissionError" in errors["HOSTILE-106"]
    assert "PermissionError" in errors["HOSTILE-107"]  # ctypes
    assert "PermissionError" in errors["HOSTILE-108"]
    assert "KeyError" in errors["HOSTILE-109"]  # the environment is empty
    assert "PermissionError" in errors["HOSTILE-110"]
    assert not any(f["rule_id"].startswith("HOSTILE-1") and f["rule_id"] != "HOSTILE-120"
                   for f in findings)
    # the SARIF report is written, with the critical finding and the errors
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert {"PE-WF-007", "PE-RULE-ERROR"} <= {r["ruleId"] for r in results}
    # and nothing got out
    assert markers_written(hostile_repo) == [] and listener[1] == []
    everything = result.stdout + result.stderr + report.read_text("utf-8") + sarif.read_text("utf-8")
    assert canary not in everything
    assert "c2VjcmV0" not in everything and "root:x:0:0" not in everything


def test_without_the_audit_hook_the_operating_system_still_refuses(
        tmp_path: Path, listener: tuple[int, list[bytes]]) -> None:
    gaps = platform_gaps()
    if gaps:
        pytest.skip(f"this platform cannot enforce: {', '.join(gaps)}")
    repo = make_repo(tmp_path, listener[0], {"bypass.py": BYPASS, "passwd.py": HOSTILE["passwd.py"]})
    canary = secrets.token_hex(16)
    report = tmp_path / "report.json"
    result = pe_policy(repo, "check", ".", "--allow-python-rules", "-f", "json", "-o",
                       str(report), canary=canary)
    assert result.returncode == 1, result.stderr
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    outcomes = sorted(f["message"] for f in findings if f["rule_id"] == "HOSTILE-120")
    assert [o.split(":")[0] for o in outcomes] == sorted(ATTEMPTS), outcomes
    assert all(": refused (" in o for o in outcomes), outcomes
    assert [f["severity"] for f in findings if f["rule_id"] == "PE-WF-007"] == ["critical"]
    # the rule after it is guarded again: switching the hook off lasted one rule's run
    (error,) = [f for f in findings if f["rule_id"] == "PE-RULE-ERROR"]
    assert "may not read files outside the repository" in error["message"]
    assert markers_written(repo) == [] and listener[1] == []
    assert canary not in result.stdout + result.stderr + report.read_text("utf-8")
    assert "pe-policy: note:" not in result.stderr  # every layer was there


FORGER = '''
import pe_policy.engine.guard as guard


class Payload:
    def __reduce__(self):
        return (os.system, ("touch " + marker("unpickled"),))


@rule("HOSTILE-130", severity="low", kinds=["workflow"], title="Forges messages")
def forge(doc, ctx):
    guard._state.depth = 0
    conn().send(Payload())  # a pickle: loading it would run `touch` in the main process
    yield "forged"
'''

FAKER = '''
import json

import pe_policy.engine.guard as guard


@rule("HOSTILE-131", severity="low", kinds=["workflow"], title="Fakes a built-in finding")
def fake(doc, ctx):
    guard._state.depth = 0
    fake = {"rule_id": "PE-WF-001", "severity": "critical", "message": "forged",
            "location": [doc.path, 1, None, None, None], "kind": "workflow", "json_path": [],
            "fingerprint": "", "properties": {}}
    conn().send_bytes(json.dumps({"number": 0, "findings": [fake]}).encode())
    yield "faked"
'''


@pytest.mark.parametrize("name, source, rule_id", [("forger.py", FORGER, "HOSTILE-130"),
                                                    ("faker.py", FAKER, "HOSTILE-131")])
def test_what_a_worker_sends_is_checked_never_unpickled(
        tmp_path: Path, listener: tuple[int, list[bytes]], name: str, source: str,
        rule_id: str) -> None:
    repo = make_repo(tmp_path, listener[0], {name: source}, "python_rules: true\n")
    report = tmp_path / "report.json"
    result = pe_policy(repo, "check", ".", "-f", "json", "-o", str(report), canary="x")
    assert result.returncode == 1, result.stderr
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    (error,) = [f for f in findings if f["rule_id"] == "PE-RULE-ERROR"]
    assert error["properties"]["failed_rule"] == rule_id
    assert "sent pe-policy a message it does not accept" in error["message"]
    assert not any(f["message"] == "forged" for f in findings)
    assert sorted(f["rule_id"] for f in findings if f["rule_id"].startswith("PE-WF")) == [
        "PE-WF-007", "PE-WF-020"]  # 020: information on the pull_request_target trigger
    assert markers_written(repo) == []


def test_a_repository_rule_file_never_runs_in_the_main_process(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy/acme.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from pe_policy.engine.python_rules import rule\n\n\n"
        '@rule("ACME-900", severity="low", kinds=["workflow"], title="x")\n'
        "def acme(doc, ctx):\n    yield 'x'\n", encoding="utf-8")
    assert load_ruleset([tmp_path / "policy"]).python_rules == []  # off: skipped, never read
    (found,) = load_ruleset([tmp_path / "policy"], python_rules="isolated").python_rules
    assert found.isolated and found.meta.id == "ACME-900"
    resolve: Any = found.check.resolve  # type: ignore[attr-defined]
    with pytest.raises(PermissionError, match="only in a locked-down worker"):
        resolve()
    assert not marker.exists()


def test_a_repository_rule_file_that_must_run_to_be_described_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "acme.py"
    path.write_text("from pe_policy.engine.python_rules import rule\n\nSEVERITY = 'low'\n\n\n"
                    '@rule("ACME-901", severity=SEVERITY, kinds=["workflow"], title="x")\n'
                    "def acme(doc, ctx):\n    yield 'x'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="literal arguments"):
        python_rules_from(path, tmp_path, isolated=True)


def test_what_the_platform_cannot_enforce_is_said(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_repo: Path,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    from pe_policy.config import resolve_config
    from pe_policy.pipeline import check
    from pe_policy.runner import Limits

    monkeypatch.setattr(isolation, "_network_namespace", lambda libc: "unshare: EPERM (a test)")
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    shutil.copy(PWN_REQUEST, tmp_repo / ".github/workflows/pwn-request.yml")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/acme.py").write_text(
        "from pe_policy.engine.python_rules import rule\n\n\n"
        '@rule("ACME-902", severity="low", kinds=["workflow"], title="x")\n'
        "def acme(doc, ctx):\n    yield 'checked'\n", encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    root = tmp_repo.resolve()
    result = check([root], root, config=resolve_config(root), limits=Limits(None, None))
    assert [f.message for f in result.findings if f.rule_id == "ACME-902"] == ["checked"]
    assert ("pe-policy: note: repository Python rules ran with no network namespace"
            in capfd.readouterr().err)


def test_a_rule_that_keeps_ending_its_worker_stops_being_run(tmp_repo: Path) -> None:
    """Three inputs cost a worker each; the others get the error without running the rule."""
    from pe_policy.config import resolve_config
    from pe_policy.pipeline import check
    from pe_policy.runner import ISOLATED_STOPS_PER_RULE, Limits

    workflows = tmp_repo / ".github/workflows"
    workflows.mkdir(parents=True)
    for n in range(7):
        shutil.copy(PWN_REQUEST, workflows / f"pwn-{n}.yml")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/exits.py").write_text(
        "import os\n\nfrom pe_policy.engine.python_rules import rule\n\nos._exit(0)\n\n\n"
        '@rule("ACME-910", severity="low", kinds=["workflow"], title="x")\n'
        "def exits(doc, ctx):\n    yield 'x'\n", encoding="utf-8")
    (tmp_repo / "policies/fine.py").write_text(
        "from pe_policy.engine.python_rules import rule\n\n\n"
        '@rule("ACME-911", severity="low", kinds=["workflow"], title="y")\n'
        "def fine(doc, ctx):\n    yield 'fine'\n", encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    root = tmp_repo.resolve()
    result = check([root], root, config=resolve_config(root), limits=Limits(20, 1024))
    errors = sorted(f.message.split(": ", 1)[1].split(" (")[0] for f in result.findings
                    if f.rule_id == "PE-RULE-ERROR" and f.properties["failed_rule"] == "ACME-910")
    stopped = "stopped the evaluation worker"
    assert len(errors) == 7
    assert sum(e.startswith(stopped) for e in errors) == ISOLATED_STOPS_PER_RULE
    assert sum(e.startswith("not run: it stopped its worker") for e in errors) == 7 - ISOLATED_STOPS_PER_RULE
    assert len([f for f in result.findings if f.rule_id == "ACME-911"]) == 7
    assert len([f for f in result.findings if f.rule_id == "PE-WF-007"]) == 7


def test_a_locked_down_rule_still_reads_what_a_rule_may(tmp_repo: Path) -> None:
    """Other documents (loaded on demand after the lockdown), helpers, its parameters."""
    from pe_policy.config import resolve_config
    from pe_policy.pipeline import check
    from pe_policy.runner import Limits

    workflows = tmp_repo / ".github/workflows"
    workflows.mkdir(parents=True)
    shutil.copy(PWN_REQUEST, workflows / "pwn-request.yml")
    (workflows / "other.yml").write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n",
                                         encoding="utf-8")
    (tmp_repo / "policies/lib").mkdir(parents=True)
    (tmp_repo / "policies/lib/names.py").write_text("def shout(s):\n    return s.upper()\n",
                                                    encoding="utf-8")
    (tmp_repo / "policies/cross.py").write_text(
        "from pe_policy.engine.python_rules import rule\n\nfrom .lib.names import shout\n\n\n"
        '@rule("ACME-920", severity="low", kinds=["workflow"], title="x")\n'
        "def cross(doc, ctx):\n"
        "    other = ctx.document_at('.github/workflows/other.yml')\n"
        "    yield shout(f'{other.kind} {sorted(other.raw[\"jobs\"])} {ctx.params[\"custom\"]}')\n",
        encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text(
        "policies: [policies]\npython_rules: true\nparams:\n  custom: {team: a}\n", encoding="utf-8")
    root = tmp_repo.resolve()
    result = check([workflows / "pwn-request.yml"], root, config=resolve_config(root),
                   limits=Limits(20, 1024))
    assert [f.message for f in result.findings if f.rule_id == "ACME-920"] == [
        "WORKFLOW ['A'] {'TEAM': 'A'}"]


def test_without_fork_a_repository_rule_is_an_error_not_a_silence(
        tmp_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pe_policy import runner
    from pe_policy.config import resolve_config
    from pe_policy.pipeline import check

    monkeypatch.setattr(runner, "fork_available", lambda: False)
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    shutil.copy(PWN_REQUEST, tmp_repo / ".github/workflows/pwn-request.yml")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/acme.py").write_text(
        "from pe_policy.engine.python_rules import rule\n\n\n"
        '@rule("ACME-930", severity="low", kinds=["workflow"], title="x")\n'
        "def acme(doc, ctx):\n    yield 'ran'\n", encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    root = tmp_repo.resolve()
    result = check([root], root, config=resolve_config(root), limits=runner.Limits(None, None))
    (error,) = [f for f in result.findings if f.rule_id == "PE-RULE-ERROR"]
    assert error.properties["failed_rule"] == "ACME-930" and "no fork" in error.message
    assert not [f for f in result.findings if f.rule_id == "ACME-930"]
    assert [f.rule_id for f in result.findings if f.rule_id == "PE-WF-007"] == ["PE-WF-007"]


def test_what_a_repository_rule_prints_is_quoted_never_a_workflow_command(
        tmp_repo: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from pe_policy.config import resolve_config
    from pe_policy.pipeline import check
    from pe_policy.runner import Limits

    (tmp_repo / ".github/workflows").mkdir(parents=True)
    shutil.copy(PWN_REQUEST, tmp_repo / ".github/workflows/pwn-request.yml")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/loud.py").write_text(
        "import sys\n\nfrom pe_policy.engine.python_rules import rule\n\n\n"
        '@rule("ACME-940", severity="low", kinds=["workflow"], title="x")\n'
        "def loud(doc, ctx):\n"
        "    print('::error file=x::forged annotation')\n"
        "    print('::add-mask::x', file=sys.stderr)\n"
        "    print('\\x1b[2Jcleared ##[group]x')\n"
        "    yield 'spoke'\n", encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    root = tmp_repo.resolve()
    result = check([root], root, config=resolve_config(root), limits=Limits(20, 1024))
    assert [f.message for f in result.findings if f.rule_id == "ACME-940"] == ["spoke"]
    err = capfd.readouterr().err
    printed = [line for line in err.splitlines() if "forged" in line or "add-mask" in line
               or "cleared" in line]
    assert len(printed) == 3
    assert all(line.startswith(isolation.OUTPUT_PREFIX) for line in printed)
    assert "\x1b" not in err and "##[" not in err
