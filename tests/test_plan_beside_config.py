"""A plan checked beside its `.tf` files: one finding per problem, waivable by either path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import FIXTURES, line_of, run_cli

PLAN_DIR = FIXTURES / "terraform_plan" / "bad" / "with-config"


def copy_repo(tmp_repo: Path) -> Path:
    shutil.copytree(PLAN_DIR, tmp_repo / "infra")
    return tmp_repo


def findings(repo: Path) -> list[dict]:  # type: ignore[type-arg]
    result = run_cli(["check", str(repo), "--root", str(repo), "--format", "json"])
    return json.loads(result.stdout)["findings"]


def test_each_problem_is_reported_once(tmp_repo: Path) -> None:
    repo = copy_repo(tmp_repo)
    got = [(f["rule_id"], f["location"]["path"], f["location"]["line"], f["message"]) for f in findings(repo)]
    assert len(got) == len(set(got))
    ssh = [g for g in got if g[0] == "PE-TF-002"]
    ssh_line = line_of(repo / "infra/main.tf", 'cidr_blocks = ["0.0.0.0/0"]', occurrence=2)  # 1st is HTTPS
    assert [(g[1], g[2]) for g in ssh] == [("infra/main.tf", ssh_line)]


def test_a_waiver_naming_the_plan_waives_the_finding_shown_at_the_tf_line(tmp_repo: Path) -> None:
    repo = copy_repo(tmp_repo)
    (repo / ".pe-policy.yaml").write_text(
        "waivers:\n"
        "  - rule: PE-TF-005\n"
        "    path: infra/*.json\n"
        "    owner: '@platform'\n"
        "    reason: planned database replacement, CHG-1234\n"
        "    expires: 2999-12-31\n"
    )
    replaced = [f for f in findings(repo) if f["rule_id"] == "PE-TF-005"]
    at_tf = [f for f in replaced if f["location"]["path"] == "infra/main.tf"]
    assert at_tf and all(f["suppression"]["kind"] == "external" for f in replaced)


def test_fingerprints_follow_the_resource_not_its_position(tmp_repo: Path) -> None:
    repo = copy_repo(tmp_repo)
    before = {f["fingerprint"] for f in findings(repo) if f["rule_id"] == "PE-TF-002"}
    plan = repo / "infra" / "tfplan.json"
    data = json.loads(plan.read_text())
    data["resource_changes"].insert(0, {
        "address": "aws_sns_topic.new", "mode": "managed", "type": "aws_sns_topic", "name": "new",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": None, "after": {"name": "new"}, "after_unknown": {}},
    })
    plan.write_text(json.dumps(data, indent=2))
    after = {f["fingerprint"] for f in findings(repo) if f["rule_id"] == "PE-TF-002"}
    assert before and before == after
