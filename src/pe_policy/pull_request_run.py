"""Whether a run checks a pull request, and the error when the pull request's base cannot be
read: what every `check` asks before it starts, without importing trust.py (which reads the
base, and is needed only on a pull request)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


class TrustError(Exception):
    """The base of a pull request cannot be read: a usage error (exit 2) saying how to fix it."""


def pull_request_run(policy_ref: str | None, pull_requests: Sequence[Path],
                     environ: Mapping[str, str]) -> bool:
    """Whether a run checks a pull request, and so reads its configuration from the base."""
    return (policy_ref is not None or bool(pull_requests)
            or environ.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS)
