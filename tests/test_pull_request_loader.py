"""The pull-request loader: three input shapes into one model, with honest unknowns and lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.discover import kind_by_content
from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import Source, load_file
from pe_policy.loaders.pull_request import load, load_git_range
from pe_policy.models.pull_request import (
    CheckSource,
    PullRequest,
    PullRequestSource,
    ReviewerType,
    SignatureStatus,
    parse_checklist,
)
from tests.conftest import FIXTURES
from tests.conftest import line_of as _line_of
from tests.git_pr_repo import BRANCH, SIGNER, PrRepo, isolate_git, make_pr_repo

PR = FIXTURES / "pull_request"
GOOD_EVENT = PR / "good" / "pull_request.synchronize.enriched.json"
PLAIN_EVENT = PR / "bad" / "pull_request.opened.json"
BAD_EVENT = PR / "bad" / "pull_request.synchronize.enriched.json"
GOOD_GH = PR / "good" / "gh-pr-view.json"
BAD_GH = PR / "bad" / "gh-pr-view.json"
ALL_FIXTURES = sorted(PR.glob("*/*.json"))


def load_path(path: Path) -> Document:
    return load_file(path, path.relative_to(FIXTURES.parent).as_posix(), "pull_request")


def model(doc: Document) -> PullRequest:
    assert isinstance(doc.model, PullRequest)
    return doc.model


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    return _line_of(path, needle, occurrence)


def load_data(data: Any, name: str = "pr.json", indent: int | None = 2) -> Document:
    return load(Source(path=name, text=json.dumps(data, indent=indent), kind="pull_request"))


def walk(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


# --- event payloads ---------------------------------------------------------------------------


def test_plain_event_knows_the_pr_but_not_its_commits_reviews_or_checks() -> None:
    doc = load_path(PLAIN_EVENT)
    pr = model(doc)
    assert pr.source is PullRequestSource.EVENT
    assert (pr.number, pr.title, pr.head_ref, pr.base_ref, pr.author) == (
        61, "Fix login redirect loop", "fix-login-redirect", "main", "devin-lee")
    assert pr.labels == ["bug"]
    assert pr.commit_count == 2
    # unknown, not invented: no empty lists, and the reason is recorded
    assert pr.commits is None and pr.reviews is None and pr.checks is None
    assert set(pr.unknown) == {"commits", "reviews", "checks"}
    assert "commits" not in doc.input and "reviews" not in doc.input
    assert "GET /repos/{owner}/{repo}/pulls/{number}/commits" in doc.input["unknown"]["commits"]


def test_enriched_event_reads_the_rest_lists() -> None:
    pr = model(load_path(BAD_EVENT))
    assert pr.unknown == {}
    assert [c.signature.status for c in pr.commits or []] == [
        SignatureStatus.VERIFIED, SignatureStatus.UNSIGNED, SignatureStatus.VERIFIED,
        SignatureStatus.UNVERIFIED]
    assert (pr.commits or [])[3].signature.reason == "unknown_key"
    assert [len(c.parents or []) for c in pr.commits or []] == [1, 1, 2, 1]
    reviews = pr.reviews or []
    assert [(r.author, r.author_type, r.state) for r in reviews][:3] == [
        ("coderabbitai[bot]", ReviewerType.BOT, "COMMENTED"),
        ("devin-lee", ReviewerType.HUMAN, "APPROVED"),
        ("priya-raman", ReviewerType.HUMAN, "CHANGES_REQUESTED"),
    ]
    assert all(r.commit_id and len(r.commit_id) == 40 for r in reviews)
    assert pr.check_sources == [CheckSource.CHECK_RUN, CheckSource.COMMIT_STATUS]
    statuses = [c for c in pr.checks or [] if c.source is CheckSource.COMMIT_STATUS]
    # the REST list is newest first; the model keeps every list oldest first
    assert [s.conclusion for s in statuses] == ["success", "pending"]
    # a status has no sha field: it comes from the status's url
    assert statuses[1].commit_sha == pr.head_sha


def test_check_runs_as_response_object_or_bare_list_read_the_same() -> None:
    data = json.loads(GOOD_EVENT.read_text(encoding="utf-8"))
    as_object = model(load_data(data)).checks
    data["check_runs"] = data["check_runs"]["check_runs"]
    as_list = model(load_data(data)).checks
    assert as_object == as_list
    assert [c.name for c in as_list or []][:4] == ["lint", "tests", "security-scan", "build"]


def test_combined_status_object_gives_the_sha() -> None:
    data = json.loads(PLAIN_EVENT.read_text(encoding="utf-8"))
    sha = data["pull_request"]["head"]["sha"]
    data["statuses"] = {"state": "success", "sha": sha, "total_count": 1, "statuses": [
        {"context": "CodeRabbit", "state": "success", "updated_at": "2025-03-13T11:50:00Z"}]}
    pr = model(load_data(data))
    assert pr.check_sources == [CheckSource.COMMIT_STATUS]
    assert [(c.name, c.commit_sha, c.passed) for c in pr.checks or []] == [("CodeRabbit", sha, True)]
    assert "checks" not in pr.unknown


def test_commits_list_shorter_than_the_prs_count_is_reported_incomplete() -> None:
    data = json.loads(GOOD_EVENT.read_text(encoding="utf-8"))
    data["commits"] = data["commits"][:2]
    pr = model(load_data(data))
    assert pr.commits is not None and len(pr.commits) == 2
    assert "lists 2 of the PR's 3 commits" in pr.unknown["commits"]


def test_null_body_is_an_empty_description_not_an_unknown_one() -> None:
    data = json.loads(PLAIN_EVENT.read_text(encoding="utf-8"))
    data["pull_request"]["body"] = None
    pr = model(load_data(data))
    assert (pr.body, pr.checklist) == ("", [])
    del data["pull_request"]["body"]
    pr = model(load_data(data))
    assert pr.checklist is None and "checklist" in pr.unknown


# --- gh pr view -------------------------------------------------------------------------------


def test_gh_output_with_rest_verification() -> None:
    pr = model(load_path(GOOD_GH))
    assert pr.source is PullRequestSource.GH
    assert (pr.number, pr.head_ref, pr.author) == (18, "research/PE-31-ingestion-pipeline",
                                                    "priya-raman")
    assert pr.labels == ["phase-1", "research"]
    assert [c.signature.status for c in pr.commits or []] == [SignatureStatus.VERIFIED] * 2
    # gh commits carry no parents: unknown, not "no parents"
    assert all(c.parents is None for c in pr.commits or [])
    assert set(pr.unknown) == {"commit_parents"}
    # gh names bots without [bot] and gives no user type
    assert {r.author_type for r in pr.reviews or []} == {ReviewerType.UNKNOWN}
    assert [(c.name, c.source) for c in pr.checks or []][-1] == ("CodeRabbit",
                                                                 CheckSource.COMMIT_STATUS)
    assert {c.commit_sha for c in pr.checks or []} == {pr.head_sha}


def test_gh_output_without_verification_has_unknown_signatures() -> None:
    pr = model(load_path(BAD_GH))
    assert {c.signature.status for c in pr.commits or []} == {SignatureStatus.UNKNOWN}
    assert "verification" in pr.unknown["commit_signatures"]
    in_progress = next(c for c in pr.checks or [] if c.name == "security-scan")
    assert (in_progress.status, in_progress.conclusion, in_progress.updated_at) == (
        "in_progress", None, "2025-03-15T10:40:21Z")  # gh's zero time is not a time
    assert in_progress.pending and not in_progress.passed


def test_gh_output_without_requested_fields_names_the_missing_json_fields() -> None:
    pr = model(load_data({"number": 7, "title": "[PE-1] x", "headRefName": "a/PE-1-x"}))
    assert pr.unknown["reviews"] == "the gh output has no `reviews`: add it to `gh pr view --json`"
    assert "statusCheckRollup" in pr.unknown["checks"]


# --- positions --------------------------------------------------------------------------------


def test_findings_locate_on_the_input_lines() -> None:
    doc = load_path(BAD_EVENT)
    assert doc.location(("title",)).line == line_of(BAD_EVENT, '"title": "[PE-19]')
    assert doc.location(("head_ref",)).line == line_of(BAD_EVENT, '"ref": "gateway/PE-19')
    assert doc.location(("commits", 1)).line == line_of(BAD_EVENT, '"sha": "3fafa58')
    assert doc.location(("commits", 1, "signature")).line == line_of(BAD_EVENT, '"verification"', 2)
    assert doc.location(("reviews", 2)).line == line_of(BAD_EVENT, '"CHANGES_REQUESTED"')
    assert doc.location(("reviews", 1, "commit_id")).line == line_of(BAD_EVENT, '"commit_id"', 2)
    assert doc.location(("checks", 1, "conclusion")).line == line_of(BAD_EVENT, '"failure"')
    assert doc.location(("labels",)).line == line_of(BAD_EVENT, '"labels": [')
    # something absent falls back to the pull_request object, not line 1
    assert doc.location(("nothing",)).line == line_of(BAD_EVENT, '"pull_request": {')


def test_checklist_item_points_into_the_body_string() -> None:
    doc = load_path(PLAIN_EVENT)
    pr = model(doc)
    index = next(i for i, item in enumerate(pr.checklist or []) if item.text == "Docs updated")
    item = (pr.checklist or [])[index]
    assert (item.checked, item.line) == (False, 6)  # line 6 of the description
    body_line = line_of(PLAIN_EVENT, '"body": ')
    location = doc.location(("checklist", index), snippet=item.raw)
    text = PLAIN_EVENT.read_text(encoding="utf-8").splitlines()[body_line - 1]
    assert location.line == body_line
    assert text[(location.column or 0) - 1:].startswith("- [ ] Docs updated")


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_source_map_paths_exist_in_the_input(path: Path) -> None:
    """Rego sees `doc.input`; every located path must be a path into it."""
    doc = load_path(path)
    assert doc.source_map.spans, "no positions at all"
    for located in doc.source_map.spans:
        walk(doc.input, located)
    assert json.loads(json.dumps(doc.input)) == doc.input


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message", "line"), [
    ('{\n  "pull_request": {\n    "title": "x",\n  }\n}', "invalid JSON", 4),
    ('[{"headRefName": "x"}]', "must be a JSON object", 1),
    ('{\n  "action": "opened",\n  "pull_request": "42"\n}', "`pull_request` must be an object", 3),
    ('{\n  "pull_request": {\n    "labels": [\n      {"name": "a"},\n      7\n    ]\n  }\n}',
     "`pull_request.labels[1]` must be an object, found a number", 5),
    ('{\n  "pull_request": {"title": "x"},\n  "commits": [\n    {"commit": {}}\n  ]\n}',
     "`commits[0]` has no `sha`", 4),
    ('{\n  "pull_request": {},\n  "check_runs": {"total_count": 0}\n}',
     "`check_runs` has no `check_runs`", 3),
    ('{\n  "headRefName": "x",\n  "reviews": [{"state": 1}]\n}',
     "`reviews[0].state` must be a string", 3),
    ('{"action": "created", "issue": {"pull_request": {}}}', "not a pull request", 1),
])
def test_malformed_input_is_a_parse_error_at_its_line(text: str, message: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        load(Source(path="event.json", text=text, kind="pull_request"))
    assert message in caught.value.message
    assert caught.value.line == line


def test_kind_detection_by_content() -> None:
    assert kind_by_content("event.json", PLAIN_EVENT.read_text(encoding="utf-8")[:8192]) == (
        "pull_request")
    assert kind_by_content("pr.json", GOOD_GH.read_text(encoding="utf-8")[:8192]) == "pull_request"
    # gh sorts keys: a long body pushes headRefName past the sniffed head, baseRefName is before it
    assert kind_by_content("pr.json", '{"author": {}, "baseRefName": "main", "body": "') == (
        "pull_request")
    assert kind_by_content("pr.json", '{\n"pull_request"\n:\n{"url": 1') == "pull_request"
    # an issue_comment payload names a PR inside `issue` but does not carry it
    comment = '{"action": "created", "issue": {"number": 3, "pull_request": {"url": "x"}}}'
    assert kind_by_content("event.json", comment) is None


# --- property tests: whatever the JSON, a Document or a ParseError -----------------------------

_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.text(max_size=12) | st.sampled_from(["\ud800", "- [ ] x", "APPROVED", "Bot"]))
_KEYS = st.sampled_from([
    "pull_request", "title", "body", "head", "base", "ref", "sha", "user", "login", "type",
    "labels", "name", "commits", "commit", "verification", "verified", "reason", "parents",
    "reviews", "state", "commit_id", "check_runs", "statuses", "context", "conclusion", "status",
    "headRefName", "headRefOid", "statusCheckRollup", "__typename", "oid", "author", "number",
]) | st.text(max_size=8)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_KEYS, inner, max_size=6), max_leaves=40)


def _assert_document_or_parse_error(data: Any, indent: int | None) -> None:
    try:
        doc = load_data(data, indent=indent)
    except ParseError as exc:
        assert exc.line >= 1 and exc.message
        return
    pr = model(doc)
    json.dumps(doc.input)  # what Rego receives
    for located in doc.source_map.spans:
        walk(doc.input, located)
    assert set(pr.unknown) <= {*PullRequest.model_fields, "commit_signatures", "commit_parents"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON, st.sampled_from([None, 0, 2]))
def test_arbitrary_json_loads_or_fails_cleanly(data: Any, indent: int | None) -> None:
    _assert_document_or_parse_error(data, indent)


def _mutate(source: st.DataObject, data: Any) -> Any:
    """Replace or delete one node somewhere in `data`."""
    draw = source.draw
    data = copy.deepcopy(data)
    node = data
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return data
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.booleans()):
            node = child
            continue
        if isinstance(node, dict) and draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(_JSON)
        return data


_FIXTURE_DATA = [json.loads(p.read_text(encoding="utf-8")) for p in ALL_FIXTURES]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_fixtures_load_or_fail_cleanly(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(_FIXTURE_DATA))
    mutated = original
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = _mutate(data, mutated)
    _assert_document_or_parse_error(mutated, 2)


# --- checklist parsing ------------------------------------------------------------------------


def test_checklist_ignores_code_fences_and_comments() -> None:
    body = "\r\n".join([
        "<!-- - [ ] template instruction, not an item -->",
        "<!--",
        "- [ ] also inside a comment",
        "-->",
        "```markdown",
        "- [ ] an example in a code block",
        "```",
        "* [X] Tests run",
        "  - [ ] nested: docs updated",
        "1. [x] numbered ADR impact",
        "- [] not a checkbox",
    ])
    items = parse_checklist(body)
    assert [(i.text, i.checked, i.line) for i in items] == [
        ("Tests run", True, 8), ("nested: docs updated", False, 9), ("numbered ADR impact", True, 10)]


# --- a local git range ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PrRepo]:
    with pytest.MonkeyPatch.context() as patch:
        isolate_git(patch)
        return {"checked": make_pr_repo(tmp_path_factory.mktemp("checked")),
                "unchecked": make_pr_repo(tmp_path_factory.mktemp("unchecked"),
                                          allowed_signers=False)}


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


def test_git_range_reads_commits_signatures_and_parents(repos: dict[str, PrRepo]) -> None:
    repo = repos["checked"]
    doc = load_git_range(repo.path, f"main..{BRANCH}")
    pr = model(doc)
    assert doc.path == f"git:main..{BRANCH}"
    assert pr.source is PullRequestSource.GIT
    assert (pr.head_ref, pr.base_ref, pr.head_sha) == (BRANCH, "main", repo.merge)
    commits = pr.commits or []
    assert [c.sha for c in commits] == [repo.signed, repo.unsigned, repo.merge]
    assert [c.signature.status for c in commits] == [
        SignatureStatus.VERIFIED, SignatureStatus.UNSIGNED, SignatureStatus.UNSIGNED]
    assert commits[0].signature.signer == SIGNER
    assert (commits[0].signature.key or "").startswith("SHA256:")
    assert commits[0].signature.reason == "git %G?=G: good signature"
    assert [c.parents for c in commits] == [[repo.base], [repo.signed], [repo.unsigned,
                                                                        repo.main_side]]
    assert commits[0].subject == "feat(gateway): FastAPI app factory"
    # what git cannot know stays unknown
    assert set(pr.unknown) == {"number", "url", "title", "body", "checklist", "author", "labels",
                               "reviews", "checks"}


def test_git_reports_an_uncheckable_ssh_signature_as_unverified_not_unsigned(
        repos: dict[str, PrRepo]) -> None:
    repo = repos["unchecked"]
    pr = model(load_git_range(repo.path, f"main..{BRANCH}"))
    statuses = {c.sha: c.signature for c in pr.commits or []}
    assert statuses[repo.signed].status is SignatureStatus.UNVERIFIED
    assert "allowedSignersFile" in (statuses[repo.signed].reason or "")
    assert statuses[repo.unsigned].status is SignatureStatus.UNSIGNED


def test_git_range_with_detached_head_has_no_branch(repos: dict[str, PrRepo]) -> None:
    repo = repos["checked"]
    pr = model(load_git_range(repo.path, f"{repo.base}..{repo.unsigned}"))
    assert pr.head_ref is None and pr.base_ref is None
    assert "not a branch" in pr.unknown["head_ref"]
    assert [c.sha for c in pr.commits or []] == [repo.signed, repo.unsigned]


@pytest.mark.parametrize(("rev_range", "message"), [
    ("main..no-such-branch", "bad revision 'main..no-such-branch'"),
    ("main", "is not a range"),
    ("--all..main", "invalid git range"),
    ("main..--output=/tmp/x", "invalid git range"),
    ("", "invalid git range"),
])
def test_bad_git_range_is_a_parse_error(repos: dict[str, PrRepo], rev_range: str,
                                        message: str) -> None:
    with pytest.raises(ParseError) as caught:
        load_git_range(repos["checked"].path, rev_range)
    assert message in caught.value.message
    assert caught.value.path == f"git:{rev_range}"


def test_git_range_outside_a_repository_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        load_git_range(tmp_path, "main..HEAD")
    assert "not a git repository" in caught.value.message
