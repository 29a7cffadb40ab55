"""The Rego backends: regorus (default, embedded) and a real OPA server over REST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pe_policy.cli import main
from pe_policy.engine.backends import ENGINES, make_backend
from pe_policy.engine.polyfill import blank_non_code, inline_metadata
from pe_policy.engine.rego import PolicyError, parse_module
from tests.conftest import REPO, run_cli

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


def test_unknown_engine_and_opa_without_url() -> None:
    with pytest.raises(ValueError, match="unknown Rego engine"):
        make_backend("wasm")
    with pytest.raises(PolicyError, match="--opa-url"):
        make_backend("opa")


def test_engine_option_offers_exactly_the_backends() -> None:
    [option] = [p for p in main.commands["check"].params if p.name == "engine"]
    assert list(option.type.choices) == list(ENGINES) == ["regorus", "opa"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", [
    ["check", "infra/fixtures/good/tfplan.json"],
    ["test", "infra/fixtures/good/tfplan.json", "-p", "infra/policy"],
    ["verify", "infra/policy"],
])
def test_retired_regopy_engine_is_a_clear_usage_error(command: list[str]) -> None:
    result = run_cli([*command, "--engine", "regopy"], cwd=REPO)
    assert result.exit_code == 2
    assert "regopy was retired: use `--engine regorus` (embedded, the default) or " \
        "`--engine opa --opa-url http://host:8181` (a real OPA server)" in result.stderr
    assert "Traceback" not in result.stderr


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
    """OPA's compile error comes back at the policy's file, line and column, naming the server."""
    text = "package broken\n\nimport rego.v1\n\nx if {\n\tz == 1\n}\n"
    backend = make_backend("opa", opa_url=opa_url)
    with pytest.raises(PolicyError) as info:
        backend.add_module(parse_module("policy/broken.rego", text))
    assert info.value.path == "policy/broken.rego"
    assert (info.value.line, info.value.column) == (6, 2)  # `z`, the unsafe variable
    assert opa_url in info.value.message
    assert str(info.value).startswith("policy/broken.rego:6:2: ")


def test_opa_server_down_is_a_clear_cli_error(tmp_path: Path) -> None:
    result = run_cli(["test", "infra/fixtures/good/tfplan.json", "-p", "infra/policy",
                      "--engine", "opa", "--opa-url", "http://127.0.0.1:9"], cwd=REPO)
    assert result.exit_code == 1  # conftest's code for an error
    assert "cannot reach OPA at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_engine_option_on_the_cli(opa_url: str) -> None:
    regorus = run_cli(["check", "infra/fixtures/bad/tfplan.json", "-f", "json"], cwd=REPO)
    opa = run_cli(["check", "infra/fixtures/bad/tfplan.json", "-f", "json", "--engine", "opa",
                   "--opa-url", opa_url], cwd=REPO)
    assert regorus.exit_code == opa.exit_code
    assert json.loads(regorus.stdout)["findings"] == json.loads(opa.stdout)["findings"]
