"""Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from pe_policy.findings import Severity

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

_ICON = {
    Severity.CRITICAL: "🛑",
    Severity.HIGH: "🔴",
    Severity.MEDIUM: "🟠",
    Severity.LOW: "🔵",
    Severity.INFO: "⚪",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: CheckResult, options: ReportOptions) -> str:
    active = result.active
    files = len(result.checked_paths)
    out = ["## pe-policy", ""]
    if not active and not result.problems:
        out.append(f"✅ **All clear**: {files} file{'s' if files != 1 else ''} checked, no findings.")
        return "\n".join(out) + "\n"
    out.append("| Severity | Findings |")
    out.append("|---|---:|")
    for severity in Severity:
        count = sum(1 for f in active if f.severity is severity)
        if count:
            out.append(f"| {_ICON[severity]} {severity.value} | {count} |")
    out.append("")
    for path, message in result.problems:
        out.append(f"- ⚠️ `{path}`: {message}")
    for path, group in groupby(active, key=lambda f: f.location.path):
        out.append(f"### `{path}`")
        out.append("")
        out.append("| Line | Rule | Severity | Message |")
        out.append("|---:|---|---|---|")
        for finding in group:
            out.append(f"| {finding.location.line} | `{finding.rule_id}` | "
                       f"{_ICON[finding.severity]} {finding.severity.value} | {_cell(finding.message)} |")
        out.append("")
    return "\n".join(out) + "\n"
