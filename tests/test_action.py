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
    assert output.read_text(encoding="utf-8").splitlines() == [
        "exit-code=1", "sarif-file=pe-policy.sarif"]
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
    assert output.read_text(encoding="utf-8").splitlines() == ["exit-code=0", "sarif-file="]
    assert "All clear" in summary.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_check_step_reads_no_cache_it_did_not_make(tmp_path: Path, runner_temp: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A step before the action (a pull request's own code) could plant a cache: compiled
    start-up code that pe-policy would execute.  The Check step uses a new cache of its own."""
    import marshal

    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True)
    write(workspace, ".github/workflows/docs.yml", documented_workflows()[1])
    planted = tmp_path / "planted-cache"
    pe_policy = [str(runner_temp / "pe-policy-venv" / "bin" / "pe-policy"), "check", "-q",
                 str(workspace / ".github" / "workflows" / "docs.yml"), "--root", str(workspace)]
    env = {**os.environ, "PE_POLICY_CACHE_DIR": str(planted)}
    assert subprocess.run(pe_policy, env=env, capture_output=True, check=False).returncode == 0
    table_file = next(planted.glob("compiled-*.marshal"))
    table = marshal.loads(table_file.read_bytes())
    table["methods"] = {text: compile("raise RuntimeError('planted')", "<string>", "exec")
                        for text in table["methods"]}
    table_file.write_bytes(marshal.dumps(table))
    poisoned = subprocess.run(pe_policy, env=env, capture_output=True, text=True, check=False)
    assert poisoned.returncode != 0 and "planted" in poisoned.stderr  # it would run
    monkeypatch.setenv("PE_POLICY_CACHE_DIR", str(planted))
    process, _, output = run_check_step(workspace, runner_temp, {})
    assert process.returncode == 0, process.stdout + process.stderr
    assert output.read_text(encoding="utf-8").splitlines()[0] == "exit-code=0"
    assert list(runner_temp.glob("pe-policy-cache.*/compiled-*.marshal"))  # its own, new


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_sarif_file_output_is_empty_when_no_sarif_was_written(tmp_path: Path,
                                                               runner_temp: Path) -> None:
    """A usage error (exit 2) writes no SARIF; a SARIF left by an earlier run is not reported
    as this run's, so the documented upload step (`if: ...sarif-file != ''`) is skipped."""
    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True)
    write(workspace, ".github/workflows/docs.yml", documented_workflows()[1])
    write(workspace, "pe-policy.sarif", "{}")  # stale
    write(workspace, ".pe-policy.yaml", "rules:\n  disable: [PE-NOPE-001\n")  # invalid
    process, _, output = run_check_step(workspace, runner_temp, {"sarif-file": "pe-policy.sarif"})
    assert process.returncode == 2, process.stdout + process.stderr
    assert output.read_text(encoding="utf-8").splitlines() == ["exit-code=2", "sarif-file="]
    assert not (workspace / "pe-policy.sarif").exists()


def _pins(lock: Path) -> dict[str, str]:
    """name -> `==version ; marker` of every requirement in a pip lock file."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)( ; .*?)? \\$", line)
        if match:
            pins[f"{match.group(1).lower()}{match.group(3) or ''}"] = match.group(2)
    return pins


def test_runtime_lock_pins_what_the_dev_lock_pins() -> None:
    """The action installs requirements/runtime.lock: the same versions the tests ran with."""
    runtime, dev = _pins(REPO / "requirements" / "runtime.lock"), _pins(REPO / "requirements" / "dev.lock")
    assert runtime and all(dev.get(name) == version for name, version in runtime.items()), {
        name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    needed = {Requirement(r).name.lower() for r in requires("pe-policy") or []
              if "extra ==" not in r}
    locked = {name.split(" ")[0] for name in runtime}
    assert needed <= locked and "hatchling" in locked  # every runtime dependency, the backend


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_install_step_installs_from_the_lock(tmp_path: Path) -> None:
    """The Install step, as the runner runs it: a new venv, the locked dependencies with their
    hashes checked, pe-policy built from the action's checkout without an index."""
    step = next(s for s in action()["runs"]["steps"] if s["name"] == "Install pe-policy")
    assert "--require-hashes" in step["run"] and "requirements/runtime.lock" in step["run"]
    script = tmp_path / "install-step.sh"
    script.write_text(step["run"], encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env.update({"RUNNER_TEMP": str(tmp_path), "GITHUB_ACTION_PATH": str(REPO),
                "PE_PYTHON": sys.executable})
    process = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    venv = tmp_path / "pe-policy-venv" / "bin"
    frozen = subprocess.run([str(venv / "python"), "-m", "pip", "freeze", "--all"],
                            capture_output=True, text=True, check=True).stdout
    installed = {Path(line.split("==")[0]).name.lower().replace("_", "-"): line.split("==")[1]
                 for line in frozen.splitlines() if "==" in line}
    for name, version in _pins(REPO / "requirements" / "runtime.lock").items():
        if name.split(" ")[0] in installed and " ; " not in name:
            assert installed[name] == version, name
    checked = subprocess.run([str(venv / "pe-policy"), "check", str(FIXTURES / "demo"), "-f", "json"],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 1, checked.stderr  # the demo's findings, built-in rules and all
    assert json.loads(checked.stdout)["summary"]["by_severity"]["critical"] > 0


def test_readme_cli_example_installs_like_the_action() -> None:
    """Locked, hash-checked dependencies, then pe-policy built offline: never `pip install
    pe-policy` resolved on the day."""
    def pip_commands(script: str, checkout: str) -> list[set[str]]:
        lines = script.replace("\\\n", " ").splitlines()
        return [{word.strip('"').replace(checkout, "") for word in line.split()
                 if (word.startswith("--") and word not in ("--quiet", "--disable-pip-version-check"))
                 or word.strip('"').endswith(".lock")}
                for line in lines if "pip install" in line]

    install = next(s for s in action()["runs"]["steps"] if s["name"] == "Install pe-policy")
    cli = yaml.safe_load(documented_workflows()[1])
    step = next(s for job in cli["jobs"].values() for s in job["steps"]
                if s.get("name") == "Install pe-policy")
    expected = pip_commands(install["run"], "$GITHUB_ACTION_PATH/")
    assert expected[0] == {"--require-hashes", "--no-deps", "requirements/runtime.lock"}
    assert pip_commands(step["run"], ".pe-policy-src/") == expected
