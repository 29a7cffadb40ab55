"""`.pre-commit-hooks.yaml`: valid for pre-commit, and the real `pre-commit run` on a real repo.

The hooks run as `repo: local` hooks copied from the manifest, with
`language: system` and the entry pointing at this environment's console script:
the same ids, file patterns and arguments, without pre-commit building a
virtualenv from a git revision (the checkout may be uncommitted).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from pe_policy.starter import HOOK_FILES
from tests.conftest import FIXTURES, REPO, line_of
from tests.userland import ALEMBIC, FILTER_REPO, RUNBOOK, SQL_UP, TERRAFORM, WORKFLOW, write

MANIFEST = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"
PE_POLICY = BIN / "pe-policy"

GOOD_WORKFLOW = """\
name: Release notes
on:
  release:
    types: [published]
permissions:
  contents: read
jobs:
  notes:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - run: ./scripts/release-notes.sh > notes.md
"""


def manifest() -> list[dict[str, Any]]:
    from pre_commit.clientlib import load_manifest

    return load_manifest(str(MANIFEST))  # type: ignore[no-any-return]


def hook(hook_id: str) -> dict[str, Any]:
    return next(h for h in manifest() if h["id"] == hook_id)


def test_manifest_is_valid_and_consistent() -> None:
    hooks = manifest()
    assert hooks[0]["id"] == "pe-policy"
    assert {"pe-policy-workflows", "pe-policy-terraform"} <= {h["id"] for h in hooks}
    for h in hooks:
        assert h["entry"] == "pe-policy check" and h["language"] == "python"
        assert h["require_serial"] is False and h["pass_filenames"] is True
    assert hook("pe-policy")["files"] == HOOK_FILES  # the snippet `init` prints uses the same


@pytest.mark.parametrize(("hook_id", "path", "matches"), [
    ("pe-policy", WORKFLOW, True), ("pe-policy", TERRAFORM, True), ("pe-policy", ALEMBIC, True),
    ("pe-policy", SQL_UP, True), ("pe-policy", RUNBOOK, True), ("pe-policy", "action.yml", True),
    ("pe-policy", "plans/prod.tfplan.json", True), ("pe-policy", "reports/coverage.xml", True),
    ("pe-policy", "src/gateway/app.py", False), ("pe-policy", "config/settings.yml", False),
    ("pe-policy-workflows", WORKFLOW, True), ("pe-policy-workflows", TERRAFORM, False),
    ("pe-policy-terraform", TERRAFORM, True), ("pe-policy-terraform", "prod.tfplan.json", True),
    ("pe-policy-terraform", "infra/cdk.tf.json", True), ("pe-policy", "infra/cdk.tf.json", True),
    ("pe-policy-terraform", "package.json", False),
    ("pe-policy-docs", RUNBOOK, True), ("pe-policy-migrations", ALEMBIC, True),
    ("pe-policy-migrations", SQL_UP, True), ("pe-policy-migrations", WORKFLOW, False),
])
def test_file_patterns(hook_id: str, path: str, matches: bool) -> None:
    assert bool(re.search(hook(hook_id)["files"], path)) is matches


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def precommit_repo(tmp_path: Path) -> Path:
    if not PRE_COMMIT.exists() or not PE_POLICY.exists():
        pytest.skip("pre-commit or pe-policy is not installed in this environment")
    repo = tmp_path / "repo"
    shutil.copytree(FILTER_REPO, repo)
    git(repo, "init", "-q")
    write(repo, ".github/workflows/release.yml", GOOD_WORKFLOW)
    write(repo, "README.md", "# Gateway\n\nThe API gateway. See docs/runbooks for operations.\n")
    local_hooks = []
    for h in manifest():
        local_hooks.append({
            "id": h["id"], "name": h["name"], "files": h["files"],
            "require_serial": h["require_serial"], "language": "system",
            "entry": h["entry"].replace("pe-policy", str(PE_POLICY), 1),
        })
    write(repo, ".pre-commit-config.yaml",
          yaml.safe_dump({"repos": [{"repo": "local", "hooks": local_hooks}]}, sort_keys=False))
    git(repo, "add", ".pre-commit-config.yaml")  # pre-commit refuses an unstaged config
    return repo


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PRE_COMMIT")}
    env["PRE_COMMIT_HOME"] = str(repo.parent / "pre-commit-home")
    env["NO_COLOR"] = "1"
    return subprocess.run([str(PRE_COMMIT), "run", "--color", "never", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)


def test_hook_fails_on_a_bad_workflow_with_quiet_output(precommit_repo: Path) -> None:
    run = pre_commit(precommit_repo, "pe-policy", "--files", WORKFLOW)
    assert run.returncode == 1, run.stdout + run.stderr
    line = line_of(precommit_repo / WORKFLOW, "actions/checkout@v4")
    assert f"{WORKFLOW}:{line}:" in run.stdout and "PE-WF-002" in run.stdout
    assert not re.search(r"^\s*\d* \| ", run.stdout, re.MULTILINE)  # quiet: no code frames


def test_hook_passes_on_a_good_workflow_and_skips_unknown_files(precommit_repo: Path) -> None:
    run = pre_commit(precommit_repo, "pe-policy", "--files", ".github/workflows/release.yml",
                     "README.md")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^pe-policy\.+Passed$", run.stdout, re.MULTILINE), run.stdout


def test_narrow_hooks_only_see_their_files(precommit_repo: Path) -> None:
    run = pre_commit(precommit_repo, "pe-policy-workflows", "--files", TERRAFORM, RUNBOOK)
    assert run.returncode == 0 and "Skipped" in run.stdout, run.stdout
    run = pre_commit(precommit_repo, "pe-policy-terraform", "--files", TERRAFORM, WORKFLOW)
    assert run.returncode == 1 and "PE-TF-002" in run.stdout and "PE-WF-002" not in run.stdout


def test_config_excludes_apply_under_pre_commit(precommit_repo: Path) -> None:
    write(precommit_repo, ".pe-policy.yaml", "exclude: [\".github/workflows/ci.yml\"]\n")
    run = pre_commit(precommit_repo, "pe-policy", "--files", WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_report_committed_alone_gets_the_whole_repository_verdict(precommit_repo: Path) -> None:
    """pre-commit passes only the changed files: a deployment report whose approved QA report
    was committed earlier is judged by reading that QA report, as `check .` would."""
    good = FIXTURES / "deployment_report" / "good"
    shutil.copytree(good / "QA", precommit_repo / "QA")
    git(precommit_repo, "add", "QA")
    git(precommit_repo, "-c", "user.name=QA", "-c", "user.email=qa@example.com",
        "-c", "commit.gpgsign=false", "commit", "-q", "-m", "QA approves PE-12")
    deployments = "01-Projects/Platform-Gateway/Deployments"
    shutil.copytree(good / deployments, precommit_repo / deployments)
    report = f"{deployments}/Deploy-PE-12.md"
    git(precommit_repo, "add", report)
    run = pre_commit(precommit_repo, "pe-policy", "--files", report)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PE-DR-002" not in run.stdout
    # and an unapproved QA report is still found and still blocks
    qa = precommit_repo / "QA" / "QA-Report-PE-12.md"
    qa.write_text(qa.read_text(encoding="utf-8").replace("status: \"approved\"",
                                                         "status: \"changes_requested\""),
                  encoding="utf-8")
    run = pre_commit(precommit_repo, "pe-policy", "--files", report)
    assert run.returncode == 1 and "PE-DR-002" in run.stdout, run.stdout + run.stderr


# --- the snippet `pe-policy init` prints --------------------------------------------------------


def test_init_snippet_installs_from_this_repository_at_this_release() -> None:
    """`repo:` is the project's URL (pyproject, README), `rev:` this release's tag, and the
    hook is one the manifest defines: pre-commit can install it with no package index."""
    from pre_commit.clientlib import load_config

    from pe_policy import REPOSITORY_URL, __version__
    from pe_policy.starter import precommit_snippet

    declared = re.search(r'^Repository = "([^"]+)"$', (REPO / "pyproject.toml").read_text(
        encoding="utf-8"), re.MULTILINE)
    assert declared and declared.group(1) == REPOSITORY_URL
    assert f"- repo: {REPOSITORY_URL}" in (REPO / "README.md").read_text(encoding="utf-8")
    snippet = precommit_snippet()
    assert "additional_dependencies" not in snippet and "repo: local" not in snippet
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / ".pre-commit-config.yaml"
        config_file.write_text(snippet, encoding="utf-8")
        config = load_config(str(config_file))  # pre-commit's own validation
    (repo,) = config["repos"]
    assert repo["repo"] == REPOSITORY_URL and repo["rev"] == f"v{__version__}"
    assert [h["id"] for h in repo["hooks"]] == ["pe-policy"] and hook("pe-policy")


def test_init_snippet_really_installs(tmp_path: Path) -> None:
    """pre-commit clones the snippet's repository at its rev and installs pe-policy from it:
    here a clone of this repository's HEAD stands in for the URL and the tag."""
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed in this environment")
    from pe_policy import REPOSITORY_URL, __version__
    from pe_policy.starter import precommit_snippet

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    repo = tmp_path / "repo"
    shutil.copytree(FILTER_REPO, repo)
    git(repo, "init", "-q")
    snippet = precommit_snippet().replace(REPOSITORY_URL, str(REPO)).replace(
        f"rev: v{__version__}", f"rev: {head}")
    write(repo, ".pre-commit-config.yaml", snippet)
    git(repo, "add", ".pre-commit-config.yaml")
    run = pre_commit(repo, "pe-policy", "--files", WORKFLOW)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PE-WF-002" in run.stdout, run.stdout + run.stderr
