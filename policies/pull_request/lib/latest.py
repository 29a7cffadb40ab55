"""The latest of several reports of one thing (a reviewer's reviews, a check's runs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def latest_per_key(
    items: Sequence[T], key: Callable[[T], str], stamp: Callable[[T], str | None]
) -> dict[str, tuple[int, T]]:
    """The latest item per `key`, by `stamp` then position; values are (index, item).

    An unstamped item is older than any stamped one; among equals the later
    position wins, which is GitHub's (oldest-first) list order.
    """
    best: dict[str, tuple[int, T]] = {}
    for index, item in enumerate(items):
        name = key(item)
        current = best.get(name)
        if current is None or (stamp(item) or "") >= (stamp(current[1]) or ""):
            best[name] = (index, item)
    return best
