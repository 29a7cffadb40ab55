"""The filter step: inline suppressions, waivers from the config, and the baseline.

A filtered finding stays in the results with a `Suppression` saying why (SARIF
emits it as suppressed, reporters count it), so nothing disappears silently;
only the exit code and the lists of active findings leave it out.  Findings are
immutable: each step returns new ones (`dataclasses.replace`).  Which rules run,
and at which severity, is decided before evaluation (`engine.pack.select_rules`);
the filters read that selection, never the config's `rules:` (but see
`_configured_severities`, until the evaluator stamps every severity itself).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pe_policy.catalog import CONFIG_CHANGE_RULE_ID
from pe_policy.config import Config, Waiver, selects
from pe_policy.discover import path_matches
from pe_policy.engine.pack import RuleSet
from pe_policy.findings import Finding, Location, Severity, Suppression
from pe_policy.source_lines import SourceLines

if TYPE_CHECKING:
    from pe_policy.document import CheckedFile

SUPPRESS_RULE_ID = "PE-SUPPRESS"
NO_REASON = "no reason given"
REASON_SEPARATORS = ":-\u2013\u2014"  # `ignore[X]: why`, `ignore[X] - why`, en and em dashes
BASELINE_VERSION = 1
MARKER_WORD = "pe-policy"  # a file without it holds no suppression comment: not scanned

_MARKER = re.compile(r"pe-policy\s*:\s*ignore\b", re.IGNORECASE)
_IGNORE = re.compile(r"pe-policy\s*:\s*ignore\s*\[(?P<ids>[^\]]*)\](?P<reason>.*)", re.IGNORECASE)
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)\s*$")


@dataclass(frozen=True)
class CommentSyntax:
    """How a file type writes comments: line-comment leaders and (opener, closer) pairs."""

    leaders: tuple[str, ...] = ()
    blocks: tuple[tuple[str, str], ...] = ()

    @property
    def openers(self) -> tuple[str, ...]:
        return self.leaders + tuple(opener for opener, _ in self.blocks)

    def example(self, rule_id: str) -> str:
        body = f"pe-policy: ignore[{rule_id}] <why this is acceptable>"
        if self.leaders:
            return f"{self.leaders[0]} {body}"
        opener, closer = self.blocks[0] if self.blocks else ("#", "")
        return f"{opener} {body} {closer}".rstrip()


HASH = CommentSyntax(("#",))
HCL = CommentSyntax(("#", "//"), (("/*", "*/"),))
SQL = CommentSyntax(("--",), (("/*", "*/"),))
HTML = CommentSyntax((), (("<!--", "-->"),))
NONE = CommentSyntax()

_SYNTAX_BY_SUFFIX: dict[str, CommentSyntax] = {
    ".yml": HASH, ".yaml": HASH, ".py": HASH, ".rego": HASH, ".toml": HASH, ".cfg": HASH,
    ".tf": HCL, ".hcl": HCL, ".tfvars": HCL,
    ".sql": SQL,
    ".md": HTML, ".markdown": HTML, ".xml": HTML, ".html": HTML,
    ".json": NONE, ".sarif": NONE,
}


def syntax_for(path: str) -> CommentSyntax:
    return _SYNTAX_BY_SUFFIX.get(PurePosixPath(path).suffix.lower(), HASH)


def _front_matter_lines(lines: Sequence[str]) -> int:
    """How many leading lines are YAML front matter (fences included); 0 when there is none."""
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return 0
    for index in range(1, len(lines)):
        if _FRONT_MATTER_END.match(lines[index]):
            return index + 1
    return 0


@dataclass
class InlineSuppression:
    """One `pe-policy: ignore[...]` comment and the lines it covers."""

    path: str
    line: int
    column: int
    rule_ids: tuple[str, ...]
    reason: str
    targets: frozenset[int]  # its own line, and the next code line when the comment stands alone
    syntax: CommentSyntax
    used: set[str] = field(default_factory=set)

    @property
    def code_line(self) -> int:
        return max(self.targets)


@dataclass
class _Scan:
    """What the suppression scan finds in one file: the well-formed ignore comments, and
    the malformed ones (line, column, text, syntax) that PE-SUPPRESS reports."""

    suppressions: list[InlineSuppression] = field(default_factory=list)
    malformed: list[tuple[int, int, str, CommentSyntax]] = field(default_factory=list)


def _comment_opener(prefix: str, syntax: CommentSyntax) -> str | None:
    """The comment opener that `prefix` (the text before the marker) ends with, if any."""
    stripped = prefix.rstrip()
    for opener in sorted(syntax.openers, key=len, reverse=True):
        if stripped.endswith(opener):
            return opener
    return None


def _is_comment_only(line: str, syntax: CommentSyntax) -> bool:
    stripped = line.strip()
    return not stripped or any(stripped.startswith(o) for o in syntax.openers)


def scan_suppressions(path: str, lines: Sequence[str]) -> _Scan:
    """Every suppression comment in a file, read from the text the loader already holds."""
    base = syntax_for(path)
    front = _front_matter_lines(lines) if base is HTML else 0
    scan = _Scan()
    for index, line in enumerate(lines):
        marker = _MARKER.search(line)
        if marker is None:
            continue
        syntax = HASH if index < front else base
        opener = _comment_opener(line[: marker.start()], syntax)
        if opener is None:
            continue  # prose or a string that mentions the syntax, not a comment
        start = line[: marker.start()].rstrip().rfind(opener)
        rest = line[marker.start():]
        closer = dict(syntax.blocks).get(opener)
        if closer and closer in rest:
            rest = rest[: rest.index(closer)]
        number, column = index + 1, start + 1
        parsed = _IGNORE.match(rest)
        ids = tuple(dict.fromkeys(
            part.strip().upper() for part in (parsed.group("ids") if parsed else "").split(",")
            if part.strip()
        ))
        if parsed is None or not ids:
            scan.malformed.append((number, column, rest.strip(), syntax))
            continue
        reason = parsed.group("reason").strip().lstrip(REASON_SEPARATORS).strip()
        targets = {number}
        if not line[:start].strip():  # a comment on its own line covers the next code line
            for following in range(index + 1, len(lines)):
                if not _is_comment_only(lines[following], syntax):
                    targets.add(following + 1)
                    break
        scan.suppressions.append(InlineSuppression(path, number, column, ids, reason,
                                                   frozenset(targets), syntax))
    return scan


class _Sources:
    """What the suppression scan reads: the checked files' text, then (`SourceLines`) any
    other file a finding points into (the `.tf` file behind a plan resource)."""

    def __init__(self, files: Iterable[CheckedFile], root: Path) -> None:
        texts: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        for file in files:
            self.kinds[file.path] = file.kind
            if file.text is not None:
                texts.setdefault(file.path, file.text)
        self.checked = list(texts)
        self.lines = SourceLines(root, texts)

    def scan(self, path: str) -> _Scan:
        if MARKER_WORD not in self.lines.text(path):
            return _Scan()
        return scan_suppressions(path, self.lines.lines(path))


def _suppress_finding(severity: Severity, kind: str, path: str, line: int, column: int,
                      message: str, key: tuple[str, str]) -> Finding:
    """A PE-SUPPRESS finding; `key` (problem, subject) keeps its fingerprint free of the line."""
    return Finding(rule_id=SUPPRESS_RULE_ID, severity=severity, message=message,
                   location=Location(path, line, column), kind=kind,
                   json_path=("suppression", *key))


def _covered(finding: Finding, covering: Mapping[tuple[str, int], list[InlineSuppression]]
             ) -> Finding:
    """`finding`, suppressed when an inline ignore on its line names its rule."""
    if finding.suppressed or finding.rule_id in (SUPPRESS_RULE_ID, CONFIG_CHANGE_RULE_ID):
        return finding  # a suppression never hides what is said about suppressions
    rule_id = finding.rule_id.upper()
    for s in covering.get((finding.location.path, finding.location.line), ()):
        if rule_id in s.rule_ids:
            s.used.add(rule_id)
            return replace(finding, suppression=Suppression("inSource", s.reason or NO_REASON,
                                                            origin="inline"))
    return finding


def apply_suppressions(findings: Sequence[Finding], files: Iterable[CheckedFile], root: Path,
                       rules: RuleSet, *, strict: bool = False) -> list[Finding]:
    """The findings, those an inline ignore covers suppressed, followed by the findings about
    the comments themselves: PE-SUPPRESS, at its severity in the run's selected `rules` (none
    when the configuration turns it off)."""
    sources = _Sources(files, root)
    paths = list(dict.fromkeys([*sources.checked, *(f.location.path for f in findings)]))
    scans = {path: sources.scan(path) for path in paths}
    covering: dict[tuple[str, int], list[InlineSuppression]] = {}
    for scan in scans.values():
        for s in scan.suppressions:
            for target in s.targets:
                covering.setdefault((s.path, target), []).append(s)
    kept = [_covered(finding, covering) for finding in findings] if covering else list(findings)
    meta = rules.selected_meta(SUPPRESS_RULE_ID)
    if meta is None:  # turned off in the configuration
        return kept
    out: list[Finding] = []
    checked = set(sources.checked)
    severity = meta.severity
    for path, scan in scans.items():
        kind = sources.kinds.get(path, "")
        for line, column, text, syntax in scan.malformed:
            out.append(_suppress_finding(
                severity, kind, path, line, column,
                f"malformed suppression `{text}`: name the rules in brackets and say why, "
                f"e.g. `{syntax.example('PE-WF-002')}`", ("malformed", text)))
        for s in scan.suppressions:
            if not s.reason:
                out.append(_suppress_finding(
                    severity, kind, path, s.line, s.column,
                    f"suppression of {', '.join(s.rule_ids)} gives no reason: say why the finding "
                    f"is acceptable, e.g. `{s.syntax.example(s.rule_ids[0])}`",
                    ("no-reason", ",".join(s.rule_ids))))
            if strict and path in checked:
                for rule_id in s.rule_ids:
                    if rule_id not in s.used:
                        where = "" if s.code_line == s.line else f" (line {s.code_line})"
                        out.append(_suppress_finding(
                            severity, kind, path, s.line, s.column,
                            f"suppression of {rule_id} matches no finding here{where}: "
                            "remove it, or fix its rule ID", ("unused", rule_id)))
    return [*kept, *out]


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: date
                  ) -> list[Finding]:
    """The findings, those a waiver covers waived; one whose only waiver expired says so."""
    if not waivers:
        return list(findings)
    return [_waived(finding, waivers, today) for finding in findings]


def _waived(finding: Finding, waivers: Sequence[Waiver], today: date) -> Finding:
    if finding.suppressed:
        return finding
    expired: Waiver | None = None
    for waiver in waivers:
        paths = (finding.location.path, str(finding.properties.get("document", "")))
        if not (selects(waiver.rule, finding.rule_id)
                and any(path and path_matches(path, waiver.path) for path in paths)):
            continue
        if waiver.expired(today):
            expired = expired or waiver
            continue
        return replace(finding, suppression=Suppression(
            "external", f"waived by {waiver.owner} until {waiver.expires.isoformat()}: "
            f"{waiver.reason}", origin="waiver"))
    if expired is None:
        return finding
    return replace(
        finding,
        message=f"{finding.message} (the waiver by {expired.owner} expired on "
                f"{expired.expires.isoformat()}: {expired.reason})",
        properties={**finding.properties, "expired_waiver": {
            "owner": expired.owner, "expires": expired.expires.isoformat(),
            "reason": expired.reason,
        }},
    )


class BaselineError(Exception):
    """A baseline file that cannot be read: a usage error (exit 2)."""


@dataclass
class Baseline:
    """Fingerprints of accepted findings (with counts: one node may hold the same finding twice)."""

    counts: Counter[str]
    path: str = ""

    @classmethod
    def load(cls, file: Path) -> Baseline:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{file}: baseline not found (create it with "
                                "--write-baseline)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{file}: cannot read baseline: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{file}:{exc.lineno}:{exc.colno}: not a baseline "
                                f"(invalid JSON: {exc.msg})") from None
        entries = data.get("findings") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
            raise BaselineError(f"{file}: not a pe-policy baseline (expected "
                                "{\"findings\": [{\"fingerprint\": ...}, ...]})")
        return cls(Counter(e["fingerprint"] for e in entries), file.as_posix())

    @property
    def size(self) -> int:
        """How many findings it records."""
        return sum(self.counts.values())

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings, the active ones recorded in the baseline suppressed."""
        remaining = self.counts.copy()
        out: list[Finding] = []
        for finding in findings:
            if not finding.suppressed and remaining[finding.fingerprint] > 0:
                remaining[finding.fingerprint] -= 1
                finding = replace(finding, suppression=Suppression(
                    "external", f"recorded in baseline {self.path}", origin="baseline"))
            out.append(finding)
        return out


def baseline_text(findings: Iterable[Finding], tool_version: str = "") -> str:
    """The active findings as a baseline: fingerprints, plus what a reviewer needs to read it."""
    entries: list[dict[str, Any]] = sorted(
        ({"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.location.path,
          "line": f.location.line, "message": f.message}
         for f in findings if not f.suppressed),
        key=lambda e: (e["path"], e["rule_id"], e["line"], e["fingerprint"]),
    )
    payload = {"version": BASELINE_VERSION, "tool": f"pe-policy {tool_version}".strip(),
               "findings": entries}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def write_baseline(file: Path, findings: Iterable[Finding], tool_version: str = "") -> Baseline:
    """Record the active findings in `file` (atomically: a reader sees the old file or the new
    one) and return the baseline written, as `Baseline.load` would read it back.

    OSError when the file cannot be written."""
    from pe_policy.output import write_atomic

    active = [f for f in findings if not f.suppressed]
    write_atomic(file, baseline_text(active, tool_version))
    return Baseline(Counter(f.fingerprint for f in active), file.as_posix())


def apply_filters(
    findings: list[Finding],
    files: Sequence[CheckedFile],
    root: Path,
    config: Config,
    *,
    rules: RuleSet,
    baseline: Baseline | None = None,
    strict_suppressions: bool = False,
    today: date | None = None,
) -> list[Finding]:
    """Suppressions, then waivers, then the baseline; returns all findings, sorted.

    `rules` is the run's selection (`engine.pack.select_rules`), made before evaluation: the
    filters never drop a finding for its rule."""
    findings = _configured_severities(findings, rules)
    findings = apply_suppressions(findings, files, root, rules, strict=strict_suppressions)
    findings = apply_waivers(findings, config.waivers, today or date.today())
    if baseline is not None:
        findings = baseline.apply(findings)
    findings.sort(key=Finding.sort_key)
    return findings


def _configured_severities(findings: list[Finding], rules: RuleSet) -> list[Finding]:
    """Interim, until the evaluator and the runner use `rules.severities` when they make a
    finding: the severity the configuration gives a rule also wins over one its rule picked
    for a single finding (`severity` in a Rego result, `Violation(severity=...)`) and over
    pe-policy's own (PE-PARSE, PE-RULE-ERROR).  Every other finding has it already, from its
    rule's metadata (`select_rules`)."""
    if not rules.severities:
        return findings
    out: list[Finding] = []
    for finding in findings:
        severity = rules.severities.get(finding.rule_id)
        out.append(finding if severity is None or severity is finding.severity
                   else replace(finding, severity=severity))
    return out


def suppression_counts(findings: Iterable[Finding]) -> Mapping[str, int]:
    """How many findings each mechanism set aside: {"inline": n, "waiver": n, "baseline": n}."""
    counts: Counter[str] = Counter()
    for finding in findings:
        if finding.suppression is not None:
            suppression = finding.suppression
            counts[suppression.origin
                   or ("inline" if suppression.kind == "inSource" else "external")] += 1
    return counts
