"""The built-ins a policy may call: one allowed set, for pe-policy's sandbox and for OPA.

`sandbox.ALLOWED_BUILTINS` is what pe-policy lets a module call on any engine;
`src/pe_policy/engine/opa_capabilities.json` is the same set as an OPA capabilities file.
These tests keep the two in step with the real engines: every built-in the pinned OPA or the
embedded regorus has is judged (allowed or denied), the file is what the pinned OPA's
capabilities filter to, the built-in pack needs nothing else (`opa check` and `opa test`
with the file), and whatever OPA's own capability check refuses, the sandbox refuses too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pe_policy.engine.pack import builtin_policy_dir, load_ruleset
from pe_policy.engine.rego import parse_module
from pe_policy.engine.sandbox import (
    ALLOWED_BUILTINS,
    CAPABILITIES_FILE,
    DENIED_BUILTINS,
    KNOWN_BUILTINS,
    opa_capabilities,
    pack_refusals,
    refusal,
    refusals,
)
from tests.reference_tools import REPO, run_tool
from tests.test_sandbox import DENIED_CALLS, SPELLINGS, policy


def _opa_current() -> dict[str, Any]:
    proc = run_tool("opa", "capabilities", "--current")
    assert proc.returncode == 0, proc.stderr
    current: dict[str, Any] = json.loads(proc.stdout)
    return current


def test_every_builtin_of_the_pinned_opa_is_judged() -> None:
    names = {b["name"] for b in _opa_current()["builtins"]}
    assert names - KNOWN_BUILTINS == set(), "judge these: allow them or deny them in sandbox.py"
    assert names >= ALLOWED_BUILTINS  # nothing allowed that OPA does not have
    assert not ALLOWED_BUILTINS & set(DENIED_BUILTINS)


def test_every_builtin_of_regorus_is_judged() -> None:
    """regorus lists its built-ins in its `opa.runtime()` (asked directly: no policy may)."""
    from pe_policy.engine.rego_ast import import_regorus

    engine = import_regorus().Engine()
    engine.add_policy("runtime.rego", "package runtime\n\nvalue := opa.runtime()\n")
    runtime = json.loads(engine.eval_rule_as_json("data.runtime.value"))
    names = set(runtime["builtins"]) | set(runtime.get("deprecated") or ())
    assert len(names) > 100
    assert names - KNOWN_BUILTINS == set(), "judge these: allow them or deny them in sandbox.py"


def test_the_capabilities_file_is_the_allowed_set() -> None:
    """Regenerate with `opa capabilities --current | python -m pe_policy.engine.sandbox >
    src/pe_policy/engine/opa_capabilities.json`."""
    committed = json.loads(CAPABILITIES_FILE.read_text(encoding="utf-8"))
    assert committed == opa_capabilities(_opa_current())
    assert {b["name"] for b in committed["builtins"]} == ALLOWED_BUILTINS
    assert committed["allow_net"] == []


def test_the_builtin_pack_needs_only_allowed_builtins() -> None:
    ruleset = load_ruleset([builtin_policy_dir(), REPO / "infra" / "policy"], include_tests=True)
    assert len(ruleset.rego_modules) > 50
    assert refusals(ruleset.rego_modules) == {}
    assert pack_refusals(ruleset.rego_modules) == {}
    checked = run_tool("opa", "check", "--strict", "--capabilities", str(CAPABILITIES_FILE),
                       "policies", "infra/policy")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_pack_tests_pass_on_opa_with_only_the_allowed_builtins() -> None:
    tested = run_tool("opa", "test", "--capabilities", str(CAPABILITIES_FILE), "policies",
                      "--format", "json")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr
    results = json.loads(tested.stdout)
    assert results and all(r.get("fail") is not True and not r.get("error") for r in results)


def _module(spelling: str, builtin: str) -> str:
    namespace, rest = builtin.split(".", 1)
    args = DENIED_CALLS[builtin].replace("PORT", "9").replace("SPELLING", spelling)
    return policy("HOSTILE-040", SPELLINGS[spelling]
                  .replace("BRACKET", f'{namespace}["{rest}"]({args})')
                  .replace("CALL", f"{builtin}({args})").replace("NAME", builtin)
                  .replace("NS", namespace))


@pytest.mark.parametrize("builtin", list(DENIED_CALLS))
@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_what_opa_refuses_with_the_capabilities_the_sandbox_refuses(
        tmp_path: Path, spelling: str, builtin: str) -> None:
    """OPA's compiler, given the capabilities file, refuses each spelling of a denied built-in
    (`opa check --capabilities`), as the sandbox does from regorus's parse tree.  An import
    that takes the built-in's first name makes OPA read the call as one into `data` (here an
    undefined function, not a refused built-in); the sandbox refuses it all the same: the
    engines would not agree on what such a call reaches."""
    text = _module(spelling, builtin)
    assert refusal(parse_module("p.rego", text), ()) is not None
    (tmp_path / "p.rego").write_text(text, encoding="utf-8")
    checked = run_tool("opa", "check", "--capabilities", str(CAPABILITIES_FILE),
                       str(tmp_path / "p.rego"))
    if spelling == "alias":  # OPA reads data.hostile.lib.<name>: undefined here, not refused
        assert "undefined function data.hostile.lib." in checked.stdout + checked.stderr
        return
    assert checked.returncode != 0
    assert "p.rego" in checked.stdout + checked.stderr


def test_a_mock_of_a_denied_builtin_is_no_call(tmp_path: Path) -> None:
    text = policy("HOSTILE-041", 'allowed := {"status_code": 200}\n\n'
                  'deny contains "x" if input.x == "http.send("\n\n'
                  "test_mock if { deny with http.send as allowed }\n")
    assert refusal(parse_module("p.rego", text), ()) is None


def test_opa_judges_each_module_again_as_it_compiled_it(
        opa_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Were regorus's parser to read a module otherwise than OPA's, what OPA runs is judged
    too: with the parse-tree check switched off here, every spelling OPA compiles is refused
    from the module as the server keeps it, and deleted from the server before any query."""
    import urllib.request

    from pe_policy.engine import sandbox
    from pe_policy.engine.opa_backend import OpaBackend, policy_id
    from pe_policy.engine.policy_error import PolicyError

    monkeypatch.setattr(sandbox, "refusal", lambda *_args, **_kwargs: None)
    backend = OpaBackend(opa_url)
    judged = 0
    for builtin in DENIED_CALLS:
        for spelling in SPELLINGS:
            module = parse_module(f"{spelling}/{builtin}.rego", _module(spelling, builtin))
            with pytest.raises(PolicyError) as info:
                backend.add_module(module)
            if "rejected the policy" in info.value.message:  # OPA does not compile it
                assert any(why in info.value.message for why in (
                    "undefined function data.", "is unsafe", "arity mismatch")), info.value
                continue
            judged += 1
            verb = "refers to" if spelling == "reference" else "calls"
            assert f"{verb} {builtin}" in info.value.message, info.value.message
            assert "as OPA at" in info.value.message  # its AST has no locations: no line
            with urllib.request.urlopen(f"{opa_url}/v1/policies", timeout=5) as answer:
                kept = [p["id"] for p in json.load(answer)["result"]]
            assert policy_id(module) not in kept
    assert judged >= len(DENIED_CALLS) * (len(SPELLINGS) - 5)
    fine = parse_module("fine.rego", policy("HOSTILE-042", 'deny contains upper("x") if true\n'))
    backend.add_module(fine)
    backend.set_input_json("{}")
    assert backend.eval_rule("data.hostile.hostile_042.deny") == ["X"]
