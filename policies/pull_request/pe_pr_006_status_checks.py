"""PE-PR-006: the required status checks succeeded on the head commit."""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.findings import Severity
from pe_policy.models.pull_request import CheckSource, PullRequest, StatusCheck

from .lib.checks import check_matches
from .lib.latest import latest_per_key

_SOURCE_NAMES = {CheckSource.CHECK_RUN: "check runs", CheckSource.COMMIT_STATUS: "commit statuses"}


@rule(
    "PE-PR-006",
    severity="high",
    kinds=["pull_request"],
    title="Required status checks passed on the head commit",
    description=(
        "The required checks (lint, tests, security scan, CodeRabbit) must have succeeded on the "
        "pull request's latest commit: a green run on an older commit says nothing about the "
        "code being merged. Check runs and commit statuses both count, the latest report per "
        "check; success, neutral and skipped pass, as on GitHub. The names are the "
        "`required_checks` parameter; `tests` also matches a reusable workflow's `ci / tests`."
    ),
    remediation=(
        "Fix what the failing check reports and push, or re-run it on the latest commit; make "
        "sure the workflow that reports each required check runs on `pull_request`."
    ),
    source="seed 002 (pull request requirements: required status checks)",
)
def status_checks(pr: PullRequest, ctx: RuleContext) -> Iterator[Violation]:
    unknown = pr.not_evaluable("checks", "head_sha")
    if unknown is not None or pr.checks is None:
        yield Violation(unknown or "could not be evaluated", ("checks",),
                        severity=Severity.INFO)
        return
    head = (pr.head_sha or "")[:12]
    for required in (str(r) for r in ctx.params.get("required_checks", [])):
        matching = [(i, c) for i, c in enumerate(pr.checks) if check_matches(c, required)]
        on_head = [(i, c) for i, c in matching if c.commit_sha in (None, pr.head_sha)]
        latest = latest_per_key(on_head, lambda pair: f"{pair[1].source}:{pair[1].name}",
                                lambda pair: pair[1].updated_at)
        verdicts = [pair for _, pair in latest.values()]
        if any(check.passed for _, check in verdicts):
            continue
        failed = [(i, c) for i, c in verdicts if not c.pending]
        pending = [(i, c) for i, c in verdicts if c.pending]
        if failed:
            index, check = failed[0]
            yield Violation(
                f'required check "{check.name}" {_outcome(check)} on the head commit {head}: fix '
                "the failure and push, or re-run it",
                ("checks", index, "conclusion"),
            )
        elif pending:
            index, check = pending[0]
            yield Violation(
                f'required check "{check.name}" has not finished on the head commit {head} '
                f"(status: {check.conclusion or check.status}): wait for it to pass before merging",
                ("checks", index, "status"),
            )
        elif matching:
            index, check = matching[-1]
            yield Violation(
                f'required check "{check.name}" ran on commit {(check.commit_sha or "")[:12]}, not '
                f"on the head commit {head}: re-run it on the latest push",
                ("checks", index, "commit_sha"),
            )
        else:
            supplied = " and ".join(_SOURCE_NAMES[s] for s in pr.check_sources)
            yield Violation(
                f'required check "{required}" did not report on the head commit {head} (searched '
                f"{supplied or 'the checks given'}): make sure the workflow or app that reports it "
                "runs on this pull request",
                ("checks",),
            )


def _outcome(check: StatusCheck) -> str:
    return "failed" if check.conclusion in ("failure", "error") else f"ended {check.conclusion}"
