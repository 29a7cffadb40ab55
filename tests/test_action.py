"""`action.yml` and the documented workflows: clean under pe-policy's own rules, and the
action's script really produces annotations, a job summary, SARIF and an exit code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pe_policy.reporters import FORMATS
from tests.conftest import FIXTURES, REPO, check_paths, line_of
from tests.git_pr_repo import git
from tests.userland import WORKFLOW, copy_repo, write

ACTION = REPO / "action.yml"
DOCS = REPO / "README.md"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUT_EXPRESSION = re.compile(r"^inputs\.([A-Za-z0-9_-]+)$")


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def documented_workflows() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    return [b for b in blocks if re.search(r"^on:", b, re.MULTILINE) and re.search(r"^jobs:", b, re.MULTILINE)]


def test_action_passes_its_own_rules() -> None:
    result = check_paths([ACTION], REPO)
    assert result.checked_paths == ["action.yml"]
    assert [d.kind for d in result.files] == ["action"]
    assert result.findings == [] and result.problems == []


def test_documented_workflows_pass_their_own_rules(tmp_repo: Path) -> None:
    workflows = documented_workflows()
    assert len(workflows) >= 2
    for number, text in enumerate(workflows):
        write(tmp_repo, f".github/workflows/example-{number}.yml", text)
    result = check_paths([tmp_repo], tmp_repo)
    assert len(result.files) == len(workflows)
    assert [(f.rule_id, str(f.location), f.message) for f in result.findings] == []


def test_documented_workflow_uses_real_inputs_and_least_privilege() -> None:
    inputs = set(action()["inputs"])
    for text in documented_workflows():
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("pe-policy/pe-policy@"):
                    assert set(step["with"]) <= inputs
                    assert step["with"]["pr-event"] == "${{ github.event_path }}"
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            assert writes <= {"security-events"}
    assert any('--pr "$GITHUB_EVENT_PATH"' in text for text in documented_workflows())


def test_scripts_never_expand_expressions() -> None:
    """Inputs reach the shell only through env: no script injection through an input."""
    for step in action()["runs"]["steps"]:
        assert "${{" not in step["run"]
        for value in step.get("env", {}).values():
            for expression in EXPRESSION.findall(str(value)):
                assert INPUT_EXPRESSION.match(expression), expression


def run_check_step(workspace: Path, runner_temp: Path, inputs: dict[str, str]) -> tuple[
        subprocess.CompletedProcess[str], Path, Path]:
    """The action's Check step, as the runner executes it (GitHub's files and variables)."""
    meta = action()
    values = {name: spec.get("default", "") for name, spec in meta["inputs"].items()}
    values.update(inputs)
    step = next(s for s in meta["runs"]["steps"] if s.get("id") == "check")
    env = {k: v for k, v in os.environ.items() if k not in ("PRE_COMMIT",)}
    for name, value in step["env"].items():
        env[name] = EXPRESSION.sub(
            lambda m: values[INPUT_EXPRESSION.match(m.group(1)).group(1)],  # type: ignore[union-attr]
            str(value))
    summary, output = runner_temp / "step_summary.md", runner_temp / "github_output"
    summary.touch()
    output.touch()
    env.update({"RUNNER_TEMP": str(runner_temp), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_OUTPUT": str(output), "GITHUB_ACTION_PATH": str(REPO), "CI": "true",
                "GITHUB_ACTIONS": "true"})
    # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`
    script = runner_temp / "check-step.sh"
    script.write_text(step["run"], encoding="utf-8")
    process = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                             cwd=workspace, env=env,
                             capture_output=True, text=True, timeout=300)
    return process, summary, output


def committed_on_main(workspace: Path) -> None:
    """`workspace` as a git clone of its own files, on the branch `main`."""
    shutil.rmtree(workspace / ".git")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "-c", "user.name=CI", "-c", "user.email=ci@example.com", "-c",
        "commit.gpgsign=false", "commit", "-q", "-m", "base")


@pytest.fixture
def runner_temp(tmp_path: Path) -> Path:
    """`$RUNNER_TEMP` with the venv the Install step would have created (this environment's)."""
    temp = tmp_path / "runner-temp"
    bin_dir = temp / "pe-policy-venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "pe-policy").symlink_to(Path(sys.executable).parent / "pe-policy")
    return temp


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_check_step_reports_everywhere(tmp_path: Path, runner_temp: Path) -> None:
    workspace = copy_repo(tmp_path / "workspace")
    committed_on_main(workspace)  # the event's base: a pull request's gate comes from it
    event = FIXTURES / "pull_request" / "bad" / "pull_request.opened.json"
    log_format = "github" if "github" in FORMATS else "text"
    process, summary, output = run_check_step(workspace, runner_temp, {
        "paths": ".github/workflows\ninfra", "format": log_format,
        "sarif-file": "pe-policy.sarif", "pr-event": str(event), "fail-on": "high",
    })
    assert process.returncode == 1, process.stderr
    assert output.read_text(encoding="utf-8").splitlines() == ["exit-code=1"]
    line = line_of(workspace / WORKFLOW, "actions/checkout@v4")
    if log_format == "github":
        assert re.search(rf"^::error .*file={re.escape(WORKFLOW)},line={line}\b", process.stdout,
                         re.MULTILINE), process.stdout
    else:
        assert f"{WORKFLOW}:{line}:" in process.stdout
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("## pe-policy") and "`PE-WF-002`" in markdown
    assert "`PE-TF-002`" in markdown and "`PE-PR-002`" in markdown  # the paths and the PR
    assert "db/" not in markdown  # only the given paths
    sarif = json.loads((workspace / "pe-policy.sarif").read_text(encoding="utf-8"))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"PE-WF-002", "PE-TF-002", "PE-PR-002"} <= rules


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_check_step_passes_on_a_clean_repository(tmp_path: Path, runner_temp: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True)
    write(workspace, ".github/workflows/docs.yml", documented_workflows()[1])
    process, summary, output = run_check_step(workspace, runner_temp, {"summary": "true"})
    assert process.returncode == 0, process.stdout + process.stderr
    assert output.read_text(encoding="utf-8").strip() == "exit-code=0"
    assert "All clear" in summary.read_text(encoding="utf-8")
