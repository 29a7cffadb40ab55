"""PE-PR-005: CodeRabbit reviewed, and a human other than the author approved, the head commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.findings import Severity
from pe_policy.models.pull_request import PullRequest, Review

from .lib.reviews import is_automated, is_bot, latest_decisive_reviews, normalise_login


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "an unknown commit"


@rule(
    "PE-PR-005",
    severity="high",
    kinds=["pull_request"],
    title="Automated and human review of the latest commit",
    description=(
        "Every pull request gets an automated review (CodeRabbit) and at least one approval from "
        "a human other than its author, both on the latest commit: a review of an older commit "
        "did not see the code being merged. A reviewer's latest verdict counts: a request for "
        "changes stands until that reviewer approves or the review is dismissed. The automated "
        "reviewers are the `automated_reviewers` parameter."
    ),
    remediation=(
        "Ask CodeRabbit to review the latest push (comment `@coderabbitai review`), ask a "
        "teammate to re-approve after your last push, and resolve any requested changes with the "
        "reviewer who requested them."
    ),
    source="seed 002 (pull request requirements: automated reviews)",
)
def reviews(pr: PullRequest, ctx: RuleContext) -> Iterator[Violation]:
    unknown = pr.not_evaluable("reviews", "head_sha")
    if unknown is not None or pr.reviews is None:
        yield Violation(unknown or "could not be evaluated", ("reviews",),
                        severity=Severity.INFO)
        return
    automated = [str(a) for a in ctx.params.get("automated_reviewers", [])]
    yield from _automated_review(pr, pr.reviews, automated)
    yield from _human_approval(pr, pr.reviews, automated)
    yield from _changes_requested(pr.reviews)


def _automated_review(pr: PullRequest, reviews: Sequence[Review], automated: list[str]
                      ) -> Iterator[Violation]:
    bot_reviews = [(i, r) for i, r in enumerate(reviews) if is_automated(r, automated)]
    if any(r.commit_id == pr.head_sha for _, r in bot_reviews):
        return
    names = " / ".join(dict.fromkeys(automated)) or "the automated reviewer"
    if not bot_reviews:
        yield Violation(f"no automated review ({names}) on this pull request: enable CodeRabbit "
                        "for the repository or request a review (`@coderabbitai review`)",
                        ("reviews",))
        return
    index, last = bot_reviews[-1]
    yield Violation(
        f"the automated review by {last.author} is of commit {_short(last.commit_id)}, not the "
        f"head commit {_short(pr.head_sha)}: request a review of the latest push "
        "(`@coderabbitai review`)",
        ("reviews", index, "commit_id"),
    )


def _human_approval(pr: PullRequest, reviews: Sequence[Review], automated: list[str]
                    ) -> Iterator[Violation]:
    author = normalise_login(pr.author)
    stale: tuple[int, Review] | None = None
    own: tuple[int, Review] | None = None
    for login, (index, review) in latest_decisive_reviews(reviews).items():
        if review.state != "APPROVED" or is_bot(review, automated):
            continue
        if author and login == author:
            own = (index, review)
        elif review.commit_id == pr.head_sha:
            return
        else:
            stale = (index, review)
    head = _short(pr.head_sha)
    own_note = (f" (the approval by the PR's author {own[1].author} does not count)"
                if own is not None else "")
    if stale is not None:
        index, review = stale
        yield Violation(
            f"the approval by {review.author} is of commit {_short(review.commit_id)}, not the head "
            f"commit {head}, and no other human approved the head commit{own_note}: ask for a "
            "re-approval of the latest push",
            ("reviews", index, "commit_id"),
        )
    elif own is not None:
        yield Violation(
            f"the only approval is by the PR's author {own[1].author}, which does not count: a "
            f"human other than the author must approve the head commit {head}",
            ("reviews", own[0]),
        )
    else:
        yield Violation(
            f"no human other than the author has approved the head commit {head}: ask a teammate "
            "to review",
            ("reviews",),
        )


def _changes_requested(reviews: Sequence[Review]) -> Iterator[Violation]:
    for _login, (index, review) in sorted(latest_decisive_reviews(reviews).items()):
        if review.state == "CHANGES_REQUESTED":
            yield Violation(
                f"{review.author or 'a reviewer'} requested changes (on commit "
                f"{_short(review.commit_id)}) and has not approved since: address the comments "
                "and ask them to re-review",
                ("reviews", index),
            )
