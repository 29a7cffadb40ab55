"""A repository's own Rego cannot weaken or break the built-in pack.

`check` compiles the built-in pack and the repository's policies (`policies:` in
`.pe-policy.yaml`, which a pull request can change) together.  Rego merges every module of a
package: a user module in a built-in package could add to the pack's rules (silently
weakening a gate) or conflict with them (turning every rule that reads them into an error).
The `pe` namespace belongs to the pack: a module in it that is not one of the pack's own files
is refused, naming its file and the line of its `package`, on every engine; the pack's
findings stay exactly what they are without it.
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

# A pipeline without lint, build or security jobs or coverage gate, an unpinned action, no
# permissions, and a production deploy: PE-WF-001 (x2), 002, 003 (x4), 005 and 009 report it.
WORKFLOW = """\
name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: ./deploy.sh
"""

# Each is nine lines, and each, before the pack's namespace was reserved, changed what the
# built-in rules report.
HOSTILE: dict[str, str] = {
    # rules that conflict with the library's: every workflow rule that reads it fails
    "conflict": """\
package pe.workflow.lib.pipeline

import rego.v1

triggers := 1

is_pipeline := "yes"

label(_, _) := 7
""",
    # a second `default` for a library rule: the package no longer compiles
    "default": """\
package pe.workflow.lib.pipeline

import rego.v1

default triggers := {"push"}

# one default per rule: this one
# makes the whole package fail to
# compile, with every rule using it
""",
    # a contribution to one of the library's sets: every job is "auxiliary", so the stage
    # rules silently find nothing (no error: the gate is weakened, not broken)
    "weaken": """\
package pe.workflow.lib.pipeline

import rego.v1

# every job is auxiliary: no job is
# in a stage, and no workflow is a pipeline
auxiliary_jobs contains job_id if {
	some job_id, _ in input.jobs
}
""",
    # a rule of the same name as a built-in rule, in its package
    "same-rule": """\
package pe.workflow.pinned_actions

import rego.v1

deny := "pinned"

pinned(_) := true

unpinned_message(_) := "fine"
""",
    # the rule parameters live at data.pe.params: a rule there conflicts with them
    "params": """\
package pe.params

import rego.v1

coverage_threshold := 0

production_environments := []

release_refs := ["refs/heads/none"]
""",
}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every backend: regorus, and a real `opa run --server` of this test's own."""
    if request.param != "opa":
        yield request.param, {}
        return
    with opa_server() as url:
        yield request.param, {"opa_url": url}


def run(repo: Path, policies: dict[str, str], engine: tuple[str, dict[str, Any]]) -> CheckResult:
    (repo / ".github/workflows").mkdir(parents=True, exist_ok=True)
    (repo / ".github/workflows/ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (repo / "policies").mkdir(exist_ok=True)
    for name, text in policies.items():
        (repo / "policies" / name).write_text(text, encoding="utf-8")
    (repo / ".pe-policy.yaml").write_text("policies: [policies]\n", encoding="utf-8")
    root = repo.resolve()
    name, options = engine
    return check([root], root, config=resolve_config(root), engine=name, engine_options=options,
                 limits=Limits(timeout=60, memory_mb=2048))


def shown(result: CheckResult) -> list[tuple[str, str, int, str]]:
    return sorted((f.rule_id, f.location.path, f.location.line, f.message)
                  for f in result.findings)


BUILTIN_IDS = ["PE-WF-001"] * 2 + ["PE-WF-002", "PE-WF-003", "PE-WF-005", "PE-WF-009"]


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_a_module_in_a_builtin_package_is_refused_and_the_pack_unchanged(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]], hostile: str) -> None:
    text = HOSTILE[hostile]
    assert len(text.splitlines()) == 9
    result = run(tmp_repo, {"hostile.rego": text}, engine)
    assert sorted(f.rule_id for f in result.findings) == BUILTIN_IDS, json.dumps(
        [f.to_dict() for f in result.findings], indent=1)
    message = next(m for p, m in result.problems if p.endswith("hostile.rego"))
    package = text.splitlines()[0].split()[1]
    assert "policies/hostile.rego:1:" in message
    assert f"package {package}" in message and "built-in" in message


def test_the_pack_reports_the_same_with_or_without_a_refused_module(
        tmp_path: Path, engine: tuple[str, dict[str, Any]]) -> None:
    (tmp_path / "with" / ".git").mkdir(parents=True)
    (tmp_path / "without" / ".git").mkdir(parents=True)
    poisoned = run(tmp_path / "with", {f"{n}.rego": t for n, t in HOSTILE.items()}, engine)
    clean = run(tmp_path / "without", {}, engine)
    assert shown(poisoned) == shown(clean)
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in poisoned.problems) == sorted(
        f"{n}.rego" for n in HOSTILE)
    assert clean.problems == []


def test_a_module_of_its_own_package_may_read_the_pack(
        tmp_repo: Path, engine: tuple[str, dict[str, Any]]) -> None:
    """Reading the pack's libraries is fine: only adding to or redefining them is refused."""
    mine = """\
# METADATA
# title: Pipelines deploy from a named job
# custom:
#   id: ACME-001
#   severity: low
#   kinds: [workflow]
package acme.workflow.deploys

import data.pe.workflow.lib.pipeline
import rego.v1

deny contains sprintf("pipeline with triggers %v", [sort(pipeline.triggers)]) if pipeline.is_pipeline
"""
    result = run(tmp_repo, {"mine.rego": mine}, engine)
    assert result.problems == []
    assert [f.message for f in result.findings if f.rule_id == "ACME-001"] == [
        'pipeline with triggers ["push"]']
    assert sorted(f.rule_id for f in result.findings if f.rule_id != "ACME-001") == BUILTIN_IDS


BROKEN_OF_ITS_OWN = {
    # recursion between its own rules
    "recursion.rego": "package acme.recursion\n\nimport rego.v1\n\na := b\n\nb := a\n\n"
                      "deny contains \"x\" if a\n",
    # a conflict between its own rules
    "conflict.rego": "package acme.conflict\n\nimport rego.v1\n\ndeny := 1\n\n"
                     "deny := 2\n",
    # an error at evaluation
    "divide.rego": "package acme.divide\n\nimport rego.v1\n\n"
                   "deny contains \"x\" if 1 / count(input.nothing) == 1\n",
}


def test_a_broken_module_of_its_own_package_leaves_the_pack_alone(
        tmp_path: Path, engine: tuple[str, dict[str, Any]]) -> None:
    (tmp_path / "with" / ".git").mkdir(parents=True)
    (tmp_path / "without" / ".git").mkdir(parents=True)
    broken = run(tmp_path / "with", BROKEN_OF_ITS_OWN, engine)
    clean = run(tmp_path / "without", {}, engine)
    builtin = [f for f in shown(broken) if f[0].startswith("PE-WF")]
    assert builtin == [f for f in shown(clean) if f[0].startswith("PE-WF")]
    assert not [f for f in broken.findings if f.rule_id == "PE-RULE-ERROR"
                and str(f.properties.get("failed_rule", "")).startswith("PE-")]
