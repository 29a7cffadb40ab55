"""The README's promises: two set-up commands, CI runs the test one, the rule examples work."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")


def block(language: str, after: str) -> str:
    section = README[README.index(after):]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block after {after!r}"
    return match.group(1)


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = [line.split("#")[0].strip() for line in block("sh", "## Quick start").splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_custom_rule_examples_work(tmp_repo: Path) -> None:
    (tmp_repo / "policy").mkdir()
    (tmp_repo / "policy" / "runners.rego").write_text(block("rego", "## Writing your own rules"))
    (tmp_repo / "policy" / "timeouts.py").write_text(block("python", "## Writing your own rules"))
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policy]\npython_rules: true\n")
    workflows = tmp_repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "deploy.yml").write_text(
        "on: workflow_dispatch\npermissions: {}\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: ./deploy.sh\n"
    )
    result = run_cli(["check", str(tmp_repo), "--root", str(tmp_repo)])
    assert result.exit_code == 1
    assert ".github/workflows/deploy.yml:5:5: ACME-001 [medium]" in result.stdout
    assert ".github/workflows/deploy.yml:4:3: ACME-002 [low]" in result.stdout


def test_every_rule_is_in_the_readme_table() -> None:
    import json

    rules = json.loads(run_cli(["rules", "--format", "json"]).stdout)
    for rule in rules:
        assert f"| {rule['id']} | {rule['severity']} |" in README, rule["id"]
