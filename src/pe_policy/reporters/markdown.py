"""Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`.

A summary table (findings by kind and severity), then the findings worst first: one
section per severity (critical, high and medium open, low and info folded), each finding
by file and line, linked to the exact commit when the GitHub environment names it (a
pull request's own findings link to the pull request).  Messages quote user-controlled
text (PR titles, branch names), so they are escaped: no HTML, no links, no @-mentions get
through.

GitHub refuses a comment over 65,536 bytes and a job summary over 1 MiB (UTF-8: an emoji
is four).  A report that would be longer is cut from the bottom of that order: the
summary table, the counts of what is not shown and "How to fix" for every rule shown are
always kept, so on a big run the criticals are what a reader sees.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from pe_policy.filters import suppression_counts
from pe_policy.findings import Finding, Severity
from pe_policy.reporters import full_report_places, is_job_summary, listed

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

COMMENT_LIMIT = 65_536  # bytes: GitHub's limit for an issue or pull-request comment body
JOB_SUMMARY_LIMIT = 1_048_576  # bytes: GitHub's limit for one step's job summary (1 MiB)
MIN_LIMIT = 4_096  # below this not even the summary table and a few findings fit
_PROBLEMS_SHARE = 4  # inputs that could not be checked take at most a quarter of the report

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
    """Length as GitHub limits it: bytes of UTF-8 (an emoji counts four)."""
    return len(text.encode("utf-8"))


def limit_for(options: ReportOptions, environ: Mapping[str, str] | None = None) -> int:
    """The byte limit of this report: `--markdown-limit`, else the job summary's when it is
    written to `$GITHUB_STEP_SUMMARY`, else a comment's."""
    return _limit_and_reason(options, environ)[0]


def _limit_and_reason(options: ReportOptions,
                      environ: Mapping[str, str] | None = None) -> tuple[int, str]:
    if options.markdown_limit is not None:
        return max(MIN_LIMIT, options.markdown_limit), "--markdown-limit"
    if is_job_summary(options.destination, environ):
        return JOB_SUMMARY_LIMIT, "GitHub's limit for a job summary"
    return COMMENT_LIMIT, "GitHub's limit for a comment"


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


def _pull_request_url(result: CheckResult, path: str) -> str | None:
    """The web page of the pull request a payload (event or `gh pr view`) describes."""
    from pe_policy.findings import ParseError
    from pe_policy.loaders import load_file

    file = Path(path) if Path(path).is_absolute() else result.root / path
    try:
        url = getattr(load_file(file, path, "pull_request", result.root).model, "url", None)
    except (ParseError, OSError):
        return None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


@dataclass
class _Links:
    """Where a finding's location links to: its line at the commit, or its pull request."""

    result: CheckResult
    pull_requests: dict[str, str | None] = field(default_factory=dict)

    def url(self, finding: Finding) -> str | None:
        loc = finding.location
        if finding.kind == "pull_request":
            if loc.path not in self.pull_requests:
                self.pull_requests[loc.path] = _pull_request_url(self.result, loc.path)
            return self.pull_requests[loc.path]
        return blob_url(loc.path, loc.line)


def _row(finding: Finding, links: _Links) -> str:
    loc = finding.location
    where = f"<code>{html.escape(loc.path, quote=False).replace('|', '&#124;')}:{loc.line}</code>"
    url = links.url(finding)
    cell = f"[{where}]({url})" if url else where
    return f"| {cell} | `{finding.rule_id}` | {inline(finding.message)} |\n"


def _section_head(severity: Severity, shown: int, total: int) -> str:
    opened = " open" if severity.rank >= Severity.MEDIUM.rank else ""  # low and info folded
    count = _plural(shown, f"{severity.value} finding")
    if shown < total:
        count += f" shown of {total}"
    return (f"<details{opened}>\n<summary>{_ICON[severity]} <b>{count}</b></summary>\n\n"
            "| Location | Rule | Message |\n|---|---|---|\n")


_SECTION_TAIL = "\n</details>\n\n"


def _fix_item(result: CheckResult, rule_id: str) -> str:
    meta = result.catalog.get(rule_id)
    if meta is None:
        return ""
    advice = meta.remediation or meta.full_description
    return f"- **`{rule_id}`** {_plain(meta.title)}: {inline(advice)}\n"


_FIX_HEAD = "<details>\n<summary>How to fix</summary>\n\n"
_FIX_TAIL = "\n</details>\n"


def _cut_note(not_shown: Counter[Severity], limit: tuple[int, str], places: list[str]) -> str:
    if not sum(not_shown.values()):
        return ""
    detail = ", ".join(f"{not_shown[s]} {s.value}" for s in Severity if not_shown[s])
    where = (" All of them are in " + listed(places) + "."
             if places else " `pe-policy check --format text` lists them all.")
    return (f"> ✂️ **{_plural(sum(not_shown.values()), 'more finding')} not shown** ({detail}): "
            f"this report is cut at {limit[0]:,} bytes ({limit[1]}).{where}\n\n")


def _sarif_note(result: CheckResult, options: ReportOptions) -> str:
    from pe_policy.reporters.sarif import MAX_RESULTS_PER_RUN, results_left_out

    if not any(name == "sarif" for name, _ in options.reports):
        return ""
    left_out = results_left_out(result)
    if not left_out:
        return ""
    return (f"> ⚠️ **The SARIF report leaves out {_plural(left_out, 'result')}**: GitHub code "
            f"scanning takes at most {MAX_RESULTS_PER_RUN:,} per run, so it holds the "
            f"{MAX_RESULTS_PER_RUN:,} most severe of {len(result.findings):,}.\n\n")


def _problems(result: CheckResult, budget: int) -> str:
    """The inputs that could not be checked, as many as `budget` bytes hold, the rest counted."""
    problems = result.problems
    items = [f"**{_plural(len(problems), 'input')} could not be checked:**\n\n"]
    used = size(items[0])
    for index, (path, message) in enumerate(problems):
        item = f"- ⚠️ <code>{html.escape(path)}</code>: {inline(message)}\n"
        used += size(item)
        if used > budget:
            items.append(f"- ... and {len(problems) - index} more (the job log lists them all)\n")
            break
        items.append(item)
    return "".join(items) + "\n"


def _findings(result: CheckResult, active: list[Finding], budget: int, places: list[str],
              limit: tuple[int, str]) -> str:
    """The findings worst first, cut from the bottom to fit `budget` bytes, each rule shown
    explained in "How to fix", and the count of what is not shown."""
    links = _Links(result)
    ordered = sorted(active, key=Finding.worst_first_key)
    totals = Counter(f.severity for f in ordered)
    note_bound = size(_cut_note(totals, limit, places))  # counts only shrink from these
    used = note_bound + size(_FIX_HEAD) + size(_FIX_TAIL)
    rows: dict[Severity, list[str]] = {}
    fixes: dict[str, str] = {}
    for finding in ordered:
        row = _row(finding, links)
        cost = size(row)
        if finding.severity not in rows:  # its longest head: "N ... findings shown of N"
            total = totals[finding.severity]
            cost += size(_section_head(finding.severity, total, total)) \
                + size(f" shown of {total}") + size(_SECTION_TAIL)
        fix = None
        if finding.rule_id not in fixes:
            fix = _fix_item(result, finding.rule_id)
            cost += size(fix)
        if used + cost > budget:
            break
        used += cost
        rows.setdefault(finding.severity, []).append(row)
        if fix is not None:
            fixes[finding.rule_id] = fix
    out = [_section_head(severity, len(shown), totals[severity]) + "".join(shown) + _SECTION_TAIL
           for severity, shown in rows.items()]
    out.append(_cut_note(Counter({s: totals[s] - len(rows.get(s, ())) for s in totals}),
                         limit, places))
    fix_items = [fixes[rule_id] for rule_id in sorted(fixes) if fixes[rule_id]]
    if fix_items:
        out.append(_FIX_HEAD + "".join(fix_items) + _FIX_TAIL)
    return "".join(out)


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
    limit = _limit_and_reason(options)
    text = "\n".join(out) + "\n"
    if result.problems:
        text += _problems(result, limit[0] // _PROBLEMS_SHARE)
    text += _sarif_note(result, options)
    places = [p for p in full_report_places(options) if p != "the job summary"]
    return text + _findings(result, active, limit[0] - size(text), places, limit)
