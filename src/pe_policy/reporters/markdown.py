"""Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`.

A summary table (findings by kind and severity), then the findings grouped by
file, each line linked to the exact commit when the GitHub environment names
it. Messages quote user-controlled text (PR titles, branch names), so they are
escaped: no HTML, no links, no @-mentions get through. The whole report stays
under GitHub's 65,536-character comment limit; what does not fit is counted.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import TYPE_CHECKING
from urllib.parse import quote

from pe_policy.filters import suppression_counts
from pe_policy.findings import Finding, Severity

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

MAX_CHARS = 65_536  # GitHub's limit for a comment body (counted in UTF-16 code units)
_RESERVE = 600  # kept for the truncation note

_ICON = {
    Severity.CRITICAL: "🛑",
    Severity.HIGH: "🔴",
    Severity.MEDIUM: "🟠",
    Severity.LOW: "🔵",
    Severity.INFO: "⚪",
}
_MD_SPECIAL = re.compile(r"([\\*_\[\]~|])")
_MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9])")  # @user, @org/team: would notify someone


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _plain(text: str) -> str:
    """Inert Markdown text: no HTML, no emphasis or links, no table breaks, no mentions."""
    escaped = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    return _MENTION.sub("@\u200b", _MD_SPECIAL.sub(r"\\\1", escaped))


def inline(text: str) -> str:
    """A message for a table cell: `code` spans kept (pipes escaped), the rest made inert."""
    parts = text.replace("\r", " ").replace("\n", " ").split("`")
    if len(parts) % 2 == 0:  # unbalanced backticks: no code spans at all
        return _plain(text).replace("`", "\\`")
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(_plain(part))
        elif part.strip():
            out.append("`" + part.replace("|", "\\|") + "`")
        else:
            out.append("\\`\\`")
    return "".join(out)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def blob_url(path: str, line: int, environ: Mapping[str, str] | None = None) -> str | None:
    """`{server}/{repo}/blob/{sha}/{path}#L{line}` when GitHub Actions says where we are."""
    env = os.environ if environ is None else environ
    server, repo, sha = (env.get(k, "") for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repo and sha):
        return None
    return f"{server.rstrip('/')}/{repo}/blob/{sha}/{quote(path)}#L{max(1, line)}"


def _summary_table(active: list[Finding]) -> list[str]:
    severities = [s for s in Severity if any(f.severity is s for f in active)]
    by_kind: dict[str, Counter[Severity]] = {}
    for finding in active:
        by_kind.setdefault(finding.kind or "other", Counter())[finding.severity] += 1
    head = "| Kind | " + " | ".join(f"{_ICON[s]} {s.value}" for s in severities) + " | Total |"
    rows = [head, "|---|" + "---:|" * (len(severities) + 1)]
    for kind in sorted(by_kind):
        counts = by_kind[kind]
        rows.append(f"| {_plain(kind)} | " + " | ".join(str(counts[s]) for s in severities)
                    + f" | {sum(counts.values())} |")
    if len(by_kind) > 1:
        totals = Counter(f.severity for f in active)
        rows.append("| **Total** | " + " | ".join(f"**{totals[s]}**" for s in severities)
                    + f" | **{len(active)}** |")
    return rows


def _set_aside(result: CheckResult) -> str:
    counts = suppression_counts(result.findings)
    parts = []
    for origin, label in (("inline", "suppressed inline"), ("waiver", "waived"),
                          ("baseline", "in the baseline"), ("external", "suppressed")):
        if counts.get(origin):
            parts.append(f"{counts[origin]} {label}")
    return ", ".join(parts)


def _checked_line(result: CheckResult) -> str:
    line = f"{_plural(len(result.checked_paths), 'file')} checked"
    set_aside = _set_aside(result)
    return f"{line}; {set_aside}." if set_aside else f"{line}."


def _row(finding: Finding) -> str:
    loc = finding.location
    url = blob_url(loc.path, loc.line)
    line = f"[{loc.line}]({url})" if url else str(loc.line)
    return (f"| {line} | {_ICON[finding.severity]} {finding.severity.value} | "
            f"`{finding.rule_id}` | {inline(finding.message)} |")


def _file_head(path: str, findings: list[Finding]) -> str:
    worst = max(findings, key=lambda f: f.severity.rank).severity
    opened = " open" if worst.rank >= Severity.HIGH.rank else ""
    return (f"<details{opened}>\n<summary>{_ICON[worst]} <code>{html.escape(path)}</code>: "
            f"{_plural(len(findings), 'finding')}</summary>\n\n"
            "| Line | Severity | Rule | Message |\n|---:|---|---|---|\n")


_FILE_TAIL = "\n</details>\n\n"


def _how_to_fix(result: CheckResult, rule_ids: Iterable[str]) -> str:
    items = []
    for rule_id in sorted(set(rule_ids)):
        meta = result.catalog.get(rule_id)
        if meta is None:
            continue
        advice = meta.remediation or meta.full_description
        items.append(f"- **`{rule_id}`** {_plain(meta.title)}: {inline(advice)}")
    if not items:
        return ""
    return ("<details>\n<summary>How to fix</summary>\n\n" + "\n".join(items)
            + "\n\n</details>\n")


def render(result: CheckResult, options: ReportOptions) -> str:
    active = result.active
    out = ["## pe-policy", ""]
    if not active and not result.problems:
        out.append(f"✅ **All clear**: no findings. {_checked_line(result)}")
        return "\n".join(out) + "\n"
    if active:
        files = len({f.location.path for f in active})
        out.append(f"**{_plural(len(active), 'finding')}** in {_plural(files, 'file')}. "
                   f"{_checked_line(result)}")
        out.append("")
        out.extend(_summary_table(active))
        out.append("")
    else:
        out.append(f"No findings, but some inputs could not be checked. {_checked_line(result)}")
        out.append("")
    if result.problems:
        out.append(f"**{_plural(len(result.problems), 'input')} could not be checked:**")
        out.append("")
        out.extend(f"- ⚠️ <code>{html.escape(p)}</code>: {inline(m)}" for p, m in result.problems)
        out.append("")
    text = "\n".join(out) + "\n"
    budget = MAX_CHARS - _RESERVE
    used = size(text)
    sections: list[str] = []
    shown: list[Finding] = []
    ordered = sorted(active, key=lambda f: (f.location.path, f.location.line, f.rule_id))
    for path, group in groupby(ordered, key=lambda f: f.location.path):
        findings = list(group)
        head = _file_head(path, findings)
        rows: list[str] = []
        cost = size(head) + size(_FILE_TAIL)
        for finding in findings:
            row = _row(finding) + "\n"
            if used + cost + size(row) > budget:
                break
            rows.append(row)
            cost += size(row)
            shown.append(finding)
        if rows:
            sections.append(head + "".join(rows) + _FILE_TAIL)
            used += cost
        if len(rows) < len(findings):
            break
    text += "".join(sections)
    left_out = len(active) - len(shown)
    if left_out:
        shown_ids = {id(f) for f in shown}
        files_left = len({f.location.path for f in active if id(f) not in shown_ids})
        text += (f"> ✂️ **{_plural(left_out, 'more finding')}** in "
                 f"{_plural(files_left, 'file')} not shown: a GitHub comment holds at most "
                 f"{MAX_CHARS:,} characters. The SARIF or JSON report, or the job log, has "
                 "them all.\n\n")
    fix = _how_to_fix(result, (f.rule_id for f in shown))
    if fix and size(text) + size(fix) <= MAX_CHARS:
        text += fix
    return text
