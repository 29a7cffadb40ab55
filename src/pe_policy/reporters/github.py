"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

`::error file=F,line=L,col=C,endLine=..,endColumn=..,title=RULE::message` makes
GitHub show the finding on the line of the pull request's diff.  GitHub's
escaping: in the message `%`, CR and LF; in properties also `:` and `,`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pe_policy.findings import Finding, Severity

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


def render(result: CheckResult, options: ReportOptions) -> str:
    lines = [command("error", message, file=path, title="pe-policy")
             for path, message in result.problems]
    lines.extend(annotation(f) for f in result.active)
    return "\n".join(lines) + ("\n" if lines else "")
