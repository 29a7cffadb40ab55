"""PE-PR-001..008 on the pull-request fixtures, on a real git range, and through the CLI."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.engine.pack import RuleSet, load_ruleset
from pe_policy.findings import Finding, Severity
from pe_policy.loaders import Source
from pe_policy.loaders.pull_request import load
from pe_policy.pipeline import CheckResult, check
from tests.conftest import FIXTURES, REPO, line_of, rule_hits, run_cli
from tests.git_pr_repo import BRANCH, PrRepo, isolate_git, make_pr_repo

PR = FIXTURES / "pull_request"
POLICIES = REPO / "policies" / "pull_request"
BAD_PLAIN = PR / "bad" / "pull_request.opened.json"
BAD_ENRICHED = PR / "bad" / "pull_request.synchronize.enriched.json"
BAD_GH = PR / "bad" / "gh-pr-view.json"
GOOD_ENRICHED = PR / "good" / "pull_request.synchronize.enriched.json"
GOOD_PLAIN = PR / "good" / "pull_request.opened.json"
GOOD_GH = PR / "good" / "gh-pr-view.json"
RULES = [f"PE-PR-00{n}" for n in range(1, 9)]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    """Only the pull-request pack: these tests judge these rules, nothing else."""
    return load_ruleset([POLICIES])


def run(ruleset: RuleSet, *paths: Path, params: dict[str, Any] | None = None) -> CheckResult:
    config = Config(params=params) if params is not None else None
    return check(list(paths), REPO, ruleset=ruleset, config=config)


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def failing(result: CheckResult, rule_id: str) -> list[tuple[str, int]]:
    """(path, line) of the rule's findings that count (above info)."""
    return sorted((f.location.path, f.location.line) for f in result.active
                  if f.rule_id == rule_id and f.severity is not Severity.INFO)


def infos(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.location.path, f.rule_id) for f in result.active if f.severity is Severity.INFO}


def messages(result: CheckResult, rule_id: str) -> list[str]:
    return [f.message for f in result.active if f.rule_id == rule_id]


def test_every_pr_rule_is_in_the_catalog(ruleset: RuleSet) -> None:
    for rule_id in RULES:
        meta = ruleset.catalog.get(rule_id)
        assert meta is not None, rule_id
        assert meta.kinds == ("pull_request",)
        assert meta.source.startswith("seed")
    assert {ruleset.catalog[r].engine for r in RULES} == {"python", "rego"}


# --- good fixtures: nothing that counts -------------------------------------------------------


def test_good_enriched_event_is_clean(ruleset: RuleSet) -> None:
    result = run(ruleset, GOOD_ENRICHED)
    assert [f.rule_id for f in result.active] == []


def test_good_plain_event_and_gh_output_say_only_what_they_cannot_judge(ruleset: RuleSet) -> None:
    result = run(ruleset, GOOD_PLAIN, GOOD_GH)
    assert [f for f in result.active if f.severity is not Severity.INFO] == []
    assert infos(result) == {
        # a plain payload has no commits, reviews or checks
        (rel(GOOD_PLAIN), "PE-PR-001"), (rel(GOOD_PLAIN), "PE-PR-005"),
        (rel(GOOD_PLAIN), "PE-PR-006"), (rel(GOOD_PLAIN), "PE-PR-007"),
        # gh reports no commit parents
        (rel(GOOD_GH), "PE-PR-007"),
    }
    # exactly one per rule and document: "could not be evaluated" is said once
    assert len([f for f in result.active if f.severity is Severity.INFO]) == 5
    assert all(f.message.startswith("could not be evaluated") for f in result.active)


# --- bad fixtures: each rule, exact lines -------------------------------------------------------


def test_pe_pr_001_unsigned_and_unverified_commits(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_ENRICHED)
    assert failing(result, "PE-PR-001") == [
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"verification"', 2)),
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"verification"', 4)),
    ]
    unsigned, unverified = messages(result, "PE-PR-001")
    assert unsigned.startswith('commit 3fafa58e77a8 ("wip") is not signed')
    assert "reason: unknown_key" in unverified


def test_pe_pr_001_gh_without_verification_is_one_info(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_GH)
    findings = [f for f in result.active if f.rule_id == "PE-PR-001"]
    assert [(f.severity, f.location.line) for f in findings] == [
        (Severity.INFO, line_of(BAD_GH, '"commits": ['))]
    assert "verification" in findings[0].message


def test_pe_pr_002_branch_name(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_PLAIN, BAD_ENRICHED, BAD_GH)
    assert failing(result, "PE-PR-002") == [
        (rel(BAD_PLAIN), line_of(BAD_PLAIN, '"ref": "fix-login-redirect"'))]


def test_pe_pr_003_title(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_PLAIN, BAD_ENRICHED, BAD_GH)
    assert failing(result, "PE-PR-003") == sorted([
        (rel(BAD_PLAIN), line_of(BAD_PLAIN, '"title": "Fix login')),
        (rel(BAD_GH), line_of(BAD_GH, '"title": "[PE-45]')),
    ])
    assert any("references PE-45 but the head branch" in m for m in messages(result, "PE-PR-003"))


def test_pe_pr_004_unticked_items_point_at_the_box(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_PLAIN)
    findings = [f for f in result.active if f.rule_id == "PE-PR-004"]
    body_line = line_of(BAD_PLAIN, '"body": ')
    text = BAD_PLAIN.read_text(encoding="utf-8").splitlines()[body_line - 1]
    assert [f.location.line for f in findings] == [body_line, body_line]
    assert text[(findings[0].location.column or 0) - 1:].startswith("- [ ] Docs updated\\r\\n")
    assert text[(findings[1].location.column or 0) - 1:].startswith("- [ ] ADR impact\\r\\n")
    assert findings[0].message.startswith('checklist item "Docs updated" (line 6 of the description)')


def test_pe_pr_004_missing_checklist(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_GH)
    assert failing(result, "PE-PR-004") == [(rel(BAD_GH), line_of(BAD_GH, '"body": '))]
    assert messages(result, "PE-PR-004")[0].startswith("the PR description has no checklist")


def test_pe_pr_004_missing_required_item(ruleset: RuleSet, tmp_path: Path) -> None:
    data = json.loads(GOOD_PLAIN.read_text(encoding="utf-8"))
    data["pull_request"]["body"] = "## Checklist\n- [x] Tests run\n- [x] Lint pass\n- [x] ADR: none\n"
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    result = check([path], tmp_path, ruleset=ruleset)
    assert messages(result, "PE-PR-004") == [
        'the PR checklist has no item about "docs" (required: tests, lint, docs, adr): add it as '
        "a task-list item and tick it"]
    assert rule_hits(result, "PE-PR-004") == [("event.json", line_of(path, '"body": '))]


def test_pe_pr_005_reviews(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_ENRICHED)
    assert failing(result, "PE-PR-005") == [
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"commit_id"', 1)),  # CodeRabbit, older commit
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"commit_id"', 2)),  # stale human approval
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"CHANGES_REQUESTED"')),  # still outstanding
    ]
    automated, approval, changes = messages(result, "PE-PR-005")
    assert "not the head commit fa809fa78285" in automated
    assert "approval by devin-lee" in approval and "author mara-okafor does not count" in approval
    assert changes.startswith("priya-raman requested changes")


def test_pe_pr_005_gh_bot_named_without_bot_suffix_is_not_a_human_approval(
        ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_GH)
    assert failing(result, "PE-PR-005") == [(rel(BAD_GH), line_of(BAD_GH, '"reviews": ['))]
    assert messages(result, "PE-PR-005") == [
        "no human other than the author has approved the head commit 4e6dd720cdaf: ask a "
        "teammate to review"]


def _event_with_reviews(reviews: list[dict[str, Any]]) -> dict[str, Any]:
    data = json.loads(GOOD_ENRICHED.read_text(encoding="utf-8"))
    head = data["pull_request"]["head"]["sha"]
    for review in reviews:
        review.setdefault("commit_id", head)
    data["reviews"] = reviews
    return data


def _ids(data: dict[str, Any], ruleset: RuleSet, rule_id: str) -> list[str]:
    from pe_policy.engine.evaluate import Evaluator

    doc = load(Source(path="pr.json", text=json.dumps(data, indent=2), kind="pull_request"))
    evaluator = Evaluator(ruleset, DEFAULT_PARAMS)
    return [f.message for f in evaluator.evaluate(doc) if f.rule_id == rule_id]


def _review(login: str, state: str, when: str, kind: str = "User", **extra: Any) -> dict[str, Any]:
    return {"user": {"login": login, "type": kind}, "state": state, "submitted_at": when, **extra}


@pytest.mark.parametrize(("reviews", "expected"), [
    pytest.param([_review("coderabbitai[bot]", "COMMENTED", "2025-03-11T14:00:00Z", "Bot"),
                  _review("devin-lee", "CHANGES_REQUESTED", "2025-03-11T14:10:00Z"),
                  _review("devin-lee", "COMMENTED", "2025-03-11T14:20:00Z"),
                  _review("priya-raman", "APPROVED", "2025-03-11T14:30:00Z")],
                 ["devin-lee requested changes"], id="a later comment keeps changes requested"),
    pytest.param([_review("coderabbitai[bot]", "COMMENTED", "2025-03-11T14:00:00Z", "Bot"),
                  _review("devin-lee", "DISMISSED", "2025-03-11T14:10:00Z"),
                  _review("priya-raman", "APPROVED", "2025-03-11T14:30:00Z")],
                 [], id="a dismissed review does not block"),
    pytest.param([_review("coderabbitai[bot]", "APPROVED", "2025-03-11T14:00:00Z", "Bot")],
                 ["no human other than the author"], id="a bot approval is not a human one"),
    pytest.param([_review("priya-raman", "APPROVED", "2025-03-11T14:30:00Z")],
                 ["no automated review"], id="no CodeRabbit review at all"),
    pytest.param([_review("coderabbitai[bot]", "COMMENTED", "2025-03-11T14:00:00Z", "Bot"),
                  _review("mara-okafor", "APPROVED", "2025-03-11T14:30:00Z")],
                 ["the only approval is by the PR's author mara-okafor"], id="self-approval"),
])
def test_pe_pr_005_review_semantics(ruleset: RuleSet, reviews: list[dict[str, Any]],
                                    expected: list[str]) -> None:
    found = _ids(_event_with_reviews(reviews), ruleset, "PE-PR-005")
    assert len(found) == len(expected)
    for message, start in zip(found, expected, strict=True):
        assert start in message


def test_pe_pr_006_status_checks(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_ENRICHED, BAD_GH)
    assert failing(result, "PE-PR-006") == sorted([
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"check_runs": [')),  # security-scan missing
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"head_sha": "a8ed9e0')),  # lint on an old commit
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"conclusion": "failure"')),  # tests failed
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"state": "pending"')),  # CodeRabbit pending
        (rel(BAD_GH), line_of(BAD_GH, '"conclusion": "FAILURE"')),  # lint failed
        (rel(BAD_GH), line_of(BAD_GH, '"status": "IN_PROGRESS"')),  # security-scan running
    ])
    found = messages(result, "PE-PR-006")
    assert any(m.startswith('required check "security-scan" did not report on the head commit '
                            "fa809fa78285 (searched check runs and commit statuses)") for m in found)
    assert any(m.startswith('required check "lint" ran on commit a8ed9e07e409') for m in found)


def test_pe_pr_006_latest_status_per_context_wins(ruleset: RuleSet) -> None:
    """The good fixture's CodeRabbit status went pending -> success on the head commit."""
    data = json.loads(GOOD_ENRICHED.read_text(encoding="utf-8"))
    assert _ids(data, ruleset, "PE-PR-006") == []
    pending = next(s for s in data["statuses"] if s["state"] == "pending")
    pending["created_at"] = pending["updated_at"] = "2025-03-11T15:00:00Z"  # now the newest
    assert [m[:40] for m in _ids(data, ruleset, "PE-PR-006")] == [
        'required check "CodeRabbit" has not fini']


def test_pe_pr_006_reusable_workflow_job_names_match(ruleset: RuleSet) -> None:
    data = json.loads(GOOD_ENRICHED.read_text(encoding="utf-8"))
    for run_ in data["check_runs"]["check_runs"]:
        run_["name"] = f"ci / {run_['name']}"
    assert _ids(data, ruleset, "PE-PR-006") == []


def test_pe_pr_007_merge_commit(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_ENRICHED)
    assert failing(result, "PE-PR-007") == [
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"parents"', 3))]
    assert messages(result, "PE-PR-007")[0].startswith(
        "commit a8ed9e07e409 (\"Merge branch 'main' into gateway/PE-19-rate-limiting\") is a "
        "merge commit (parents 3fafa58e77a8, 9675afd0cffa)")


def test_pe_pr_008_labels(ruleset: RuleSet) -> None:
    result = run(ruleset, BAD_PLAIN, BAD_GH)
    labels_plain = line_of(BAD_PLAIN, '"labels": [')
    assert failing(result, "PE-PR-008") == [
        (rel(BAD_GH), line_of(BAD_GH, '"labels": [')),
        (rel(BAD_PLAIN), labels_plain), (rel(BAD_PLAIN), labels_plain),
    ]


def test_parameters_change_the_verdicts(ruleset: RuleSet) -> None:
    params = copy.deepcopy(DEFAULT_PARAMS)
    params["required_checks"] = ["tests"]
    params["branch_patterns"] = [r"^fix-[a-z-]+$"]
    params["service_labels"] = ["bug"]
    params["phase_label_pattern"] = r"^bug$"
    result = run(ruleset, BAD_PLAIN, BAD_ENRICHED, params=params)
    assert failing(result, "PE-PR-002") == [
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"ref": "gateway/PE-19'))]
    assert failing(result, "PE-PR-006") == [
        (rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"conclusion": "failure"'))]
    assert failing(result, "PE-PR-008") == sorted(
        [(rel(BAD_ENRICHED), line_of(BAD_ENRICHED, '"labels": ['))] * 2)


# --- a git range ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> PrRepo:
    with pytest.MonkeyPatch.context() as patch:
        isolate_git(patch)
        return make_pr_repo(tmp_path_factory.mktemp("pr"))


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


def _git_findings(ruleset: RuleSet, repo: PrRepo) -> Iterator[Finding]:
    result = check([], repo.path, ruleset=ruleset, git_ranges=[f"main..{BRANCH}"])
    yield from result.active


def test_git_range_rules_name_the_commit(ruleset: RuleSet, repo: PrRepo) -> None:
    findings = list(_git_findings(ruleset, repo))
    counted = {(f.rule_id, f.message.split(" ")[1]) for f in findings
               if f.severity is not Severity.INFO}
    assert counted == {("PE-PR-001", repo.unsigned[:12]), ("PE-PR-001", repo.merge[:12]),
                       ("PE-PR-007", repo.merge[:12])}
    assert {f.location.path for f in findings} == {f"git:main..{BRANCH}"}
    assert {f.location.line for f in findings} == {1}
    # the branch is known and well named; what git cannot know is info, once per rule
    assert sorted(f.rule_id for f in findings if f.severity is Severity.INFO) == [
        "PE-PR-003", "PE-PR-004", "PE-PR-005", "PE-PR-006", "PE-PR-008"]


def test_cli_git_range(repo: PrRepo) -> None:
    out = run_cli(["check", "--no-color", "--git-range", f"main..{BRANCH}", "--repo",
                   str(repo.path)], cwd=repo.path)
    assert out.exit_code == 1, out.stdout + out.stderr
    assert re.search(rf"git:main\.\.{re.escape(BRANCH)}:1: PE-PR-001 \[high\] commit "
                     rf"{repo.unsigned[:12]} ", out.stdout)


def test_cli_bad_git_range_is_an_input_error(repo: PrRepo) -> None:
    out = run_cli(["check", "--no-color", "--git-range", "main..nope", "--repo",
                   str(repo.path)], cwd=repo.path)
    assert out.exit_code == 2
    assert "PE-PARSE" in out.stdout and "bad revision 'main..nope'" in out.stdout


# --- the CLI with --pr ------------------------------------------------------------------------


def test_cli_pr_file_reports_each_rule_at_its_line() -> None:
    out = run_cli(["check", "--no-color", "--pr", str(BAD_PLAIN)], cwd=REPO)
    assert out.exit_code == 1, out.stdout + out.stderr
    path = rel(BAD_PLAIN)
    branch = line_of(BAD_PLAIN, '"ref": "fix-login')
    title = line_of(BAD_PLAIN, '"title": "Fix')
    assert f"{path}:{branch}:7: PE-PR-002 [medium] head branch \"fix-login-redirect\"" in out.stdout
    assert f"{path}:{title}:5: PE-PR-003 [medium]" in out.stdout
    assert "Found 10 findings (4 medium, 2 low, 4 info) in 1 file; 1 file checked." in out.stdout


def test_cli_pr_good_file_passes() -> None:
    out = run_cli(["check", "--no-color", "--pr", str(GOOD_ENRICHED)], cwd=REPO)
    assert (out.exit_code, out.stdout.strip()) == (0, "All clear: 1 file checked, no findings.")


def test_cli_pr_in_a_checked_directory_is_read_once() -> None:
    out = run_cli(["check", "--no-color", "-f", "json", "--pr", str(BAD_GH), str(PR / "bad")],
                  cwd=REPO)
    findings = json.loads(out.stdout)["findings"]
    gh_008 = [f for f in findings if f["rule_id"] == "PE-PR-008"
              and f["location"]["path"] == rel(BAD_GH)]
    assert len(gh_008) == 1


# --- the Rego unit tests ----------------------------------------------------------------------


def _rego_tests() -> list[tuple[str, str]]:
    out = []
    for file in sorted(POLICIES.glob("*_test.rego")):
        text = file.read_text(encoding="utf-8")
        package = re.search(r"^package (\S+)", text, re.MULTILINE)
        assert package is not None
        out += [(package.group(1), name) for name in re.findall(r"^(test_\w+)", text, re.MULTILINE)]
    return out


@pytest.fixture(scope="module")
def rego_engine() -> Any:
    import regorus

    engine = regorus.Engine()
    engine.set_rego_v0(True)  # `import rego.v1` modules, as the evaluator loads them
    for file in sorted(POLICIES.glob("*.rego")):
        engine.add_policy(file.name, file.read_text(encoding="utf-8"))
    return engine


@pytest.mark.parametrize(("package", "test"), _rego_tests())
def test_rego_unit_tests(rego_engine: Any, package: str, test: str) -> None:
    assert rego_engine.eval_rule_as_json(f"data.{package}.{test}") == "true"


# --- robustness: any document the loader accepts, every rule judges without failing -------------


def test_rules_never_fail_on_documents_the_loader_accepts(ruleset: RuleSet) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pe_policy.engine.evaluate import Evaluator
    from pe_policy.findings import ParseError
    from tests.test_pull_request_loader import _FIXTURE_DATA, _mutate

    evaluator = Evaluator(ruleset, DEFAULT_PARAMS)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def judge(data: st.DataObject) -> None:
        mutated = data.draw(st.sampled_from(_FIXTURE_DATA))
        for _ in range(data.draw(st.integers(1, 3))):
            mutated = _mutate(data, mutated)
        try:
            doc = load(Source(path="pr.json", text=json.dumps(mutated), kind="pull_request"))
        except ParseError:
            return
        errors = [f.message for f in evaluator.evaluate(doc) if f.rule_id == "PE-RULE-ERROR"]
        assert errors == []

    judge()
