"""Terminal output in the style of ruff: `path:line:col: ID message`, then a code frame."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from pe_policy.findings import Finding, Severity

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def _frame(result: CheckResult, finding: Finding, color: bool) -> list[str]:
    loc = finding.location
    # a window of a long line (minified JSON), with the columns moved into it
    excerpt = result.source_excerpt(loc.path, loc.line, loc.column,
                                    loc.end_column if loc.end_line in (None, loc.line) else None)
    if excerpt is None:
        return []
    source, column, end_column = excerpt
    gutter = str(loc.line)
    pad = " " * len(gutter)
    lines = [
        _paint(f"{pad} |", _DIM, color),
        _paint(f"{gutter} | ", _DIM, color) + source.expandtabs(4),
    ]
    if column:
        start = column - 1
        width = 1
        if loc.end_line == loc.line and end_column and end_column > column:
            width = end_column - column
        else:
            width = max(1, len(source.rstrip()) - start)
        caret = " " * start + "^" * width
        lines.append(_paint(f"{pad} | ", _DIM, color) + _paint(caret, _COLORS[finding.severity], color))
    return lines


def render(result: CheckResult, options: ReportOptions) -> str:
    color = options.color
    out: list[str] = []
    for path, problem in result.problems:
        out.append(f"{_paint('error', _COLORS[Severity.HIGH], color)}: {path}: {problem}")
    active = result.active
    for _path, group in groupby(active, key=lambda f: f.location.path):
        for finding in group:
            loc = finding.location
            head = _paint(str(loc), _BOLD, color)
            rule = _paint(finding.rule_id, _COLORS[finding.severity], color)
            out.append(f"{head}: {rule} [{finding.severity.value}] {finding.message}")
            if not options.quiet:
                out.extend(_frame(result, finding, color))
                out.append("")
    counts = {s: 0 for s in Severity}
    for finding in active:
        counts[finding.severity] += 1
    files = len(result.checked_paths)
    if options.quiet and not active and not result.problems:
        return ""
    if active:
        detail = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
        noun = "finding" if len(active) == 1 else "findings"
        out.append(f"Found {len(active)} {noun} ({detail}) in {files} file{'s' if files != 1 else ''}.")
    else:
        out.append(f"All clear: {files} file{'s' if files != 1 else ''} checked, no findings.")
    suppressed = len(result.findings) - len(active)
    if suppressed:
        out.append(f"{suppressed} suppressed or waived finding{'s' if suppressed != 1 else ''} not shown.")
    return "\n".join(out) + "\n"
