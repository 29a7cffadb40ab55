"""The Rego backends: regorus (default), regopy, and an OPA server over REST."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pe_policy.engine.polyfill import blank_non_code, inline_metadata, unfold_pair_iteration
from pe_policy.engine.rego import PolicyError, make_backend, parse_module
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
