"""A one-line progress counter on stderr for long runs, and only where a person is watching.

Never in CI (`CI` is set by GitHub Actions, GitLab, and most others), never
under pre-commit (`PRE_COMMIT=1`), never when stderr is not a terminal: logs
stay clean and machine-readable output on stdout is never touched.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

SHOW_AFTER_SECONDS = 0.5  # a run shorter than this never shows anything
REDRAW_SECONDS = 0.1


def progress_wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("CI", "").lower() not in ("", "0", "false") or env.get("PRE_COMMIT"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """`update(phase, done, total)` redraws `pe-policy: checking 120/500 files` in place."""

    def __init__(self, stream: TextIO | None = None, *,
                 show_after: float = SHOW_AFTER_SECONDS) -> None:
        self.stream = stream or sys.stderr
        self._now = time.monotonic
        self._start = self._now()
        self._show_after = show_after
        self._last = 0.0
        self._width = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self._now()
        if now - self._start < self._show_after:
            return
        if done < total and now - self._last < REDRAW_SECONDS:
            return
        self._last = now
        text = f"pe-policy: {phase} {done}/{total} files"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def finish(self) -> None:
        """Erase the line so the report starts on a clean terminal line."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def progress_for(stream: TextIO | None = None) -> Progress | None:
    stream = stream or sys.stderr
    return Progress(stream) if progress_wanted(stream) else None
