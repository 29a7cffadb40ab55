"""The whole workflow pack runs on OPA: `pe-policy bundle` carries every workflow and
action rule, and the real OPA serving that bundle decides as `pe-policy check` does on
every workflow fixture (the expression and shell models included in the input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.test_bundle_on_opa import bundle, check_messages, decision_messages, packages_by_kind, served

__all__ = ["bundle", "served"]  # module fixtures, shared with test_bundle_on_opa

FIXTURES = sorted(p.relative_to(REPO).as_posix()
                  for p in (REPO / "fixtures" / "workflow").rglob("*.yml"))


def test_every_workflow_and_action_rule_is_rego() -> None:
    rules = json.loads(run_cli(["rules", "--format", "json"], cwd=REPO).stdout)
    workflow_rules = [r for r in rules if r["id"].startswith("PE-WF-")]
    assert len(workflow_rules) >= 20
    assert [r["id"] for r in workflow_rules if r["engine"] != "rego"] == []


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: Path(p).name)
def test_opa_decides_like_check_on_every_workflow_fixture(path: str, bundle: Path, served: str) -> None:
    parsed = json.loads(run_cli(["parse", path], cwd=REPO).stdout)
    packages = packages_by_kind(bundle)[parsed["kind"]]
    assert decision_messages(served, packages, parsed["input"]) == check_messages(path)
