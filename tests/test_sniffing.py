"""A `.json` file is a pull request or a plan only on decisive evidence.

Discovery guesses a kind from a file's first kilobytes; the loader, which reads the whole
file, confirms it.  A GraphQL response fixture (the style of the GitHub CLI's own test
fixtures: `{"data": {"repository": {"pullRequest": ...}}}`) mentions `headRefName` and
`statusCheckRollup`, a JSON schema of a plan names `format_version` and
`resource_changes`: neither is what it mentions, so each is skipped (listed with
`--verbose`), never a PE-PARSE that blocks a commit.  Named with `--kind`, a file that does
not fit is an error.  Real payloads, gh output and plans in the same places are still checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pe_policy.discover import discover
from pe_policy.findings import Severity
from pe_policy.pipeline import check, exit_code
from tests.conftest import FIXTURES, REPO, run_cli
from tests.tf_plan_factory import build_plan
from tests.userland import write

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b"


def _check_context(name: str, conclusion: str) -> dict[str, Any]:
    return {"__typename": "CheckRun", "name": name, "status": "COMPLETED",
            "conclusion": conclusion, "startedAt": "2024-05-02T09:12:40Z",
            "completedAt": "2024-05-02T09:14:03Z",
            "detailsUrl": f"https://github.com/OWNER/REPO/runs/{abs(hash(name)) % 10**9}"}


def _graphql(pull_request: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"repository": {"pullRequest": pull_request}}}


# GraphQL responses as the GitHub CLI's fixtures record them (pkg/cmd/pr/*/fixtures)
GRAPHQL_FIXTURES: dict[str, Any] = {
    "prViewPreview.json": _graphql({
        "number": 12, "title": "Blueberries are from a fork", "state": "OPEN",
        "body": "**blueberries taste good**", "url": "https://github.com/OWNER/REPO/pull/12",
        "author": {"login": "nobody"}, "additions": 100, "deletions": 10,
        "headRefName": "blueberries", "baseRefName": "main", "headRefOid": SHA,
        "headRepositoryOwner": {"login": "hubot"}, "isCrossRepository": True, "isDraft": False,
        "reviewDecision": "REVIEW_REQUIRED", "mergeStateStatus": "BLOCKED",
        "statusCheckRollup": {"nodes": [{"commit": {"oid": SHA, "statusCheckRollup": {
            "contexts": {"nodes": [_check_context("build (ubuntu-latest)", "SUCCESS"),
                                   _check_context("lint", "FAILURE")],
                         "pageInfo": {"hasNextPage": False, "endCursor": "Y3Vyc29yOjI="}}}}}]},
        "labels": {"nodes": [{"name": "enhancement"}], "totalCount": 1},
    }),
    "someFailing.json": _graphql({
        "number": 123, "commits": {"nodes": [{"commit": {"oid": "abc", "statusCheckRollup": {
            "contexts": {"nodes": [_check_context("cool tests", "SUCCESS"),
                                   _check_context("sad tests", "FAILURE")]}}}}]},
    }),
    "prStatusCurrentBranch.json": {"data": {
        "repository": {"pullRequests": {"totalCount": 2, "edges": [
            {"node": {"number": 10, "title": "Blueberries are certainly a good fruit",
                      "state": "OPEN", "url": "https://github.com/PARENT/REPO/pull/10",
                      "headRefName": "blueberries", "isDraft": False,
                      "headRepositoryOwner": {"login": "OWNER"}, "isCrossRepository": False}},
            {"node": {"number": 9, "title": "Blueberries are a good fruit", "state": "MERGED",
                      "url": "https://github.com/PARENT/REPO/pull/9",
                      "headRefName": "blueberries", "isDraft": False,
                      "headRepositoryOwner": {"login": "OWNER"}, "isCrossRepository": False}},
        ]}},
        "viewerCreated": {"totalCount": 0, "edges": []},
        "reviewRequested": {"totalCount": 0, "edges": []},
    }},
    "prList.json": {"data": {"repository": {"pullRequests": {"totalCount": 2, "nodes": [
        {"number": 32, "title": "New feature", "url": "https://github.com/OWNER/REPO/pull/32",
         "headRefName": "feature", "baseRefName": "main", "state": "OPEN", "isDraft": False},
        {"number": 29, "title": "Fixed bad bug", "url": "https://github.com/OWNER/REPO/pull/29",
         "headRefName": "bug-fix", "baseRefName": "main", "state": "OPEN", "isDraft": True},
    ], "pageInfo": {"hasNextPage": False, "endCursor": ""}}}}},
}

# a pull request node on its own (what a GraphQL client's test saves): gh's field names, but
# connections (`{"nodes": [...]}`) where gh prints arrays
GRAPHQL_FIXTURES["pullRequestNode.json"] = {
    "number": 12, "title": "Blueberries are from a fork", "headRefName": "blueberries",
    "baseRefName": "main", "isDraft": False,
    "labels": {"nodes": [{"name": "enhancement"}], "totalCount": 1},
    "statusCheckRollup": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {
        "nodes": [_check_context("lint", "SUCCESS")]}}}}]},
}
# `gh pr list --json number,title,headRefName`: a list of pull requests, not one
GRAPHQL_FIXTURES["prListExport.json"] = [
    {"headRefName": "feature", "number": 32, "title": "New feature"},
    {"headRefName": "bug-fix", "number": 29, "title": "Fixed bad bug"},
]

# `gh pr view 7 --json number,title,...`: what gh prints (its keys sorted)
GH_PR_VIEW = {
    "author": {"id": "MDQ6VXNlcjE=", "is_bot": False, "login": "octocat", "name": "The Octocat"},
    "baseRefName": "main",
    "body": "Adds the health endpoint.\n\n- [x] tests\n- [ ] docs\n",
    "headRefName": "PE-7-health",
    "headRefOid": SHA,
    "labels": [],
    "number": 7,
    "reviews": [],
    "statusCheckRollup": [_check_context("build", "FAILURE")],
    "title": "PE-7: add /healthz",
    "url": "https://github.com/OWNER/REPO/pull/7",
}

# the REST issue of a pull request (GET /repos/{o}/{r}/issues/{n}): `pull_request` holds links
REST_ISSUE = {
    "id": 1, "number": 1347, "title": "Found a bug", "state": "open",
    "user": {"login": "octocat", "id": 1, "type": "User"},
    "pull_request": {"url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
                     "html_url": "https://github.com/octocat/Hello-World/pull/1347",
                     "diff_url": "https://github.com/octocat/Hello-World/pull/1347.diff",
                     "patch_url": "https://github.com/octocat/Hello-World/pull/1347.patch"},
    "body": "I'm having a problem with this.", "labels": [],
}


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def _open_ingress_plan() -> dict[str, Any]:
    """A real-looking plan whose security group is open to the world on SSH."""
    plan = build_plan(6)
    for section in (plan["resource_changes"], plan["planned_values"]["root_module"]["resources"]):
        for resource in section:
            if resource["type"] == "aws_security_group":
                values = resource["change"]["after"] if "change" in resource else resource["values"]
                values["ingress"][0].update(from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"])
    return plan


@pytest.fixture
def tools_repo(tmp_repo: Path) -> Path:
    """A repository with GraphQL test fixtures, pe-policy's own schemas, a real plan and a
    real pull request in places where only their content says what they are."""
    for name, data in GRAPHQL_FIXTURES.items():
        write(tmp_repo, f"pkg/cmd/pr/fixtures/{name}", _dump(data))
    write(tmp_repo, "api/fixtures/issue_of_a_pull_request.json", _dump(REST_ISSUE))
    for name in ("terraform_plan.schema.json", "pull_request.schema.json"):
        write(tmp_repo, f"schemas/{name}", (REPO / "schemas" / name).read_text(encoding="utf-8"))
    return tmp_repo


def _result(repo: Path, *paths: str, kind: str | None = None) -> Any:
    return check([repo / p for p in paths] or [repo], repo.resolve(), forced_kind=kind)


def test_graphql_fixtures_and_schemas_are_skipped_not_parse_errors(tools_repo: Path) -> None:
    result = _result(tools_repo)
    assert [f for f in result.findings if f.rule_id == "PE-PARSE"] == []
    assert exit_code(result, Severity.LOW) == 0
    skipped = dict(result.skipped)
    assert set(skipped) == {*(f"pkg/cmd/pr/fixtures/{n}" for n in GRAPHQL_FIXTURES),
                            "api/fixtures/issue_of_a_pull_request.json",
                            "schemas/terraform_plan.schema.json"}
    assert "top-level keys (`data`)" in skipped["pkg/cmd/pr/fixtures/prViewPreview.json"]
    assert "`labels` is an object" in skipped["pkg/cmd/pr/fixtures/pullRequestNode.json"]
    assert "must be a JSON object" in skipped["pkg/cmd/pr/fixtures/prListExport.json"]
    assert "no `number`" in skipped["api/fixtures/issue_of_a_pull_request.json"]
    assert "not a Terraform plan" in skipped["schemas/terraform_plan.schema.json"]
    assert result.checked_paths == []


def test_each_fixture_named_alone_as_pre_commit_passes_it(tools_repo: Path) -> None:
    for name in GRAPHQL_FIXTURES:
        result = _result(tools_repo, f"pkg/cmd/pr/fixtures/{name}")
        assert (result.findings, result.problems) == ([], []), name
        assert [path for path, _ in result.skipped] == [f"pkg/cmd/pr/fixtures/{name}"]


def test_the_real_ones_beside_them_are_checked(tools_repo: Path) -> None:
    write(tools_repo, "ci/pr-7.json", _dump(GH_PR_VIEW))
    event = json.loads((FIXTURES / "pull_request" / "bad" / "pull_request.opened.json").read_text())
    write(tools_repo, "ci/event.json", _dump(event))
    write(tools_repo, "infra/prod-plan-output.json", _dump(_open_ingress_plan()))
    result = _result(tools_repo)
    kinds = {c.path: c.kind for c in discover([tools_repo], tools_repo.resolve())[0]}
    assert {p: kinds[p] for p in result.checked_paths} == {
        "ci/pr-7.json": "pull_request", "ci/event.json": "pull_request",
        "infra/prod-plan-output.json": "terraform_plan"}
    found = {(f.location.path, f.rule_id) for f in result.active}
    assert ("ci/pr-7.json", "PE-PR-006") in found  # the failing `build` check
    assert ("ci/event.json", "PE-PR-002") in found  # the bad fixture's branch name
    assert ("infra/prod-plan-output.json", "PE-TF-002") in found  # SSH open to the world
    assert len(result.skipped) == len(GRAPHQL_FIXTURES) + 2


def test_a_plan_with_the_wrong_shape_is_skipped_when_sniffed_and_an_error_when_named(
        tmp_repo: Path) -> None:
    plan = build_plan(6)
    plan["resource_changes"] = {"count": 6}  # the keys of a plan, the shape of something else
    write(tmp_repo, "out/summary.json", _dump(plan))
    write(tmp_repo, "out/tfplan.json", _dump(plan))  # the name says it is a plan
    result = _result(tmp_repo, "out")
    assert [path for path, _ in result.skipped] == ["out/summary.json"]
    assert "\"resource_changes\" is not an array" in result.skipped[0][1]
    assert [(f.location.path, f.rule_id) for f in result.findings] == [
        ("out/tfplan.json", "PE-PARSE")]


@pytest.mark.parametrize(("path", "kind", "message"), [
    ("pkg/cmd/pr/fixtures/prViewPreview.json", "pull_request", "not a pull request"),
    ("pkg/cmd/pr/fixtures/prList.json", "pull_request", "not a pull request"),
    ("schemas/terraform_plan.schema.json", "terraform_plan", "not a Terraform plan"),
])
def test_named_with_kind_a_file_that_does_not_fit_is_an_error(
        tools_repo: Path, path: str, kind: str, message: str) -> None:
    result = _result(tools_repo, path, kind=kind)
    parse = [f for f in result.findings if f.rule_id == "PE-PARSE"]
    assert [f.location.path for f in parse] == [path] and message in parse[0].message
    assert result.skipped == [] and exit_code(result, Severity.LOW) == 2


def test_verbose_lists_the_skipped_files(tools_repo: Path) -> None:
    quiet = run_cli(["check", "--no-color", str(tools_repo)], cwd=tools_repo)
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    loud = run_cli(["check", "--no-color", "--verbose", str(tools_repo / "pkg"),
                    str(tools_repo / "schemas" / "terraform_plan.schema.json")], cwd=tools_repo)
    lines = [ln for ln in loud.stderr.splitlines() if ln.startswith("pe-policy: skipped ")]
    assert len(lines) == len(GRAPHQL_FIXTURES) + 1, loud.stderr
    assert ("pe-policy: skipped schemas/terraform_plan.schema.json: its content suggested "
            "terraform_plan, but not a Terraform plan") in loud.stderr


# --- an empty file where a kind belongs is reported --------------------------------------------


@pytest.mark.parametrize(("path", "message"), [
    ("runbooks/PE-61-runbook.md", "empty file: a runbook starts with `# <STORY-ID>: <Title>`"),
    ("docs/runbooks/PE-62.md", "empty file: a runbook starts with"),
    ("QA/QA-Report-PE-61.md", "empty file: a QA report starts with a `---` front matter block"),
    ("01-Projects/Gateway/Deployments/Deploy-PE-61.md", "empty file: a deployment report starts"),
    (".github/workflows/release.yml", "workflow must be a mapping at the top level, found an "
                                      "empty file"),
])
@pytest.mark.parametrize("content", ["", "\n  \n"], ids=["empty", "blank"])
def test_an_empty_file_in_a_kinds_place_is_reported(tmp_repo: Path, path: str, message: str,
                                                    content: str) -> None:
    write(tmp_repo, path, content)
    write(tmp_repo, "docs/notes.md", content)  # no kind's place: nothing to say about it
    write(tmp_repo, "runbooks/README.md", content)
    for walked in (True, False):  # a directory walk, and pre-commit naming the file
        result = _result(tmp_repo) if walked else _result(tmp_repo, path)
        assert [(f.location.path, f.location.line, f.rule_id) for f in result.findings] == [
            (path, 1, "PE-PARSE")]
        assert message in result.findings[0].message
        assert exit_code(result, Severity.LOW) == 2
