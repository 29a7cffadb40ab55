"""Reviews as the pull-request rules read them: who is a bot, each reviewer's standing verdict."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pe_policy.models.pull_request import Review, ReviewerType

from .latest import latest_per_key


def normalise_login(login: str | None) -> str:
    """`CodeRabbitAI[bot]` and `coderabbitai` are the same account to a rule."""
    return (login or "").strip().lower().removesuffix("[bot]")


def is_automated(review: Review, automated: Iterable[str]) -> bool:
    names = {normalise_login(a) for a in automated}
    return normalise_login(review.author) in names


def is_bot(review: Review, automated: Iterable[str]) -> bool:
    if review.author_type is ReviewerType.BOT or (review.author or "").lower().endswith("[bot]"):
        return True
    return is_automated(review, automated)


DECISIVE_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def latest_decisive_reviews(reviews: Sequence[Review]) -> dict[str, tuple[int, Review]]:
    """Each reviewer's standing verdict, keyed by normalised login, with the review's index.

    A later comment does not undo an approval or a request for changes; a
    dismissal does (GitHub's review decision).
    """
    decisive = [(i, r) for i, r in enumerate(reviews) if r.state in DECISIVE_STATES]
    latest = latest_per_key(decisive, lambda pair: normalise_login(pair[1].author),
                            lambda pair: pair[1].submitted_at)
    return {name: pair for name, (_, pair) in latest.items()}
