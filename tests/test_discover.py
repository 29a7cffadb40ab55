"""Which repository a command works in (`discover.repo_root`), and which files a walk finds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pe_policy.discover import SKIP_DIRS, detect_kind, discover, find_root, repo_root
from tests.conftest import run_cli
from tests.userland import FILTER_REPO, WORKFLOW, write


@pytest.fixture
def nested(tmp_repo: Path) -> Path:
    (tmp_repo / "a" / "b").mkdir(parents=True)
    (tmp_repo / "a" / "b" / "ci.yml").write_text("x: 1\n", encoding="utf-8")
    return tmp_repo


def test_explicit_root_wins_resolved(nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nested / "a")
    assert repo_root(Path("b"), nested / "a" / "b" / "ci.yml") == (nested / "a" / "b").resolve()


@pytest.mark.parametrize("anchor", ["a/b/ci.yml", "a/b", "a"])
def test_the_repository_around_the_anchor(nested: Path, anchor: str) -> None:
    assert repo_root(None, nested / anchor) == nested.resolve()


def test_a_bare_file_name_is_found_from_the_current_directory(
        nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nested / "a" / "b")
    assert repo_root(None, Path("ci.yml")) == nested.resolve()
    assert repo_root(None, Path.cwd()) == nested.resolve()


def test_outside_any_repository_the_start_is_the_root(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    if find_root(tmp_path) != tmp_path.resolve():
        pytest.skip("the temporary directory lies inside a repository")
    assert repo_root(None, tmp_path / "plain") == (tmp_path / "plain").resolve()


# --- the root outside a git work tree, and .gitignore ------------------------------------------

def _export(tmp_path: Path) -> Path:
    """The filters repository as an export (a release tarball, a CI artifact): no `.git`."""
    repo = tmp_path / "export" / "gateway"
    shutil.copytree(FILTER_REPO, repo)
    if find_root(tmp_path) != tmp_path.resolve():
        pytest.skip("the temporary directory lies inside a repository")
    return repo


def test_workflows_outside_a_git_work_tree_are_found_from_their_directory(tmp_path: Path) -> None:
    repo = _export(tmp_path)
    assert repo_root(None, repo / ".github" / "workflows") == repo.resolve()
    candidates, problems = discover([repo / ".github" / "workflows"], repo.resolve())
    assert [(c.path, c.kind) for c in candidates] == [(WORKFLOW, "workflow")] and problems == []
    out = run_cli(["check", "--no-color", "-f", "json", str(repo / ".github" / "workflows")],
                  cwd=tmp_path)
    assert out.exit_code == 1 and f'"path": "{WORKFLOW}"' in out.stdout, out.stderr


def test_the_configuration_marks_the_root_too(tmp_path: Path) -> None:
    repo = _export(tmp_path)
    shutil.rmtree(repo / ".github")
    write(repo, ".pe-policy.yaml", "exclude: []\n")
    assert repo_root(None, repo / "infra") == repo.resolve()


def test_inside_a_git_work_tree_git_decides_before_a_nested_github_directory(tmp_path: Path) -> None:
    repo = _export(tmp_path)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo, "vendor/tool/.github/workflows/ci.yml", "on: push\njobs: {}\n")
    assert repo_root(None, repo / "vendor" / "tool" / ".github" / "workflows") == repo.resolve()


GITIGNORE = """\
# build output and local plans (the documentation's examples of gitignore(5) patterns)
/out/
*.tfplan.json
!infra/reviewed.tfplan.json
vendor/
docs/**/drafts/
"""


def _ignoring_repo(tmp_path: Path, *, git: bool) -> Path:
    repo = _export(tmp_path)
    if git:
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo, ".gitignore", GITIGNORE)
    plan = '{"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": []}\n'
    write(repo, "out/.github/workflows/ci.yml", (repo / WORKFLOW).read_text())
    write(repo, "out/plan.json", plan)
    write(repo, "infra/local.tfplan.json", plan)
    write(repo, "infra/reviewed.tfplan.json", plan)
    write(repo, "vendor/module/main.tf", (repo / "infra" / "network.tf").read_text())
    write(repo, "docs/runbooks/drafts/PE-50-runbook.md", "# PE-50: Draft\n\n## Goal Description\n")
    # a nested .gitignore re-includes what its parent left out, below it
    write(repo, "infra/modules/.gitignore", "!*.tfplan.json\n")
    write(repo, "infra/modules/vpc.tfplan.json", plan)
    write(repo, "infra/.terraform/modules/x/main.tf", "")  # always skipped (SKIP_DIRS)
    return repo


@pytest.mark.parametrize("git", [True, False], ids=["git clone", "export without .git"])
def test_a_walk_honours_gitignore_as_git_does(tmp_path: Path, git: bool) -> None:
    repo = _ignoring_repo(tmp_path, git=git)
    found = {c.path for c in discover([repo], repo.resolve())[0]}
    assert not found & {"out/plan.json", "out/.github/workflows/ci.yml", "infra/local.tfplan.json",
                        "vendor/module/main.tf", "docs/runbooks/drafts/PE-50-runbook.md"}
    assert {"infra/reviewed.tfplan.json", "infra/modules/vpc.tfplan.json", WORKFLOW} <= found
    if git:  # the reference: every file git itself lists (tracked or not, ignored left out)
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                                cwd=repo, capture_output=True, text=True, check=True).stdout
        known = {p for p in listed.splitlines() if detect_kind(repo / p, p) is not None
                 and not SKIP_DIRS & set(p.split("/"))}  # `.terraform`: pe-policy's own choice
        assert found == known


def test_a_subdirectory_walk_applies_the_gitignore_files_above_it(tmp_path: Path) -> None:
    repo = _ignoring_repo(tmp_path, git=False)
    found = {c.path for c in discover([repo / "infra"], repo.resolve())[0]}
    assert "infra/local.tfplan.json" not in found
    assert {"infra/reviewed.tfplan.json", "infra/modules/vpc.tfplan.json"} <= found


def test_a_file_named_on_the_command_line_is_checked_even_if_ignored(tmp_path: Path) -> None:
    repo = _ignoring_repo(tmp_path, git=False)
    found = [c.path for c in discover([repo / "out" / "plan.json"], repo.resolve())[0]]
    assert found == ["out/plan.json"]


def test_walked_files_are_named_as_resolving_each_would_name_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk names a file by its path below the walked directory and resolves only links
    (`_placed_below`): the same names and problems as `place` on every file, for a directory
    given as `.`, through `..`, through a link, and with links inside and out of the root."""
    import os

    from pe_policy import discover as module

    root = tmp_path / "repo"
    workflows = root / "real" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (root / ".git").mkdir()
    (workflows / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (workflows / "linked-in.yml").symlink_to(workflows / "ci.yml")
    outside = tmp_path / "elsewhere.yml"
    outside.write_text(WORKFLOW, encoding="utf-8")
    (workflows / "linked-out.yml").symlink_to(outside)
    (root / "alias").symlink_to(root / "real")
    (root / "other").mkdir()
    monkeypatch.chdir(root)
    givens = [Path("."), Path("real"), Path("other/../real"), Path("alias"), root / "real"]
    fast = {str(g): discover([g], root) for g in givens}
    monkeypatch.setattr(module, "_placed_below",
                        lambda file, walked, under, root: module.place(file, root))
    for given in givens:
        names = [(c.path, c.kind) for c in fast[str(given)][0]]
        assert names == [(c.path, c.kind) for c in discover([given], root)[0]], given
        assert fast[str(given)][1] == discover([given], root)[1], given
    assert ("real/.github/workflows/ci.yml", "workflow") in [
        (c.path, c.kind) for c in fast["."][0]]
    assert any("elsewhere" not in p and "linked-out" in p for p, _ in fast["."][1])
    assert os.path.islink(workflows / "linked-in.yml")
