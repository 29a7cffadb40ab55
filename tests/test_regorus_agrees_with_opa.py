"""regorus, through pe-policy's backend, gives what the real OPA gives on negated calls.

OPA evaluates the arguments of a negated call outside the `not` (its compiler binds them to
local variables first), so `not is_string(input.job.uses)` is undefined when `input.job.uses`
is; regorus evaluated the call inside the `not` and made it true.  pe-policy rewrites each
module it hands regorus the way OPA's compiler does (engine/negation.py).  Every rule here is
evaluated by regorus through `RegorusBackend` and by `opa eval`, and the two must agree.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from pe_policy.cache_dir import CACHE_ENV
from pe_policy.engine import rego_ast
from pe_policy.engine.backends import RegorusBackend
from pe_policy.engine.rego import parse_module
from pe_policy.engine.rego_ast import as_opa_evaluates

from .reference_tools import REPO, run_tool

UNDEFINED = "<undefined>"

# name -> (module, input, OPA's answer for the rules named, where the test pins it)
MODULES: dict[str, tuple[str, Any, dict[str, Any]]] = {
    # /tmp/regorus_divergence.md's table, as found
    "table": ('''package table

import rego.v1

is_call(job) if is_string(job.uses)

is_call_of(uses) if is_string(uses)

builtin_arg if not is_string(input.job.uses)

function_arg if not is_call_of(input.job.uses)

not_equal if not input.job.uses != "x"

membership if not "x" in input.job.uses

nested_call if not count(input.job.uses) > 0

plain_ref if not input.job.uses

equality if not input.job.uses == "x"

helper if not is_call(input.job)

with_default if not is_string(object.get(input.job, "uses", null))
''', {"job": {}}, {
        "builtin_arg": UNDEFINED, "function_arg": UNDEFINED, "not_equal": UNDEFINED,
        "membership": UNDEFINED, "nested_call": UNDEFINED, "plain_ref": True, "equality": True,
        "helper": True, "with_default": True,
    }),
    # the rest of OPA's rule: what it evaluates first, and what it leaves in the `not`
    "shapes": ('''package shapes

import rego.v1

undefined_for(x) := 1 if x > 5

absent := input.job.absent

nested_user_call if not is_string(undefined_for(1))

call_operand_of_equality if not count(input.job.uses) == 0

rule_as_argument if not is_string(absent)

reference_in_brackets if not input.a[input.job.uses]

reference_in_brackets_equality if not input.a[input.job.uses] == 1

reference_in_array_equality if not [input.job.uses] == [1]

reference_in_object_argument if not is_object({"k": input.job.uses})

arithmetic if not input.job.uses + 1 > 0

set_union if not count(input.job.uses | {1}) > 0

call_in_equality if not input.job == object.union(input.job, {"x": input.job.uses})

unification if not input.job.uses = 1

constant if not is_string(1)

local_path if {
	x := input.job
	not is_string(x.uses)
}

bound_later if {
	not is_string(x.uses)
	x = input.job
}

with_value if not is_string(input.z) with input as {"z": 1}

with_value_without_it if not is_string(input.z) with input as {"y": 1}

with_undefined_value if not is_string(input.z) with input as input.missing

with_over_lines if {
	not is_string(input.job.uses) with input as {
		"job": {"name": "build"}, # a comment
	}
}

argument_over_lines if {
	not startswith(
		input.job.uses, # the action
		"actions/",
	)
}

raw_string if not startswith(input.job.uses, `raw`)

escaped_quote if not input.job.uses != "x\\"y"

non_ascii := "ü é “quoted”" if not is_string(input.job.uses)
''', {"job": {}, "a": {}}, {
        "nested_user_call": UNDEFINED, "call_operand_of_equality": UNDEFINED,
        "rule_as_argument": UNDEFINED, "reference_in_brackets": UNDEFINED,
        "reference_in_array_equality": UNDEFINED, "local_path": UNDEFINED,
        "bound_later": UNDEFINED, "unification": True, "constant": True,
        "with_value": True, "with_value_without_it": UNDEFINED, "with_over_lines": UNDEFINED,
    }),
    # where a negation may stand
    "places": ('''package places

import rego.v1

string_uses(job) if not is_string(job.uses)

in_function if string_uses(input.job)

in_comprehension := [1 | not is_string(input.job.uses)]

in_set_comprehension := {j | some j in input.jobs; not is_string(j.uses)}

in_object_comprehension := {i: 1 | some i, j in input.jobs; not is_string(j.uses)}

in_every if every j in input.jobs { not is_string(j.uses) }

in_every_defined if every j in input.named { not is_string(j.uses) }

else_chain := "first" if not is_string(input.job.uses) else := "second"

else_second := "first" if input.nothing else := "second" if {
	not is_string(input.job.uses)
} else := "third"

comprehension_in_lifted_call if not count([1 | not is_string(input.job.uses)]) > 0

in_head contains x if {
	some x in ["a", "b"]
	not startswith(x, input.prefix)
}

__pe_neg_7 := "a rule of that name: the rewrite picks others"

after_taken_name if not is_string(input.job.uses)
''', {"job": {}, "jobs": [{}], "named": [{"uses": "a"}]}, {
        "in_function": UNDEFINED, "in_comprehension": [], "in_every": UNDEFINED,
        "in_every_defined": UNDEFINED, "else_chain": "second", "else_second": "third",
    }),
    # Rego v0: no `import rego.v1`, no `if`
    "vzero": ('''package vzero

deny[msg] {
	not is_string(input.job.uses)
	msg := "uses is not a string"
}

deny[msg] {
	j = input.job
	not count(j.steps) > 0
	msg = "no steps"
}

names[n] {
	n := input.names[_]
	not startswith(n, input.prefix)
}

value = x {
	not is_number(input.job.n)
	x := 1
} else = 2 {
	true
}

plain {
	not input.job.uses
}
''', {"job": {}, "names": ["a"]}, {"deny": [], "names": [], "value": 2, "plain": True}),
}

# Negations the rewrite must leave alone: nothing in them is evaluated outside the `not` by OPA
UNCHANGED = '''package unchanged

import rego.v1

bound if {
	uses := input.job.uses
	not is_string(uses)
}

argument(job) if not is_string(job)

plain if not input.job.uses

member if {
	some k in input.keys
	not k.optional
}

equality if not input.job.uses == "x"

local_in_brackets if {
	some i, _ in input.jobs
	not input.jobs[i] == {}
}

constant if not is_string(1)

comprehension if not is_array([x | some x in input.jobs])

every_body if every job in input.jobs { not job.skip }
'''


def _module(name: str) -> tuple[str, Any, dict[str, Any]]:
    return MODULES[name]


@functools.cache
def _on_regorus(name: str) -> dict[str, Any]:
    text, document, _ = _module(name)
    module = parse_module(f"{name}.rego", text)
    backend = RegorusBackend()
    backend.add_module(module)
    backend.set_input_json(json.dumps(document))
    raw = json.loads(backend.engine.eval_query_as_json(f"data.{module.package}"))
    value: dict[str, Any] = raw["result"][0]["expressions"][0]["value"]
    return value


@functools.cache
def _on_opa(name: str, directory: Path) -> dict[str, Any]:
    text, document, _ = _module(name)
    module = parse_module(f"{name}.rego", text)
    policy = directory / f"{name}.rego"
    policy.write_text(text, encoding="utf-8")
    data = directory / f"{name}.json"
    data.write_text(json.dumps(document), encoding="utf-8")
    v0 = ["--v0-compatible"] if "import rego.v1" not in text else []
    proc = run_tool("opa", "eval", *v0, "-f", "json", "-d", str(policy), "-i", str(data),
                    f"data.{module.package}")
    assert proc.returncode == 0, proc.stderr
    value: dict[str, Any] = json.loads(proc.stdout)["result"][0]["expressions"][0]["value"]
    return value


@pytest.fixture(scope="module")
def opa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opa")


def _rules(name: str) -> list[str]:
    module = parse_module(f"{name}.rego", _module(name)[0])
    return [rule for rule in module.rule_lines if rule not in
            {head.name for head in module.rules if head.kind == "function"}]


CASES = [pytest.param(name, rule, id=f"{name}.{rule}") for name in MODULES for rule in _rules(name)]


@pytest.mark.parametrize(("name", "rule"), CASES)
def test_regorus_gives_what_opa_gives(name: str, rule: str, opa_dir: Path) -> None:
    opa = _on_opa(name, opa_dir).get(rule, UNDEFINED)
    regorus = _on_regorus(name).get(rule, UNDEFINED)
    assert regorus == opa, f"data.{name}.{rule}: regorus {regorus!r}, OPA {opa!r}"
    expected = _module(name)[2]
    if rule in expected:  # what OPA answers, written down
        assert opa == expected[rule]


def test_the_rewrite_keeps_every_line_where_it_was() -> None:
    for name, (text, _, _) in MODULES.items():
        rewritten = as_opa_evaluates(f"{name}.rego", text)
        assert rewritten != text
        assert rewritten.count("\n") == text.count("\n"), name
        before, after = parse_module("a.rego", text), parse_module("a.rego", rewritten)
        assert after.rule_lines == before.rule_lines, name
        assert [(h.name, h.line, h.column) for h in after.rules] == [
            (h.name, h.line, h.column) for h in before.rules], name


def test_a_negation_is_rewritten_on_its_own_line() -> None:
    text = MODULES["table"][0]
    rewritten = as_opa_evaluates("table.rego", text).splitlines()
    line = text.splitlines().index("builtin_arg if not is_string(input.job.uses)")
    assert rewritten[line] == ("builtin_arg if { __pe_neg_1 := input.job.uses; "
                               "not is_string(__pe_neg_1) }")
    in_body = MODULES["vzero"][0].splitlines().index("\tnot count(j.steps) > 0")
    assert as_opa_evaluates("v.rego", MODULES["vzero"][0]).splitlines()[in_body] == (
        "\t__pe_neg_2 := count(j.steps); not __pe_neg_2 > 0")


def test_negations_opa_leaves_alone_are_not_rewritten(opa_dir: Path) -> None:
    assert as_opa_evaluates("unchanged.rego", UNCHANGED) == UNCHANGED
    MODULES["unchanged"] = (UNCHANGED, {"job": {"uses": 1}, "keys": [{}], "jobs": [{}]}, {})
    try:
        assert _on_regorus("unchanged") == _on_opa("unchanged", opa_dir)
    finally:
        del MODULES["unchanged"]


def test_a_wildcard_in_a_negation_is_left_to_regorus(tmp_path: Path) -> None:
    """OPA refuses `not f(x[_])` (var _ is unsafe): the rewrite does not give it a meaning."""
    text = "package w\n\nimport rego.v1\n\np if not is_string(input.jobs[_].uses)\n"
    assert as_opa_evaluates("w.rego", text) == text
    (tmp_path / "w.rego").write_text(text, encoding="utf-8")
    proc = run_tool("opa", "check", str(tmp_path / "w.rego"))
    assert "var _ is unsafe" in proc.stdout + proc.stderr


def test_the_rewrite_is_cached_with_the_outline(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(rego_ast, "_READ", {})  # this process has read nothing yet
    text = MODULES["table"][0]
    first = as_opa_evaluates("table.rego", text)
    assert first != text
    rego_ast._READ.clear()  # a new process: the cache on disk only

    def no_parsing(path: str, text: str) -> None:
        raise AssertionError("read from the cache, not parsed")

    monkeypatch.setattr(rego_ast, "_parse", no_parsing)
    assert as_opa_evaluates("elsewhere.rego", text) == first


def test_a_module_without_a_negation_is_not_even_looked_up(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    def no_outline(path: str, text: str) -> None:
        raise AssertionError("looked up")

    monkeypatch.setattr(rego_ast, "known_outline", no_outline)
    text = "package p\n\nimport rego.v1\n\nallow if input.user == \"admin\"\n"
    assert as_opa_evaluates("p.rego", text) == text


PACK_BEFORE_OPA_FIXES = "a176ce0"  # the built-in pack before its negations were made portable


def test_the_pack_before_its_fixes_fails_on_regorus_the_tests_it_fails_on_opa(
        tmp_path: Path) -> None:
    """8 of its `opa test` tests failed on OPA and passed on regorus: now on both engines."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    archive = subprocess.run([git, "archive", PACK_BEFORE_OPA_FIXES, "policies"], cwd=REPO,
                             capture_output=True, check=False)
    if archive.returncode != 0:  # a shallow clone
        pytest.skip(f"commit {PACK_BEFORE_OPA_FIXES} is not in this clone")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path, filter="data")
    policies = tmp_path / "policies"
    opa = run_tool("opa", "test", str(policies), "--format", "json")
    opa_failed = {f"{t['package']}.{t['name']}" for t in json.loads(opa.stdout)
                  if t.get("fail") or t.get("error")}
    from pe_policy.engine.verify import run_tests

    report = run_tests([policies])
    regorus_failed = {case.name for case in report.cases if case.status != "pass"}
    assert len(opa_failed) == 8
    assert regorus_failed == opa_failed
