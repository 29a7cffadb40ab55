"""The benchmark's floor (benchmarks/floor.py) does the work `check` does, no less.

A target is called below the floor when the floor alone takes longer than the peer, so
the floor must evaluate every rule of the pack on every file: it finds what `check`
finds (on the rules it runs: not the repository-level judgment, which it leaves out).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pe_policy.engine.evaluate import Evaluator, judges_repository
from pe_policy.engine.pack import builtin_policy_dir, load_ruleset
from tests.conftest import FIXTURES, REPO, run_cli

FLOOR = REPO / "benchmarks" / "floor.py"


def floor(kind: str, target: Path) -> dict[str, int]:
    out = subprocess.run([sys.executable, str(FLOOR), kind, str(target)], capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def check_findings(target: Path, root: Path) -> list[dict]:
    out = run_cli(["check", "--format", "json", "--root", str(root), str(target)])
    assert out.exit_code == 1, out.stderr  # the bad fixtures break rules
    report = json.loads(out.stdout)
    assert report["errors"] == []
    return report["findings"]


def repository_rule_ids() -> set[str]:
    evaluator = Evaluator(load_ruleset([builtin_policy_dir()]), {})
    return {evaluator.rule_meta(module, name).id for module in evaluator.ruleset.policy_modules
            if judges_repository(module) for name in module.result_rules}


def test_workflow_floor_finds_what_check_finds_in_each_workflow() -> None:
    root = FIXTURES / "workflow" / "bad"
    workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
    measured = floor("workflows", root)
    assert measured["files"] == len(workflows) > 20
    assert measured["processes"] >= 1
    repository_rules = repository_rule_ids()
    assert {"PE-WF-003", "PE-WF-009"} <= repository_rules
    findings = [f for f in check_findings(root, root)
                if f["location"]["path"].startswith(".github/workflows/")]
    by_rule = Counter(f["rule_id"] for f in findings)
    assert len(by_rule) > 15  # most of the pack fires on these fixtures
    expected = sum(n for rule, n in by_rule.items() if rule not in repository_rules)
    assert measured["findings"] == expected


def test_plan_floor_finds_what_check_finds() -> None:
    plan = FIXTURES / "terraform_plan" / "bad" / "tfplan.json"
    measured = floor("plan", plan)
    assert measured["findings"] == len(check_findings(plan, plan.parent)) > 0
