"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

`::error file=F,line=L,col=C,endLine=..,endColumn=..,title=RULE::message` makes
GitHub show the finding on the line of the pull request's diff.  GitHub's
escaping: in the message `%`, CR and LF; in properties also `:` and `,`.

GitHub shows at most 10 errors, 10 warnings and 10 notices of a step and drops the
rest, so annotations come worst first (inputs that could not be checked, then critical,
high, ...), only as many of each level as are shown, and when some are left out one last
notice says how many and where the full report is.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from pe_policy.findings import Finding, Severity
from pe_policy.reporters import full_report_places, listed

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    """The message part (after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (`file=`, `title=`...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value is not None)
    return f"::{level} {props}::{escape_data(message)}" if props else \
        f"::{level}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    loc = finding.location
    end_line = loc.end_line if loc.end_line and loc.end_line >= loc.line else None
    end_column = loc.end_column if end_line == loc.line and loc.end_column and loc.column \
        and loc.end_column > loc.column else None
    return command(
        _LEVEL[finding.severity],
        f"[{finding.severity.value}] {finding.message}",
        file=loc.path, line=max(1, loc.line), endLine=end_line, col=loc.column,
        endColumn=end_column, title=finding.rule_id,
    )


SHOWN_PER_LEVEL = 10  # per step, for each of error, warning and notice


def _left_out_notice(left_out: Counter[str], options: ReportOptions) -> str:
    total = sum(left_out.values())
    detail = ", ".join(f"{left_out[name]} {name}" for name in
                       ["could not be checked", *(s.value for s in Severity)] if left_out[name])
    places = full_report_places(options)
    where = ("the full report is in " + listed(places) if places
             else "`pe-policy check --format text` lists them all")
    noun = "finding" if total == 1 else "findings"
    return command("notice", f"{total} more {noun} not shown as annotations ({detail}): GitHub "
                   f"shows {SHOWN_PER_LEVEL} errors, {SHOWN_PER_LEVEL} warnings and "
                   f"{SHOWN_PER_LEVEL} notices per step; {where}.", title="pe-policy")


def render(result: CheckResult, options: ReportOptions) -> str:
    items = [("error", "could not be checked", command("error", message, file=path, title="pe-policy"))
             for path, message in result.problems]
    items.extend((_LEVEL[f.severity], f.severity.value, annotation(f))
                 for f in sorted(result.active, key=Finding.worst_first_key))
    per_level = Counter(level for level, _, _ in items)
    room = Counter({level: SHOWN_PER_LEVEL for level in ("error", "warning", "notice")})
    if any(count > room[level] for level, count in per_level.items()):
        room["notice"] -= 1  # the last notice says what is left out
    lines: list[str] = []
    left_out: Counter[str] = Counter()
    for level, label, line in items:
        if room[level] > 0:
            room[level] -= 1
            lines.append(line)
        else:
            left_out[label] += 1
    if left_out:
        lines.append(_left_out_notice(left_out, options))
    return "\n".join(lines) + ("\n" if lines else "")
