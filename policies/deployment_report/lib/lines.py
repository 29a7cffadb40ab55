"""Text-level findings in markdown reports: lines as the loader numbers them, and the node
each line belongs to."""

from __future__ import annotations

import re

from pe_policy.document import Span
from pe_policy.findings import JsonPath

# CommonMark's line endings, as the markdown loader counts lines (str.splitlines also breaks
# at form feeds and Unicode separators, which would shift every line number after one)
_LINE_BREAK = re.compile(r"\r\n?|\n")


def split_lines(text: str) -> list[str]:
    """Lines as markdown-it counts them (`\\n`, `\\r\\n` or `\\r`)."""
    return _LINE_BREAK.split(text)


def path_at_line(spans: dict[JsonPath, Span], line: int) -> JsonPath:
    """The most specific located node covering `line`: where a text-level finding belongs."""
    best: JsonPath = ()
    best_size: int | None = None
    for path, span in spans.items():
        end = span.end_line or span.line
        if span.path is None and span.line <= line <= end:
            size = end - span.line
            if best_size is None or size < best_size or (size == best_size and len(path) > len(best)):
                best, best_size = path, size
    return best
