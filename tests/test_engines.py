"""The Rego backends: regorus (default), regopy, and an OPA server over REST."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.engine.polyfill import blank_non_code, inline_metadata, unfold_pair_iteration
from pe_policy.engine.rego import PolicyError, make_backend, parse_module
from pe_policy.engine.regopy_backend import keep_only_test
from pe_policy.engine.regopy_rewrite import (
    bind_call_iterations,
    expand_sprintf,
    redirect_input,
    wrap_with_values,
)
from tests.conftest import REPO, run_cli
from tests.opa_stub import opa_stub

HAS_REGOPY = importlib.util.find_spec("regopy") is not None
needs_regopy = pytest.mark.skipif(not HAS_REGOPY, reason="regopy not installed (pe-policy[regopy])")

META_POLICY = """# METADATA
# title: Pinned images
# custom:
#   severity: high
package images

import rego.v1

# METADATA
# title: No latest tag
# custom:
#   team: platform
deny contains {"msg": "uses latest", "rule": rego.metadata.rule()} if {
	endswith(input.image, ":latest")
}
"""


@pytest.fixture
def opa_url() -> Iterator[str]:
    """A real OPA when PE_POLICY_OPA_URL is set, else the REST stub."""
    real = os.environ.get("PE_POLICY_OPA_URL")
    if real:
        yield real
        return
    with opa_stub() as (url, _state):
        yield url


def test_blank_non_code_keeps_offsets() -> None:
    text = 'x := "a # b" # comment\ny := `raw\nsprintf(`\n'
    blanked = blank_non_code(text)
    assert len(blanked) == len(text) and blanked.count("\n") == text.count("\n")
    assert "comment" not in blanked and "sprintf" not in blanked and "x :=" in blanked


def test_metadata_polyfill_on_regorus() -> None:
    module = parse_module("images.rego", META_POLICY)
    assert "rego.metadata.rule()" not in inline_metadata(META_POLICY, "images")
    backend = make_backend("regorus")
    backend.add_module(module)
    backend.set_input_json(json.dumps({"image": "nginx:latest"}))
    [result] = backend.eval_rule("data.images.deny")
    assert result["rule"]["title"] == "No latest tag"
    assert result["rule"]["custom"] == {"team": "platform"}


def test_undefined_rule_is_none_on_regorus() -> None:
    backend = make_backend("regorus")
    backend.add_module(parse_module("m.rego", "package m\nimport rego.v1\nx := 1 if input.y\n"))
    backend.set_input_json("{}")
    assert backend.eval_rule("data.m.x") is None


def test_pair_iteration_rewrite_only_in_comprehensions() -> None:
    text = "a := {k | some k, _ in input.o}\nb contains k if { some k, v in input.o; v }\n"
    out = unfold_pair_iteration(text)
    assert out.splitlines()[0] == "a := {k | _ = input.o[k]}"
    assert out.splitlines()[1] == text.splitlines()[1]


def test_unknown_engine_and_opa_without_url() -> None:
    with pytest.raises(ValueError, match="unknown Rego engine"):
        make_backend("wasm")
    with pytest.raises(PolicyError, match="--opa-url"):
        make_backend("opa")


@needs_regopy
def test_regopy_v0_sets_sprintf_and_errors() -> None:
    backend = make_backend("regopy")
    backend.add_module(parse_module("v0.rego", """package main
deny[msg] { msg := sprintf("%s has %q", [input.name, input.tag]) }
exception[rules] { rules := ["tags"] }
bad[x] { x := to_number("abc") }
"""))
    backend.add_module(parse_module("net.rego", "package netcheck\nimport rego.v1\n"
                                    'x if net.cidr_contains("10.0.0.0/8", input.ip)\n'))
    backend.set_data({"pe": {"params": {}}})
    backend.set_input_json(json.dumps({"name": "api", "tag": "latest", "ip": "10.1.1.1"}))
    assert backend.eval_rule("data.main.deny") == ['api has "latest"']
    assert backend.eval_rule("data.main.exception") == [["tags"]]
    with pytest.raises(RuntimeError, match=r"regopy could not evaluate data\.main\.bad"):
        backend.eval_rule("data.main.bad")
    with pytest.raises(RuntimeError, match=r"built-in net\.cidr_contains not available in regopy"):
        backend.eval_rule("data.netcheck.x")


# Each rego-cpp 1.5.2 bug the regopy backend rewrites away, reduced to its smallest policy.
REGOPY_BUGS = """package bugs

import rego.v1

tagged contains name if {
	some name, image in input.images
	endswith(image, ":latest")
}

too_many if count(input.images) > data.pe.params.limit

first_verification := min({j | contains(input.sections[j].key, "verification")})

stages := {s | some s in ["Lint", "Unit tests"]; count(input.tools[_]) > 0}
"""

REGOPY_BUGS_TEST = """package bugs_test

import data.bugs
import rego.v1

params := {"limit": 1}

test_with_input_as_and_a_builtin if {
	bugs.tagged == {"web"} with input as {"images": {"web": "nginx:latest", "db": "pg:16"}}
}

test_with_a_rule_as_the_value if {
	bugs.too_many with input as {"images": {"a": "x", "b": "y"}} with data.pe.params as params
}
"""


def _regopy_with(*modules: tuple[str, str]) -> Any:
    backend = make_backend("regopy")
    for path, text in modules:
        backend.add_module(parse_module(path, text))
    backend.set_data({"pe": {"params": {"limit": 5}}})
    return backend


@needs_regopy
def test_regopy_runs_what_rego_cpp_gets_wrong() -> None:
    """`with input as` over a built-in (a segfault), `with ... as rule` (ignored) and a variable
    first bound inside a call's argument (nothing iterated): each as OPA and regorus read it."""
    backend = _regopy_with(("bugs.rego", REGOPY_BUGS), ("bugs_test.rego", REGOPY_BUGS_TEST))
    backend.set_input_json("{}")
    assert backend.eval_rule("data.bugs_test.test_with_input_as_and_a_builtin") is True
    assert backend.eval_rule("data.bugs_test.test_with_a_rule_as_the_value") is True
    backend.set_input_json(json.dumps({
        "sections": [{"key": "summary"}, {"key": "verification results"}],
        "tools": [[], ["ruff"]]}))
    assert backend.eval_rule("data.bugs.first_verification") == 1
    assert sorted(backend.eval_rule("data.bugs.stages")) == ["Lint", "Unit tests"]


REGOPY_STRINGS = r"""package strings

import rego.v1

runs_tox := regex.match(`(?i)(^|[\s;&|(])(TOX|nox)(\s|$)`, input.run)

gates := regex.find_all_string_submatch_n(`(?i)(--cov-fail-under[= ]+([0-9]+))`, input.run, -1)

checkouts := [trim_space(m) | some m in regex.find_n(`(?m)^.*gh pr checkout.*$`, input.run, -1)]

quoted if checkouts[0] == "gh pr checkout \"$PR\""

message := sprintf("%v%% of %d runs: %q, %s", [input.rate, 3, input.name, input.name])

dotall := regex.match(`(?s)echo.*done`, input.run)
"""


@needs_regopy
def test_regopy_regular_expressions_strings_and_numbers_match_regorus() -> None:
    """RE2 flags on std::regex, strings rego-cpp keeps JSON-escaped (line breaks, quotes),
    Go's float formatting: the same values as regorus; what std::regex cannot run is named."""
    document = json.dumps({
        "run": 'npm ci\ntox -e py\npytest --Cov-Fail-Under=60\n  gh pr checkout "$PR"  \n',
        "rate": 69.32, "name": "café"})
    values = {}
    for engine in ("regorus", "regopy"):
        backend = make_backend(engine)
        backend.add_module(parse_module("strings.rego", REGOPY_STRINGS))
        backend.set_data({})
        backend.set_input_json(document)
        values[engine] = {rule: backend.eval_rule(f"data.strings.{rule}")
                          for rule in ("runs_tox", "gates", "checkouts", "quoted", "message")}
    assert values["regopy"] == values["regorus"]
    assert values["regopy"]["gates"] == [["--Cov-Fail-Under=60", "--Cov-Fail-Under=60", "60"]]
    assert values["regopy"]["message"] == '69.32% of 3 runs: "café", café'
    assert values["regopy"]["quoted"] is True
    with pytest.raises(RuntimeError, match=r"cannot run the RE2 pattern `\(\?s\)echo\.\*done`: "
                       r"unsupported flag \(\?s\)"):
        backend.eval_rule("data.strings.dotall")


@needs_regopy
def test_regopy_crash_is_an_error_naming_the_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """A query that kills its process (as rego-cpp 1.5.2 does on some inputs: regopy's own
    `Interpreter.query` segfaults reading the error of `with input as` over a built-in) dies in
    its forked child: pe-policy names the query and goes on."""
    from pe_policy.engine import regopy_backend

    real_query = regopy_backend.RegopyBackend._query

    def crashing(self: Any, interp: Any, query: str) -> Any:
        if "test_" in query:
            os.kill(os.getpid(), signal.SIGSEGV)
        return real_query(self, interp, query)

    monkeypatch.setattr(regopy_backend.RegopyBackend, "_query", crashing)
    backend = _regopy_with(("bugs.rego", REGOPY_BUGS), ("bugs_test.rego", REGOPY_BUGS_TEST))
    backend.set_input_json(json.dumps({"images": {"web": "nginx:latest"}}))
    with pytest.raises(RuntimeError, match=r"regopy crashed evaluating "
                       r"data\.bugs_test\.test_with_input_as_and_a_builtin \(SIGSEGV\)"):
        backend.eval_rule("data.bugs_test.test_with_input_as_and_a_builtin")
    assert backend.eval_rule("data.bugs.tagged") == ["web"]


@needs_regopy
def test_regopy_runaway_query_is_stopped() -> None:
    from pe_policy.engine.regopy_backend import RegopyBackend

    backend = RegopyBackend(query_timeout=1.0)
    backend.add_module(parse_module("slow.rego", "package slow\nimport rego.v1\n"
                                    "n := count([1 | some i in numbers.range(1, 30000); "
                                    "some j in numbers.range(1, 30000); i == j])\n"))
    backend.set_data({})
    backend.set_input_json("{}")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not finish data\.slow\.n within 1 s"):
        backend.eval_rule("data.slow.n")
    assert time.monotonic() - started < 10


def test_regopy_rewrites_keep_lines_and_meaning() -> None:
    """The rewrites are text edits on one line each: error positions keep their lines."""
    text = """package p
import rego.v1
a := {j | contains(input.s[j].key, "v")}
b := 1 if lower(input.c[_]) == "d" else := 2
c := sprintf(
	"%s has %v (%d%%)",
	[input.name, input.n, 3],
)
d := x if { x := 1 with data.pe.params as params }
e if { not lower(input.c[k]) == "d" }
"""
    out = wrap_with_values(redirect_input(expand_sprintf(bind_call_iterations(text, False))))
    assert out.count("\n") == text.count("\n")
    lines = out.splitlines()
    assert lines[2] == ('a := {j | _ = input.pe_policy_input.s[j]; '
                        'contains(input.pe_policy_input.s[j].key, "v")}')
    assert lines[3] == ('b := 1 if { _ = input.pe_policy_input.c[__pe_it1]; '
                        'lower(input.pe_policy_input.c[__pe_it1]) == "d" } else := 2')
    assert lines[4] == ('c := concat("", [data.pe_polyfill.fmt_v(input.pe_policy_input.name), '
                        '" has ", data.pe_polyfill.fmt_v(input.pe_policy_input.n), " (", '
                        'sprintf("%d", [3]), "%", ")"')
    assert lines[8] == "d := x if { x := 1 with data.pe.params as [params][0] }"
    assert lines[9] == text.splitlines()[9].replace("input.", "input.pe_policy_input.")


def test_regopy_test_queries_see_only_their_own_test() -> None:
    text = 'package t_test\n\ntest_a if {\n\tx == 1\n}\n\n# b\ntest_b if y == "}"\n' \
        "\nhelper := 1\ntest_c if {\n\ttest_b\n}\n"
    out = keep_only_test(text, "test_c")
    assert out.count("\n") == text.count("\n")
    assert "test_a" not in out and "x == 1" not in out
    assert 'test_b if y == "}"' in out  # test_c refers to it
    assert out.endswith("helper := 1\ntest_c if {\n\ttest_b\n}\n")


@needs_regopy
def test_regopy_syntax_error_names_file_and_line() -> None:
    backend = make_backend("regopy")
    with pytest.raises(PolicyError) as info:
        backend.add_module(parse_module("broken.rego", "package b\n\nx := {1, \n"))
    assert info.value.path == "broken.rego"
    assert "regopy rejected the policy" in info.value.message


def test_opa_backend_evaluates_over_rest(opa_url: str) -> None:
    backend = make_backend("opa", opa_url=opa_url)
    backend.add_module(parse_module("images.rego", META_POLICY))
    backend.set_data({"pe": {"params": {"x": 1}}})
    backend.set_input_json(json.dumps({"image": "nginx:latest"}))
    [result] = backend.eval_rule("data.images.deny")
    assert result["msg"] == "uses latest"
    assert result["rule"]["title"] == "No latest tag"
    backend.set_input_json(json.dumps({"image": "nginx:1.27"}))
    assert backend.eval_rule("data.images.deny") == []
    assert backend.eval_rule("data.images.nothing") is None


def test_opa_rejected_policy_names_file_url_and_line(opa_url: str) -> None:
    backend = make_backend("opa", opa_url=opa_url)
    with pytest.raises(PolicyError) as info:
        backend.add_module(parse_module("policy/broken.rego",
                                        "package broken\nimport rego.v1\n\nx := {\n"))
    assert info.value.path == "policy/broken.rego"
    assert f"OPA at {opa_url} rejected the policy" in info.value.message
    assert info.value.line is not None


def test_opa_server_down_is_a_clear_cli_error(tmp_path: Path) -> None:
    result = run_cli(["test", "infra/fixtures/good/tfplan.json", "-p", "infra/policy",
                      "--engine", "opa", "--opa-url", "http://127.0.0.1:9"], cwd=REPO)
    assert result.exit_code == 2
    assert "cannot reach OPA at http://127.0.0.1:9" in result.stderr
    assert "infra/policy/" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_engine_option_on_the_cli(opa_url: str) -> None:
    regorus = run_cli(["check", "infra/fixtures/bad/tfplan.json", "-f", "json"], cwd=REPO)
    opa = run_cli(["check", "infra/fixtures/bad/tfplan.json", "-f", "json", "--engine", "opa",
                   "--opa-url", opa_url], cwd=REPO)
    assert regorus.exit_code == opa.exit_code
    assert json.loads(regorus.stdout)["findings"] == json.loads(opa.stdout)["findings"]
