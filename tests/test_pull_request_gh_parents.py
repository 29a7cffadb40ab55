"""PE-PR-007 on `gh pr view --json commits,...` output: merge commits only when there are some.

gh prints each commit's `oid`, headline, body, dates and authors, never its parents
(gh's `api/export_pr.go`), so the output alone cannot tell a merge commit from any
other.  The loader asks the repository being checked, with git, when it holds the
commits (the branch is checked out or fetched): a linear branch then has no PE-PR-007
finding at all, a branch that merged its base in has one, at that commit.  Commits the
repository does not hold stay unknown, and PE-PR-007 says it could not judge them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pe_policy.pipeline import check
from tests.conftest import line_of
from tests.git_pr_repo import commit, git, isolate_git

BRANCH = "PE-31-rate-limits"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "gateway"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Mara Okafor")
    git(repo, "config", "user.email", "mara@plasma-engine.dev")
    commit(repo, "README.md", "chore: initial commit", 0)
    git(repo, "checkout", "-q", "-b", BRANCH)
    commit(repo, "limits.py", "feat(gateway): token bucket per client", 1)
    commit(repo, "test_limits.py", "test(gateway): bucket refills", 2)
    return repo


def _merge_main_in(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, "CODEOWNERS", "chore: add CODEOWNERS", 3)
    git(repo, "checkout", "-q", BRANCH)
    git(repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "-m",
        f"Merge branch 'main' into {BRANCH}", "main", when=4)
    commit(repo, "limits.py", "fix(gateway): bucket size from settings", 5)


def _gh_commit(repo: Path, sha: str) -> dict[str, Any]:
    """One element of gh's `commits`, as gh prints it (no parents)."""
    headline, body, date = git(repo, "show", "-s", "--format=%s%x1f%b%x1f%cI", sha).split("\x1f")
    return {"authoredDate": date, "authors": [{"email": "mara@plasma-engine.dev",
                                               "id": "MDQ6VXNlcjU4MzIzMQ==",
                                               "login": "mokafor", "name": "Mara Okafor"}],
            "committedDate": date, "messageBody": body.strip(), "messageHeadline": headline,
            "oid": sha}


def _gh_pr_view(repo: Path) -> Path:
    """`gh pr view 31 --json baseRefName,commits,headRefName,headRefOid,number,title` of the
    branch, written into the repository as a CI job would."""
    shas = git(repo, "rev-list", "--reverse", f"main..{BRANCH}").split()
    out = {"baseRefName": "main", "commits": [_gh_commit(repo, sha) for sha in shas],
           "headRefName": BRANCH, "headRefOid": shas[-1], "number": 31,
           "title": "PE-31: rate limits per client"}
    path = repo / "pr.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return path


def _pe_pr_007(repo: Path, pr: Path) -> list[tuple[int, str, str]]:
    result = check([], repo, pull_requests=[pr])
    return [(f.location.line, f.severity.value, f.message) for f in result.findings
            if f.rule_id == "PE-PR-007"]


def test_a_linear_branch_has_no_linear_history_finding(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert _pe_pr_007(repo, _gh_pr_view(repo)) == []


def test_a_merge_of_the_base_is_reported_at_its_commit(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _merge_main_in(repo)
    pr = _gh_pr_view(repo)
    merge = git(repo, "rev-parse", f"{BRANCH}~1")
    parents = git(repo, "show", "-s", "--format=%P", merge).split()
    found = _pe_pr_007(repo, pr)
    assert [(line, severity) for line, severity, _ in found] == [
        (line_of(pr, f'"oid": "{merge}"'), "low")]
    assert found[0][2].startswith(
        f"commit {merge[:12]} (\"Merge branch 'main' into {BRANCH}\") is a merge commit "
        f"(parents {parents[0][:12]}, {parents[1][:12]})")


def test_found_by_discovery_too(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _merge_main_in(repo)
    _gh_pr_view(repo)
    result = check([repo / "pr.json"], repo)
    assert [f.severity.value for f in result.findings if f.rule_id == "PE-PR-007"] == ["low"]


def test_commits_the_repository_does_not_hold_stay_unknown(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pr = _gh_pr_view(repo)
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    git(elsewhere, "init", "-q", "-b", "main")
    pr_copy = elsewhere / "pr.json"
    pr_copy.write_text(pr.read_text(encoding="utf-8"), encoding="utf-8")
    found = _pe_pr_007(elsewhere, pr_copy)
    assert [severity for _, severity, _ in found] == ["info"]
    assert found[0][2].startswith("could not be evaluated: gh does not report commit parents, "
                                  "and the repository checked does not hold these commits")


def test_a_repository_holding_some_of_them_names_the_others(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pr = _gh_pr_view(repo)
    data = json.loads(pr.read_text(encoding="utf-8"))
    stranger = "0123456789abcdef0123456789abcdef01234567"  # pushed by someone, never fetched
    data["commits"].append({**data["commits"][-1], "oid": stranger, "messageHeadline": "wip"})
    pr.write_text(json.dumps(data, indent=2), encoding="utf-8")
    found = _pe_pr_007(repo, pr)
    assert [severity for _, severity, _ in found] == ["info"]
    assert found[0][2] == ("could not be evaluated for commits 0123456789ab: the input lists no "
                           "parents for them")
