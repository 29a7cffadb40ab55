"""The whole workflow pack runs on OPA: `pe-policy bundle` carries every workflow and
action rule, and the real OPA serving that bundle decides as `pe-policy check` does on
every workflow fixture (the expression and shell models included in the input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pe_policy.engine.bundle import read_bundle
from pe_policy.engine.rego import parse_module
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


def repository_packages(bundle: Path) -> set[str]:
    """Packages judged over a whole repository (they define `document_facts`)."""
    _manifest, _data, modules = read_bundle(bundle)
    return {module.package for path, text in modules.items()
            if (module := parse_module(path, text)).result_rules and "document_facts" in text}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: Path(p).name)
def test_opa_decides_like_check_on_every_workflow_fixture(path: str, bundle: Path, served: str) -> None:
    """Per-file rules get the parsed document; repository-level rules (PE-WF-003/009) get it as
    conftest's `--combine` hands documents over, `[{path, contents}]`, which names the file as
    `check` does; a lone document (no path) gets the same verdict in a message without it."""
    parsed = json.loads(run_cli(["parse", path], cwd=REPO).stdout)
    packages = packages_by_kind(bundle)[parsed["kind"]]
    per_repository = repository_packages(bundle) & packages
    assert per_repository or parsed["kind"] != "workflow"
    messages = sorted(decision_messages(served, packages - per_repository, parsed["input"])
                      + decision_messages(served, per_repository,
                                          [{"path": path, "contents": parsed["input"]}]))
    assert messages == check_messages(path)
