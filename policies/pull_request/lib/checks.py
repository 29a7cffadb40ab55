"""Status checks as the pull-request rules read them."""

from __future__ import annotations

from pe_policy.models.pull_request import StatusCheck


def check_matches(check: StatusCheck, required: str) -> bool:
    """`tests` matches the check `tests` and `ci / tests` (a reusable workflow's job), any case."""
    name = check.name.strip().lower()
    wanted = required.strip().lower()
    return name == wanted or name.rsplit(" / ", 1)[-1] == wanted
