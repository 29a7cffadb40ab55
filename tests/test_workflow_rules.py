"""PE-WF-001..009 on real workflow files: the exact rule and line of every finding.

Each bad fixture breaks one rule and is otherwise compliant, so a test states
the complete set of (rule, line) it must produce: a missed finding, a finding
on the wrong line and a false alarm from any other rule all fail it.  The
rules are loaded from `policies/workflow/` alone, so another kind's work in
progress cannot break these tests.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.engine.pack import RuleSet, load_ruleset
from pe_policy.pipeline import CheckResult, check

from .conftest import FIXTURES, REPO, line_of

GOOD = FIXTURES / "workflow" / "good"
BAD = FIXTURES / "workflow" / "bad"
WORKFLOWS = BAD / ".github" / "workflows"
ACTIONS = BAD / ".github" / "actions"
# PE-WF-003 and PE-WF-009 judge a repository's workflows together: their bad cases are
# repositories of their own (in BAD/.github/workflows, the other fixtures' stages and gates
# would complete them)
REPOS = BAD / "repos"
DEMO = FIXTURES / "demo" / ".github" / "workflows" / "ci.yml"

WF_RULES = [f"PE-WF-{n:03d}" for n in range(1, 21)]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset([REPO / "policies" / "workflow"])


def run(paths: list[Path], ruleset: RuleSet, root: Path = REPO, **params: Any) -> CheckResult:
    config = Config(params={**copy.deepcopy(DEFAULT_PARAMS), **params})
    return check(paths, root.resolve(), config=config, ruleset=ruleset)


def hits(result: CheckResult) -> set[tuple[str, str, int]]:
    return {(f.location.path, f.rule_id, f.location.line) for f in result.active}


def rel(path: Path) -> str:
    return path.resolve().relative_to(REPO).as_posix()


# file -> [(rule, needle on the offending line, occurrence)]
EXPECTED: dict[Path, list[tuple[str, str, int]]] = {
    WORKFLOWS / "least-privilege-write-all.yml": [
        ("PE-WF-001", "permissions: write-all", 1),
        ("PE-WF-001", "permissions: write-all", 2),
    ],
    WORKFLOWS / "least-privilege-missing.yml": [("PE-WF-001", "  bump-version:", 1)],
    WORKFLOWS / "least-privilege-broad.yml": [("PE-WF-001", "permissions:", 1)],
    WORKFLOWS / "unpinned.yml": [
        ("PE-WF-002", "actions/checkout@v4", 1),
        ("PE-WF-002", "actions/setup-node@39370e3", 1),
        ("PE-WF-002", "peaceiris/actions-hugo@master", 1),
        ("PE-WF-002", "docker://lycheeverse/lychee:0.18", 1),
        ("PE-WF-002", "pages.yml@v2", 1),
    ],
    ACTIONS / "setup-node-env" / "action.yml": [("PE-WF-002", "actions/setup-node@v4", 1)],
    ACTIONS / "trivy-scan" / "action.yml": [("PE-WF-002", "image: docker://", 1)],
    REPOS / "stages-missing" / ".github" / "workflows" / "ci.yml": [
        ("PE-WF-003", "needs: build", 1),  # one finding: no lint job, a deploy that does not wait
    ],
    WORKFLOWS / "scanner-missing.yml": [
        ("PE-WF-004", "  security-scan:", 1),
        ("PE-WF-004", "npm audit --audit-level=high || true", 1),
        ("PE-WF-004", "continue-on-error: true", 1),
    ],
    WORKFLOWS / "production-unprotected.yml": [("PE-WF-005", "  deploy-prod:", 1)],
    WORKFLOWS / "production-any-branch.yml": [("PE-WF-005", "environment: production", 1)],
    WORKFLOWS / "untrusted-input.yml": [
        ("PE-WF-006", 'args="${{ github.event.comment.body }}"', 1),
        ("PE-WF-006", "toJSON(github.event)", 1),
        ("PE-WF-006", "github.event['issue']['title']", 1),
        ("PE-WF-020", "issue_comment:", 1),
    ],
    WORKFLOWS / "pwn-request.yml": [
        ("PE-WF-007", "ref: ${{ github.event.pull_request.head.sha }}", 1),
        ("PE-WF-020", "pull_request_target:", 1),
    ],
    WORKFLOWS / "workflow-run-checkout.yml": [
        ("PE-WF-007", 'gh pr checkout "$PR"', 1),
        ("PE-WF-020", "workflow_run:", 1),
    ],
    WORKFLOWS / "artifact-poisoning.yml": [
        ("PE-WF-007", "actions/download-artifact@", 1),
        ("PE-WF-020", "workflow_run:", 1),
    ],
    WORKFLOWS / "environment-files.yml": [
        ("PE-WF-010", 'echo "BRANCH_NAME=$BRANCH" >> "$GITHUB_ENV"', 1),
        ("PE-WF-020", "pull_request_target:", 1),
    ],
    WORKFLOWS / "bot-condition.yml": [
        ("PE-WF-012", "if: github.actor == 'dependabot[bot]'", 1),
        ("PE-WF-020", "pull_request_target:", 1),
    ],
    WORKFLOWS / "secrets-lookup.yml": [("PE-WF-017", "API_KEY: ${{ secrets[format(", 1)],
    WORKFLOWS / "unsound-contains.yml": [("PE-WF-018", "if: contains(", 1)],
    WORKFLOWS / "release-cache.yml": [("PE-WF-011", "actions/setup-go@", 1)],
    WORKFLOWS / "container-unpinned.yml": [
        ("PE-WF-013", "image: ghcr.io/plasma-engine/toolbox:2.4", 1),
        ("PE-WF-013", "image: postgres:16-alpine", 1),
    ],
    WORKFLOWS / "artifact-credentials.yml": [("PE-WF-014", "actions/checkout@", 1)],
    WORKFLOWS / "unsecure-commands.yml": [("PE-WF-015", "    env:", 1)],
    WORKFLOWS / "container-credentials.yml": [("PE-WF-016", "credentials:", 1)],
    WORKFLOWS / "self-hosted-pr.yml": [("PE-WF-019", "runs-on: [self-hosted", 1)],
    WORKFLOWS / "secrets-in-run.yml": [
        ("PE-WF-008", "${{ secrets.RUBE_API_KEY }}", 1),
        ("PE-WF-008", 'echo "workspace is $RUBE_WORKSPACE"', 1),
    ],
    WORKFLOWS / "coverage-low.yml": [("PE-WF-009", "--fail-under=70", 1)],
    REPOS / "coverage-missing" / ".github" / "workflows" / "ci.yml": [
        ("PE-WF-009", "npx vitest run --coverage", 1)],
}


def expected_hits(path: Path) -> set[tuple[str, str, int]]:
    return {(rel(path), rule, line_of(path, needle, n)) for rule, needle, n in EXPECTED[path]}


def _fixture_id(path: Path) -> str:
    if path.name == "action.yml":
        return path.parent.name
    return path.parents[2].name if path.parent.parent.parent.parent == REPOS else path.name


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=_fixture_id)
def test_bad_fixture_reports_exactly_its_violations(path: Path, ruleset: RuleSet) -> None:
    assert hits(run([path], ruleset)) == expected_hits(path)


def test_every_bad_fixture_is_covered_and_every_rule_has_one(ruleset: RuleSet) -> None:
    on_disk = {p for p in BAD.rglob("*") if p.suffix in (".yml", ".yaml")}
    assert on_disk == set(EXPECTED), "a bad fixture without expectations (or the reverse)"
    rules = {rule for cases in EXPECTED.values() for rule, _, _ in cases}
    assert rules == set(WF_RULES)


def test_good_fixtures_are_clean(ruleset: RuleSet) -> None:
    """Clean but for PE-WF-020, which only says a workflow is privileged (labeler.yml is)."""
    result = run([GOOD], ruleset)
    assert len(result.checked_paths) >= 8
    assert [f"{f.location}: {f.rule_id} {f.message}" for f in result.findings
            if f.rule_id != "PE-WF-020"] == []
    assert [(f.location.path, f.severity.value) for f in result.findings] == [
        (rel(GOOD / ".github" / "workflows" / "labeler.yml"), "info")]


def test_demo_shows_a_handful_of_representative_findings(ruleset: RuleSet) -> None:
    expected = {
        ("PE-WF-002", DEMO, "actions/checkout@v4"),
        ("PE-WF-006", DEMO, "github.event.pull_request.title"),
        ("PE-WF-009", DEMO, "--cov-fail-under=60"),
        ("PE-WF-003", DEMO, "needs: build"),
        ("PE-WF-008", DEMO, "secrets.DEPLOY_TOKEN"),
    }
    result = run([DEMO], ruleset)
    workflow_hits = {hit for hit in hits(result) if hit[1] in WF_RULES}  # others may add theirs
    assert workflow_hits == {(rel(p), rule, line_of(p, needle)) for rule, p, needle in expected}


def test_messages_name_the_offending_thing(ruleset: RuleSet) -> None:
    result = run([BAD], ruleset)
    joined: dict[str, str] = {}
    for finding in result.active:
        joined[finding.rule_id] = joined.get(finding.rule_id, "") + "\n" + finding.message
    assert "peaceiris/actions-hugo@master" in joined["PE-WF-002"]
    assert "'deploy-staging'" in joined["PE-WF-003"] and "'security'" in joined["PE-WF-003"]
    assert "'security-scan'" in joined["PE-WF-004"]
    assert "'deploy-prod'" in joined["PE-WF-005"]
    assert "github.event.comment.body" in joined["PE-WF-006"]
    assert "'Build preview'" in joined["PE-WF-007"]
    assert "RUBE_API_KEY" in joined["PE-WF-008"]
    assert "70" in joined["PE-WF-009"] and "80" in joined["PE-WF-009"]


def test_snippet_findings_point_at_the_column(ruleset: RuleSet) -> None:
    path = WORKFLOWS / "secrets-in-run.yml"
    [finding] = [f for f in run([path], ruleset).active
                 if f.rule_id == "PE-WF-008" and "RUBE_API_KEY" in f.message]
    line = path.read_text().splitlines()[finding.location.line - 1]
    assert finding.location.column == line.index("${{ secrets.RUBE_API_KEY }}") + 1


# ------------------------------------------------------------------ parameters

def test_coverage_threshold_parameter(ruleset: RuleSet) -> None:
    low = WORKFLOWS / "coverage-low.yml"
    assert hits(run([low], ruleset, coverage_threshold=70)) == set()
    good_ci = GOOD / ".github" / "workflows" / "ci.yml"
    assert hits(run([good_ci], ruleset, coverage_threshold=90)) == {
        (rel(good_ci), "PE-WF-009", line_of(good_ci, "--cov-fail-under=85"))
    }


def test_production_environments_parameter(ruleset: RuleSet) -> None:
    path = WORKFLOWS / "production-any-branch.yml"
    assert hits(run([path], ruleset, production_environments=["live"])) == set()


def test_release_refs_parameter(ruleset: RuleSet) -> None:
    good_ci = GOOD / ".github" / "workflows" / "ci.yml"
    result = run([good_ci], ruleset, release_refs=["refs/heads/trunk"])
    assert {rule for _, rule, _ in hits(result)} == {"PE-WF-005"}


# ------------------------------------------------------- edge cases in tmp repos

def write_workflow(root: Path, text: str, name: str = "ci.yml") -> Path:
    path = root / ".github" / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def rule_lines(result: CheckResult, rule: str) -> list[int]:
    return sorted(f.location.line for f in result.active if f.rule_id == rule)


SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def test_wf001_empty_top_level_with_read_jobs_is_clean(tmp_repo: Path, ruleset: RuleSet) -> None:
    path = write_workflow(tmp_repo, """
        on: workflow_dispatch
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-latest
            permissions: {contents: read}
            steps: [{run: make}]
          b:
            runs-on: ubuntu-latest
            permissions: {contents: read, packages: write}
            steps: [{run: make}]
    """)
    assert rule_lines(run([path], ruleset, root=tmp_repo), "PE-WF-001") == []


def test_wf001_workflow_write_scopes(tmp_repo: Path, ruleset: RuleSet) -> None:
    single = write_workflow(tmp_repo, """
        on: workflow_dispatch
        permissions: {contents: write}
        jobs:
          release: {runs-on: ubuntu-latest, steps: [{run: make release}]}
          check: {runs-on: ubuntu-latest, permissions: {contents: read}, steps: [{run: make}]}
    """, "single.yml")
    shared = write_workflow(tmp_repo, """
        on: workflow_dispatch
        permissions: {contents: write}
        jobs:
          release: {runs-on: ubuntu-latest, steps: [{run: make release}]}
          check: {runs-on: ubuntu-latest, steps: [{run: make}]}
    """, "shared.yml")
    result = run([single, shared], ruleset, root=tmp_repo)
    assert [(f.location.path, f.location.line) for f in result.active
            if f.rule_id == "PE-WF-001"] == [(".github/workflows/shared.yml",
                                               line_of(shared, "permissions:"))]


def test_wf001_reusable_workflow_inherits_callers_token(tmp_repo: Path, ruleset: RuleSet) -> None:
    called = write_workflow(tmp_repo, """
        on:
          workflow_call:
            inputs: {target: {type: string, required: true}}
        jobs:
          deploy: {runs-on: ubuntu-latest, steps: [{run: ./deploy.sh}]}
          audit: {runs-on: ubuntu-latest, permissions: write-all, steps: [{run: ./audit.sh}]}
    """)
    assert rule_lines(run([called], ruleset, root=tmp_repo), "PE-WF-001") == [
        line_of(called, "permissions: write-all")
    ]


def test_wf001_caller_job_without_permissions_is_reported(tmp_repo: Path, ruleset: RuleSet) -> None:
    path = write_workflow(tmp_repo, f"""
        on: push
        jobs:
          ci:
            uses: org/shared/.github/workflows/ci.yml@{SHA}
    """)
    assert rule_lines(run([path], ruleset, root=tmp_repo), "PE-WF-001") == [line_of(path, "ci:")]


def test_wf006_expression_forms(tmp_repo: Path, ruleset: RuleSet) -> None:
    path = write_workflow(tmp_repo, """
        on: pull_request_target
        permissions: {}
        jobs:
          greet:
            runs-on: ubuntu-latest
            env:
              TITLE: ${{ github.event.pull_request.title }}
            steps:
              - run: |
                  echo "$TITLE"
                  echo "${{github.head_ref}}"
                  echo "${{ github.event.pull_request['body'] }}"
                  echo "${{
                    github.event.commits[0].message }}"
                  echo "${{ github.event.pull_request.number }} ${{ github.event.pull_request.head.sha }}"
                  echo "${{ contains(github.event.pull_request.title, 'WIP') }}"
                  echo "${{ github.event.pull_request.title == 'WIP' }}"
                  echo "${{ github.event.pull_request.HEAD.Ref }}"
    """)
    assert rule_lines(run([path], ruleset, root=tmp_repo), "PE-WF-006") == [
        line_of(path, "github.head_ref"),
        line_of(path, "['body']"),
        line_of(path, 'echo "${{', 3),  # the expression that spans two lines
        line_of(path, "HEAD.Ref"),
    ]


def test_wf006_composite_action_and_github_script(tmp_repo: Path, ruleset: RuleSet) -> None:
    action = tmp_repo / "action.yml"
    action.write_text(textwrap.dedent("""
        name: comment
        description: Comment on the issue
        runs:
          using: composite
          steps:
            - shell: bash
              run: echo "${{ github.event.issue.body }}"
            - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea
              with:
                script: console.log(context.payload.issue.title)
    """).lstrip(), encoding="utf-8")
    result = run([action], ruleset, root=tmp_repo)
    assert rule_lines(result, "PE-WF-006") == [line_of(action, "github.event.issue.body")]


def test_wf008_forms(tmp_repo: Path, ruleset: RuleSet) -> None:
    path = write_workflow(tmp_repo, """
        on: workflow_dispatch
        permissions: {}
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
        jobs:
          publish:
            runs-on: ubuntu-latest
            permissions: {contents: read}
            steps:
              - env:
                  PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}
                  PLAIN: hello
                run: |
                  echo "$PASSWORD" | docker login -u bot --password-stdin
                  echo "::add-mask::$NPM_TOKEN"
                  echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc
                  echo "$PLAIN"
                  if [ -n "$NPM_TOKEN" ]; then echo token=${NPM_TOKEN}; fi
                  ./publish.sh --token "${{ env.NPM_TOKEN }}"
                  echo "publishing: ${{ secrets.NPM_TOKEN != '' }}"
                  echo '${{ toJSON(secrets) }}' > /dev/null
                  gh api /user -H "Authorization: token ${{ github.token }}"
    """)
    assert rule_lines(run([path], ruleset, root=tmp_repo), "PE-WF-008") == [
        line_of(path, "then echo token"),
        line_of(path, "env.NPM_TOKEN"),
        line_of(path, "toJSON(secrets)"),
        line_of(path, "github.token"),
    ]


def test_rules_read_parsed_expressions_not_text(tmp_repo: Path, ruleset: RuleSet) -> None:
    """The forms a regex over the text got wrong, end to end through the real loader:
    PE-WF-005 takes a status function in a string literal for no call, and pins the ref by
    the parsed `&&`/`||`; PE-WF-007 tells a checkout of the head from a comparison with
    it, and `$RUNNER_TEMP` from a single-quoted '$RUNNER_TEMP'; PE-WF-008 names a secret
    (and an `env['X']`) as written."""
    deploy = write_workflow(tmp_repo, """
        on:
          push:
          workflow_dispatch:
        permissions: {}
        jobs:
          staging:
            runs-on: ubuntu-latest
            if: github.ref == 'refs/heads/main'
            steps:
              - run: echo staged
          promote:
            needs: staging
            if: github.event.head_commit.message != 'always()'
            runs-on: ubuntu-latest
            environment: production
            steps:
              - run: echo promote
          release:
            if: >-
              (github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/'))
              && github.event_name != 'workflow_dispatch'
            runs-on: ubuntu-latest
            environment: production
            steps:
              - run: echo release
          hotfix:
            needs: staging
            if: ${{ ALWAYS() }}
            runs-on: ubuntu-latest
            environment: production
            steps:
              - run: echo hotfix
    """, "deploy.yml")
    assert rule_lines(run([deploy], ruleset, root=tmp_repo), "PE-WF-005") == [
        line_of(deploy, "environment: production", 3)]
    pwn = write_workflow(tmp_repo, f"""
        on:
          pull_request_target:
            types: [labeled]
        permissions: {{}}
        jobs:
          label:
            runs-on: ubuntu-latest
            permissions: {{pull-requests: write}}
            steps:
              - uses: actions/checkout@{SHA}
                with:
                  ref: ${{{{ github.event.pull_request.head.sha == github.sha && 'main' || github.base_ref }}}}
                  persist-credentials: false
              - run: ./scripts/label.sh
    """, "label.yml")
    assert rule_lines(run([pwn], ruleset, root=tmp_repo), "PE-WF-007") == []
    artifacts = write_workflow(tmp_repo, """
        on:
          workflow_run:
            workflows: [ci]
            types: [completed]
        permissions: {}
        jobs:
          report:
            runs-on: ubuntu-latest
            permissions: {actions: read}
            env:
              GH_TOKEN: ${{ github.token }}
              RUN_ID: ${{ github.event.workflow_run.id }}
            steps:
              - run: gh run download "$RUN_ID" -n coverage -D "$RUNNER_TEMP/coverage"
              - run: gh run download "$RUN_ID" -n site -D '$RUNNER_TEMP/site'
              - run: ./scripts/summary.sh
    """, "report.yml")
    assert rule_lines(run([artifacts], ruleset, root=tmp_repo), "PE-WF-007") == [
        line_of(artifacts, "-n site")]
    secrets = write_workflow(tmp_repo, """
        on: workflow_dispatch
        permissions: {}
        jobs:
          publish:
            runs-on: ubuntu-latest
            permissions: {contents: read}
            env:
              Deploy_Key: ${{ secrets.DEPLOY_KEY }}
            steps:
              - run: |
                  ./publish.sh --key "${{ SECRETS.Api_Key }}"
                  ./deploy.sh "${{ env['Deploy_Key'] }}"
    """, "publish.yml")
    messages = sorted(f.message for f in run([secrets], ruleset, root=tmp_repo).active
                      if f.rule_id == "PE-WF-008")
    assert len(messages) == 2
    assert "secret `Api_Key` is expanded" in messages[1] and '"$API_KEY"' in messages[1]
    assert "`env.Deploy_Key` (secret `DEPLOY_KEY`)" in messages[0]


def test_wf002_and_wf006_ignore_non_steps(tmp_repo: Path, ruleset: RuleSet) -> None:
    path = write_workflow(tmp_repo, f"""
        on: workflow_dispatch
        permissions: {{}}
        jobs:
          a:
            runs-on: ubuntu-latest
            if: contains(github.event.head_commit.message, '[skip]')
            steps:
              - uses: ./.github/actions/setup
              - uses: docker://alpine@sha256:{SHA}{SHA[:24]}
              - uses: actions/checkout@{SHA}
    """)
    assert run([path], ruleset, root=tmp_repo).active == []


# ------------------------------------------------------------- robustness (hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_words = st.sampled_from([
    "lint", "test", "unit-tests", "security", "scan", "build", "deploy", "deploy-prod", "release",
    "docs", "notify", "x", "Build image", "production", "staging", "github-pages",
])
_scripts = st.sampled_from([
    "pytest --cov-fail-under=70", "ruff check .", "trivy fs . || true", "docker build .",
    "helm upgrade app ./chart", "echo ${{ github.event.issue.title }}",
    "echo ${{ secrets.TOKEN }}", "echo $TOKEN", "gh pr checkout 1", "npm audit", "make",
    "coverage report --fail-under=abc", "${{", "}}", "",
])
_uses = st.sampled_from([
    "actions/checkout@v4", f"actions/checkout@{SHA}", "./local", "docker://alpine",
    "actions/github-script@v7", "aquasecurity/trivy-action@0.28.0", "org/r/.github/workflows/x.yml@v1",
])
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 100), _words, _scripts)
_step = st.fixed_dictionaries({}, optional={
    "name": _words, "run": _scripts, "uses": _uses, "continue-on-error": _scalar,
    "with": st.dictionaries(st.sampled_from(["ref", "script", "coverage-threshold", "environment",
                                             "repository"]), _scalar, max_size=3),
    "env": st.dictionaries(st.sampled_from(["TOKEN", "X"]),
                           st.sampled_from(["${{ secrets.T }}", "plain", "${{ env.X }}"]),
                           max_size=2),
})
_job = st.fixed_dictionaries({}, optional={
    "name": _words, "needs": st.one_of(_words, st.lists(_words, max_size=3)),
    "environment": st.one_of(_words, st.fixed_dictionaries({"name": _words})),
    "if": st.sampled_from(["github.ref == 'refs/heads/main'", "always()", "true", "${{ x }}"]),
    "permissions": st.one_of(st.sampled_from(["write-all", "read-all"]),
                             st.dictionaries(st.sampled_from(["contents", "packages"]),
                                             st.sampled_from(["read", "write"]), max_size=2)),
    "steps": st.lists(_step, max_size=4), "uses": _uses,
    "with": st.dictionaries(st.sampled_from(["environment", "coverage-threshold"]), _scalar,
                            max_size=2),
    "continue-on-error": _scalar,
})
_on = st.one_of(
    st.sampled_from(["push", "pull_request", "pull_request_target", "workflow_call"]),
    st.lists(st.sampled_from(["push", "pull_request", "workflow_run", "release"]), max_size=3),
    st.dictionaries(st.sampled_from(["push", "pull_request", "workflow_dispatch", "workflow_run"]),
                    st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                        "branches": st.one_of(_words, st.lists(_words, max_size=2)),
                        "tags": st.lists(st.sampled_from(["v*", "*"]), max_size=2),
                        "branches-ignore": st.lists(_words, max_size=1)})), max_size=3),
)
_workflow = st.fixed_dictionaries(
    {"on": _on, "jobs": st.dictionaries(_words, _job, max_size=5)},
    optional={"permissions": st.one_of(st.just("write-all"), st.just({})),
              "env": st.dictionaries(st.sampled_from(["TOKEN", "COVERAGE_MIN"]), _scalar,
                                     max_size=2)},
)


@pytest.fixture(scope="module")
def evaluator(ruleset: RuleSet) -> Any:
    from pe_policy.engine.evaluate import Evaluator

    return Evaluator(ruleset, copy.deepcopy(DEFAULT_PARAMS), repo_root=REPO)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workflow=_workflow)
def test_rules_never_fail_on_odd_workflows(workflow: dict[str, Any], evaluator: Any) -> None:
    """Whatever a (schema-valid) workflow holds, every rule gives a verdict: never PE-RULE-ERROR."""
    import json

    from pe_policy.findings import ParseError
    from pe_policy.loaders import load_text

    try:
        doc = load_text(json.dumps(workflow), ".github/workflows/ci.yml", "workflow")
    except ParseError:
        return  # the loader rejected it with a located error: fine
    findings = evaluator.evaluate(doc)
    assert [f.message for f in findings if f.rule_id == "PE-RULE-ERROR"] == []
    for finding in findings:
        assert finding.rule_id in WF_RULES
        assert finding.location.line >= 1


def test_wf008_prints_to_the_log_only_when_the_shell_says_so(tmp_repo: Path, ruleset: RuleSet) -> None:
    """A login that pipes the token, a file write, `::add-mask::` and a substitution are
    not leaks; an echo to stderr or inside an `if` is (both reach the job log)."""
    from tests.test_workflow_scripts import LOGIN

    path = write_workflow(tmp_repo, textwrap.dedent(LOGIN))
    result = run([path], ruleset, root=tmp_repo)
    assert rule_lines(result, "PE-WF-008") == [line_of(path, '>&2'), line_of(path, 'token: $REGISTRY')]
