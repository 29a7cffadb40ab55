"""The one reader of source lines: for inline suppressions (filters.py) and code frames
(`CheckResult`, pipeline.py).

The files a run checked are known already (their text came with them); any other file a
finding points into (the `.tf` file behind a plan resource, a file a reporter shows a
frame of) is read once, on first use, and only when it lies inside the repository root:
a finding that names `../x` or `/etc/x` never makes pe-policy read it.  Reading goes
through `loaders.read_text`, which never blocks on a FIFO nor reads a device, and stops
at `SOURCE_MAX_BYTES`; a file that cannot be read has no lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

SOURCE_MAX_BYTES = 16 * 1024 * 1024  # a file read only for its comments or a code frame


class SourceLines:
    """The text and lines of files under `root`, by their path relative to it; cached per path.

    `known` holds what the run has already: a path's text, or its lines.
    """

    def __init__(self, root: Path, known: Mapping[str, str | Sequence[str]] | None = None,
                 max_bytes: int = SOURCE_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._known: dict[str, str | Sequence[str]] = dict(known or {})
        self._lines: dict[str, Sequence[str]] = {}

    def text(self, path: str) -> str:
        """The whole text of `path` ("" when it cannot be read, or lies outside the root)."""
        value = self._get(path)
        return value if isinstance(value, str) else "\n".join(value)

    def lines(self, path: str) -> Sequence[str]:
        lines = self._lines.get(path)
        if lines is None:
            value = self._get(path)
            lines = value.splitlines() if isinstance(value, str) else value
            self._lines[path] = lines
        return lines

    def line(self, path: str, number: int) -> str | None:
        """Line `number` (1-based) of `path`, or None when there is no such line."""
        lines = self.lines(path)
        return lines[number - 1] if 1 <= number <= len(lines) else None

    def _get(self, path: str) -> str | Sequence[str]:
        value = self._known.get(path)
        if value is None:
            value = self._known[path] = self._read(path)
        return value

    def _read(self, path: str) -> str:
        from pe_policy.discover import inside_root
        from pe_policy.findings import ParseError
        from pe_policy.loaders import read_text

        try:
            file = inside_root(self.root, path)  # None: `..`, absolute, or a link leading out
            return "" if file is None else read_text(file, path, self.max_bytes)
        except (OSError, RuntimeError, ValueError, ParseError):  # RuntimeError: a symlink loop
            return ""


__all__ = ["SOURCE_MAX_BYTES", "SourceLines"]
