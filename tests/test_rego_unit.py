"""Every Rego unit test under `policies/` (`*_test.rego`, `test_*` rules) must hold.

Generic over kinds, like `opa test policies/`: each test file is loaded with the
non-test modules of its own kind directory (`policies/<kind>/**`, libraries
included) and any top-level `policies/lib/`, so one kind's work in progress
cannot break another kind's tests.  The engine gets the same `data.pe.params`
defaults the real run gets.  Tests run on regorus, the default backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import DEFAULT_PARAMS
from pe_policy.engine.rego import RegoModule, read_module

from .conftest import REPO

POLICIES = REPO / "policies"


def _kind_root(test_file: Path) -> Path:
    relative = test_file.relative_to(POLICIES)
    return POLICIES / relative.parts[0] if len(relative.parts) > 1 else POLICIES


def _modules_for(test_file: Path) -> list[RegoModule]:
    """The test file plus the non-test modules it may import."""
    root = _kind_root(test_file)
    files = {p for p in root.rglob("*.rego") if not p.name.endswith("_test.rego")}
    if root != POLICIES and (POLICIES / "lib").is_dir():
        files |= {p for p in (POLICIES / "lib").rglob("*.rego")
                  if not p.name.endswith("_test.rego")}
    files.add(test_file)
    return [read_module(p, p.relative_to(REPO).as_posix()) for p in sorted(files)]


def _cases() -> list[Any]:
    cases = []
    for test_file in sorted(POLICIES.rglob("*_test.rego")):
        module = read_module(test_file, test_file.relative_to(REPO).as_posix())
        for name in module.test_rules:
            cases.append(pytest.param(test_file, module.package, name,
                                      id=f"{module.path}::{name}"))
    return cases


def _evaluate(modules: list[RegoModule], rule: str) -> Any:
    from pe_policy.engine.backends import RegorusBackend

    backend = RegorusBackend()
    for module in modules:
        backend.add_module(module)
    backend.set_data({"pe": {"params": DEFAULT_PARAMS}})
    backend.set_input_json("{}")
    return backend.eval_rule(rule)


@pytest.mark.parametrize(("test_file", "package", "name"), _cases())
def test_rego_unit_test_passes(test_file: Path, package: str, name: str) -> None:
    result = _evaluate(_modules_for(test_file), f"data.{package}.{name}")
    assert result is True, f"{test_file.relative_to(REPO)}: {name} is {result!r}, not true"


def test_there_are_rego_unit_tests() -> None:
    assert len(_cases()) >= 10
