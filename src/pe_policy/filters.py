"""The filter step: inline suppressions, waivers from the config, and the baseline.

A filtered finding stays in the results with a `Suppression` saying why (SARIF
emits it as suppressed, reporters count it), so nothing disappears silently;
only the exit code and the lists of active findings leave it out.
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

from pe_policy.catalog import Catalog
from pe_policy.config import Config, Waiver, selects
from pe_policy.discover import path_matches
from pe_policy.engine.pack import RuleSet, fallback_meta
from pe_policy.findings import Finding, Location, Severity, Suppression

if TYPE_CHECKING:
    from pe_policy.document import CheckedFile
    from pe_policy.engine.rego import RegoModule

SUPPRESS_RULE_ID = "PE-SUPPRESS"
NO_REASON = "no reason given"
REASON_SEPARATORS = ":-\u2013\u2014"  # `ignore[X]: why`, `ignore[X] - why`, en and em dashes
BASELINE_VERSION = 1
MAX_SCAN_BYTES = 10 * 1024 * 1024  # a file read only to look for suppression comments

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


class SourceLines:
    """The lines of each file findings point at: the checked files' text first.

    A file that was not loaded (the `.tf` file behind a plan resource) is read
    once, only when a finding points into it, and only inside the root.
    """

    def __init__(self, files: Iterable[CheckedFile], root: Path) -> None:
        self.root = root.resolve()
        self._lines: dict[str, Sequence[str]] = {}
        self.kinds: dict[str, str] = {}
        self.checked: list[str] = []
        for file in files:
            self.kinds[file.path] = file.kind
            if file.text is not None and file.path not in self._lines:
                self._lines[file.path] = file.lines if "pe-policy" in file.text else ()
                self.checked.append(file.path)

    def get(self, path: str) -> Sequence[str]:
        if path not in self._lines:
            self._lines[path] = self._read(path)
        return self._lines[path]

    def _read(self, path: str) -> Sequence[str]:
        from pe_policy.findings import ParseError
        from pe_policy.loaders import read_text

        try:
            file = (self.root / path).resolve()
            file.relative_to(self.root)
            # read_text: never blocks on a FIFO, never reads a device, bounded in size
            text = read_text(file, path, MAX_SCAN_BYTES)
        except (OSError, RuntimeError, ValueError, ParseError):  # RuntimeError: a symlink loop
            return ()
        return text.splitlines() if "pe-policy" in text else ()


def _suppress_finding(kind: str, path: str, line: int, column: int, message: str,
                      key: tuple[str, str]) -> Finding:
    """A PE-SUPPRESS finding; `key` (problem, subject) keeps its fingerprint free of the line."""
    return Finding(rule_id=SUPPRESS_RULE_ID, severity=Severity.MEDIUM, message=message,
                   location=Location(path, line, column), kind=kind,
                   json_path=("suppression", *key))


def apply_suppressions(findings: Sequence[Finding], sources: SourceLines,
                       *, strict: bool = False) -> list[Finding]:
    """Mark findings covered by an inline ignore; return the findings about the comments."""
    paths = list(dict.fromkeys([*sources.checked, *(f.location.path for f in findings)]))
    scans = {path: scan_suppressions(path, sources.get(path)) for path in paths}
    covering: dict[tuple[str, int], list[InlineSuppression]] = {}
    for scan in scans.values():
        for s in scan.suppressions:
            for target in s.targets:
                covering.setdefault((s.path, target), []).append(s)
    for finding in findings:
        if finding.suppressed or finding.rule_id == SUPPRESS_RULE_ID:
            continue
        rule_id = finding.rule_id.upper()
        for s in covering.get((finding.location.path, finding.location.line), ()):
            if rule_id in s.rule_ids:
                finding.suppression = Suppression("inSource", s.reason or NO_REASON,
                                                  origin="inline")
                s.used.add(rule_id)
                break
    out: list[Finding] = []
    checked = set(sources.checked)
    for path, scan in scans.items():
        kind = sources.kinds.get(path, "")
        for line, column, text, syntax in scan.malformed:
            out.append(_suppress_finding(
                kind, path, line, column,
                f"malformed suppression `{text}`: name the rules in brackets and say why, "
                f"e.g. `{syntax.example('PE-WF-002')}`", ("malformed", text)))
        for s in scan.suppressions:
            if not s.reason:
                out.append(_suppress_finding(
                    kind, path, s.line, s.column,
                    f"suppression of {', '.join(s.rule_ids)} gives no reason: say why the finding "
                    f"is acceptable, e.g. `{s.syntax.example(s.rule_ids[0])}`",
                    ("no-reason", ",".join(s.rule_ids))))
            if strict and path in checked:
                for rule_id in s.rule_ids:
                    if rule_id not in s.used:
                        where = "" if s.code_line == s.line else f" (line {s.code_line})"
                        out.append(_suppress_finding(
                            kind, path, s.line, s.column,
                            f"suppression of {rule_id} matches no finding here{where}: "
                            "remove it, or fix its rule ID", ("unused", rule_id)))
    return out


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: date) -> None:
    """Waive matching findings; a finding whose only waiver expired says so in its message."""
    if not waivers:
        return
    for finding in findings:
        if finding.suppressed:
            continue
        expired: Waiver | None = None
        for waiver in waivers:
            paths = (finding.location.path, str(finding.properties.get("document", "")))
            if not (selects(waiver.rule, finding.rule_id)
                    and any(path and path_matches(path, waiver.path) for path in paths)):
                continue
            if waiver.expired(today):
                expired = expired or waiver
                continue
            finding.suppression = Suppression(
                "external", f"waived by {waiver.owner} until {waiver.expires.isoformat()}: "
                f"{waiver.reason}", origin="waiver")
            break
        if finding.suppression is None and expired is not None:
            finding.message += (f" (the waiver by {expired.owner} expired on "
                                f"{expired.expires.isoformat()}: {expired.reason})")
            finding.properties["expired_waiver"] = {
                "owner": expired.owner, "expires": expired.expires.isoformat(),
                "reason": expired.reason,
            }


def _rego_rule_ids(module: RegoModule) -> list[str]:
    return [(module.meta_for(name) or fallback_meta(module, name)).id for name in module.result_rules]


def restrict_ruleset(ruleset: RuleSet, config: Config) -> RuleSet:
    """The rules the config leaves on, with overridden severities in the catalog.

    Rule IDs in the config are checked here, once the extra policy directories
    are loaded, so a typo in `rules:` or `waivers:` is an error, not a rule
    that silently keeps running.
    """
    known = [m.id for m in ruleset.catalog]
    known.extend(i for m in ruleset.policy_modules for i in _rego_rule_ids(m))
    config.check_rule_ids(known)
    if not config.restricts_rules:
        return ruleset
    catalog = Catalog([
        replace(meta, severity=config.severity_for(meta.id) or meta.severity)
        for meta in ruleset.catalog
        if config.rule_enabled(meta.id, internal=meta.engine == "internal")
    ])
    return RuleSet(
        catalog=catalog,
        python_rules=[r for r in ruleset.python_rules if config.rule_enabled(r.meta.id)],
        rego_modules=[
            m for m in ruleset.rego_modules
            if m.is_test or not m.result_rules
            or any(config.rule_enabled(i) for i in _rego_rule_ids(m))
        ],
    )


def apply_rule_settings(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Drop findings of disabled rules and apply severity overrides."""
    if not config.restricts_rules:
        return list(findings)
    out: list[Finding] = []
    for finding in findings:
        if not config.rule_enabled(finding.rule_id, internal=finding.rule_id == SUPPRESS_RULE_ID):
            continue
        override = config.severity_for(finding.rule_id)
        if override is not None:
            finding.severity = override
        out.append(finding)
    return out


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

    def apply(self, findings: Iterable[Finding]) -> int:
        """Mark active findings recorded in the baseline; return how many."""
        remaining = self.counts.copy()
        matched = 0
        for finding in findings:
            if finding.suppressed or remaining[finding.fingerprint] <= 0:
                continue
            remaining[finding.fingerprint] -= 1
            finding.suppression = Suppression("external", f"recorded in baseline {self.path}",
                                              origin="baseline")
            matched += 1
        return matched


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


def apply_filters(
    findings: list[Finding],
    files: Sequence[CheckedFile],
    root: Path,
    config: Config,
    *,
    baseline: Baseline | None = None,
    strict_suppressions: bool = False,
    today: date | None = None,
) -> list[Finding]:
    """Suppressions, then waivers, then rule settings, then the baseline; returns all findings."""
    sources = SourceLines(files, root)
    findings = [*findings, *apply_suppressions(findings, sources, strict=strict_suppressions)]
    apply_waivers(findings, config.waivers, today or date.today())
    findings = apply_rule_settings(findings, config)
    if baseline is not None:
        baseline.apply(findings)
    findings.sort(key=Finding.sort_key)
    return findings


def suppression_counts(findings: Iterable[Finding]) -> Mapping[str, int]:
    """How many findings each mechanism set aside: {"inline": n, "waiver": n, "baseline": n}."""
    counts: Counter[str] = Counter()
    for finding in findings:
        if finding.suppression is not None:
            suppression = finding.suppression
            counts[suppression.origin
                   or ("inline" if suppression.kind == "inSource" else "external")] += 1
    return counts
