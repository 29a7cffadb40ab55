"""Terminal output in the style of ruff: `path:line:col: ID message`, then a code frame.

What comes from the inputs (paths, messages, rule IDs, source lines) is shown, never acted
on: control characters are escaped (ESC would start colour and cursor sequences, CR would
overwrite a line), and no line starts a GitHub Actions workflow command (`::add-mask::`,
`::set-output`...) or holds a legacy one (`##[`), since this report is often printed in a
CI log.  `--format github` is the one output that issues workflow commands, with its own
escaping (github.py).
"""

from __future__ import annotations

import re
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


# C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides and isolates
# that make a line read differently from what it is (Trojan Source)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible(text: str) -> str:
    """Text from an input, safe to print: control characters as `\\x1b`, `\\u202e`."""
    return _UNSAFE.sub(_escape, text)


def _inert(line: str) -> str:
    """An output line that a CI runner reads as text: the runner takes a line whose first
    non-blank characters are `::` for a workflow command, and `##[` anywhere in it."""
    stripped = line.lstrip()
    if stripped.startswith("::"):
        line = line[: len(line) - len(stripped)] + "\\x3a" + stripped[1:]
    return line.replace("##[", "\\x23#[")


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def _frame(result: CheckResult, finding: Finding, color: bool) -> list[str]:
    loc = finding.location
    # a window of a long line (minified JSON), with the columns moved into it
    excerpt = result.source_excerpt(loc.path, loc.line, loc.column,
                                    loc.end_column if loc.end_line in (None, loc.line) else None)
    if excerpt is None:
        return []
    raw, column, end_column = excerpt
    source = _visible(raw)
    gutter = str(loc.line)
    pad = " " * len(gutter)
    lines = [
        _paint(f"{pad} |", _DIM, color),
        _paint(f"{gutter} | ", _DIM, color) + source.expandtabs(4),
    ]
    if column:
        start = len(_visible(raw[: column - 1]))  # the columns of the escaped line
        width = 1
        if loc.end_line == loc.line and end_column and end_column > column:
            width = len(_visible(raw[column - 1 : end_column - 1]))
        else:
            width = max(1, len(source.rstrip()) - start)
        caret = " " * start + "^" * width
        lines.append(_paint(f"{pad} | ", _DIM, color) + _paint(caret, _COLORS[finding.severity], color))
    return lines


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def render(result: CheckResult, options: ReportOptions) -> str:
    color = options.color
    out: list[str] = []
    for path, problem in result.problems:
        out.append(f"{_paint('error', _COLORS[Severity.HIGH], color)}: {_visible(path)}: "
                   f"{_visible(problem)}")
    active = result.active
    for _path, group in groupby(active, key=lambda f: f.location.path):
        for finding in group:
            loc = finding.location
            head = _paint(_visible(str(loc)), _BOLD, color)
            rule = _paint(_visible(finding.rule_id), _COLORS[finding.severity], color)
            out.append(f"{head}: {rule} [{finding.severity.value}] {_visible(finding.message)}")
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
        with_findings = len({f.location.path for f in active})
        out.append(f"Found {len(active)} {noun} ({detail}) in {_files(with_findings)}; "
                   f"{_files(files)} checked.")
    else:
        out.append(f"All clear: {_files(files)} checked, no findings.")
    suppressed = len(result.findings) - len(active)
    if suppressed:
        out.append(f"{suppressed} suppressed or waived finding{'s' if suppressed != 1 else ''} not shown.")
    return "\n".join(_inert(line) for line in "\n".join(out).split("\n")) + "\n"
