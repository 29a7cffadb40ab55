"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

Beyond the OASIS schema, GitHub wants: `security-severity` as a numeric
string, a `uri` and `startLine >= 1` on every result, every `ruleId` defined in
`rules[]` with descriptions and help, one run per category, and at most 25,000
results per run.

Code scanning tells alerts apart by `partialFingerprints`: every result has its own
(two results with one value are merged into one alert), and keeps it when lines move.

A finding that is no verdict on the code (a file that could not be read, `PE-PARSE`; a
rule that failed, `PE-RULE-ERROR`; a rule whose data is unknown, "could not be
evaluated") is no security alert either: it has a rule entry of its own, without a
`security-severity`, instead of borrowing a high one from the rule it names.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy import REPOSITORY_URL
from pe_policy.catalog import RuleMeta
from pe_policy.findings import PARSE_RULE_ID, RULE_ERROR_RULE_ID, Finding, Severity
from pe_policy.reporters import dumps_json

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
MAX_RESULTS_PER_RUN = 25_000
CATEGORY = "pe-policy"
INFORMATION_URI = REPOSITORY_URL
FINGERPRINT_KEY = "peFingerprint/v2"
NOT_EVALUATED_SUFFIX = "/not-evaluated"
# no verdict on the code: a tool problem, reported at its own level, never a security alert
_TOOL_PROBLEMS = {PARSE_RULE_ID: "error", RULE_ERROR_RULE_ID: "error"}


def _rule_name(title: str, rule_id: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or rule_id.replace("-", "")


def _rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    if meta.id in _TOOL_PROBLEMS:
        return _problem_descriptor(meta.id, meta.title, meta.full_description,
                                   meta.remediation, _TOOL_PROBLEMS[meta.id])
    help_md = f"**{meta.title}**\n\n{meta.full_description}"
    if meta.remediation:
        help_md += f"\n\n**How to fix:** {meta.remediation}"
    if meta.source:
        help_md += f"\n\n_Source: {meta.source}_"
    descriptor: dict[str, Any] = {
        "id": meta.id,
        "name": _rule_name(meta.title, meta.id),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.full_description},
        "help": {"text": meta.help_text, "markdown": help_md},
        "defaultConfiguration": {"level": meta.severity.sarif_level},
        "properties": {
            "security-severity": meta.severity.security_severity,
            "problem.severity": "error" if meta.severity.rank >= 3 else (
                "warning" if meta.severity.rank == 2 else "recommendation"),
            "tags": ["security", "pe-policy", *(meta.kinds or ()), *meta.tags],
        },
    }
    if meta.help_uri:
        descriptor["helpUri"] = meta.help_uri
    return descriptor


def _problem_descriptor(rule_id: str, title: str, description: str, remediation: str,
                        level: str) -> dict[str, Any]:
    """A rule entry for what is not a verdict: no security-severity, its own level."""
    help_text = f"{description}\n\nHow to fix: {remediation}" if remediation else description
    return {
        "id": rule_id,
        "name": _rule_name(title, rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["pe-policy", "tool-problem"]},
    }


def _not_evaluated_descriptor(rule_id: str, meta: RuleMeta | None) -> dict[str, Any]:
    title = meta.title if meta is not None else rule_id
    return _problem_descriptor(
        rule_id + NOT_EVALUATED_SUFFIX, f"{rule_id} could not be evaluated",
        f"{rule_id} ({title}) could not give a verdict: the data it needs is unknown. "
        "Unknown is not passed: the result's message says what to supply.",
        "Supply the data the message names (or check with a source that has it).", "note")


def _placeholder_meta(rule_id: str, finding: Finding) -> RuleMeta:
    return RuleMeta(id=rule_id, title=rule_id, severity=finding.severity,
                    description=f"Findings reported under {rule_id}.", engine="unknown")


def _artifact(path: str) -> dict[str, Any]:
    """Repository files are relative to %SRCROOT%; files outside it (an event payload) are absolute."""
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": path, "uriBaseId": "%SRCROOT%"}


def _result(finding: Finding, index: dict[str, int], fingerprint: str) -> dict[str, Any]:
    rule_id = _sarif_rule_id(finding)
    loc = finding.location
    region: dict[str, Any] = {"startLine": max(1, loc.line)}
    if loc.column:
        region["startColumn"] = max(1, loc.column)
    if loc.end_line and loc.end_line >= region["startLine"]:
        region["endLine"] = loc.end_line
        if loc.end_column and loc.column and (loc.end_line > loc.line or loc.end_column > loc.column):
            region["endColumn"] = loc.end_column
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index[rule_id],
        "level": _TOOL_PROBLEMS.get(rule_id, finding.severity.sarif_level),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(loc.path),
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"severity": finding.severity.value},
    }
    if rule_id != finding.rule_id:
        result["properties"]["rule"] = finding.rule_id
    elif rule_id not in _TOOL_PROBLEMS:
        result["properties"]["security-severity"] = finding.severity.security_severity
    if finding.suppression is not None:
        result["suppressions"] = [{
            "kind": finding.suppression.kind,
            "status": finding.suppression.status,
            "justification": finding.suppression.justification,
        }]
    return result


def _sarif_rule_id(finding: Finding) -> str:
    if finding.not_evaluated and finding.rule_id not in _TOOL_PROBLEMS:
        return finding.rule_id + NOT_EVALUATED_SUFFIX
    return finding.rule_id


def _normalized(line: str | None) -> str:
    return " ".join((line or "").split())


def fingerprints(result: CheckResult, findings: list[Finding]) -> dict[int, str]:
    """A distinct, line-move-proof value per finding (keyed by `id`).

    The hash of the rule, the file, the node the finding is on (its JSON path) and the
    content of its line, whitespace normalised; never the line number.  Findings that share
    all of these are told apart by their occurrence index, counted down the file.
    """
    keyed: list[tuple[str, Finding]] = []
    for finding in findings:
        loc = finding.location
        content = _normalized(result.source_line(loc.path, loc.line))
        raw = "\x1f".join((finding.rule_id, loc.path,
                           "/".join(str(p) for p in finding.json_path), content))
        keyed.append((hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32], finding))
    keyed.sort(key=lambda item: (item[0], item[1].location.line, item[1].location.column or 0,
                                 item[1].message))
    seen: Counter[str] = Counter()
    out: dict[int, str] = {}
    for digest, finding in keyed:
        seen[digest] += 1
        out[id(finding)] = f"{digest}:{seen[digest]}"
    return out


def results_left_out(result: CheckResult) -> int:
    """How many findings a SARIF report of `result` leaves out (GitHub's per-run limit)."""
    return max(0, len(result.findings) - MAX_RESULTS_PER_RUN)


def build_sarif(result: CheckResult, tool_version: str = "", category: str = CATEGORY) -> dict[str, Any]:
    findings = sorted(result.findings, key=Finding.worst_first_key)
    prints = fingerprints(result, findings)  # before the cut: a result's value never depends on it
    notifications: list[dict[str, Any]] = [
        {"level": "error", "message": {"text": f"{path}: {message}"}}
        for path, message in result.problems
    ]
    if len(findings) > MAX_RESULTS_PER_RUN:
        notifications.append({
            "level": "warning",
            "message": {"text": f"{len(findings) - MAX_RESULTS_PER_RUN} results left out: GitHub "
                        f"accepts at most {MAX_RESULTS_PER_RUN} per run (most severe kept)"},
        })
        findings = findings[:MAX_RESULTS_PER_RUN]
    metas: dict[str, RuleMeta] = {m.id: m for m in result.catalog}
    descriptors = {rule_id: _rule_descriptor(meta) for rule_id, meta in metas.items()}
    for finding in findings:
        rule_id = _sarif_rule_id(finding)
        if rule_id in descriptors:
            continue
        if rule_id != finding.rule_id:
            descriptors[rule_id] = _not_evaluated_descriptor(finding.rule_id,
                                                             metas.get(finding.rule_id))
        else:
            descriptors[rule_id] = _rule_descriptor(_placeholder_meta(rule_id, finding))
    rule_ids = sorted(descriptors)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    root_uri = result.root.resolve().as_uri().rstrip("/") + "/"
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(level == "error" for level in
                                       (n["level"] for n in notifications)),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pe-policy",
                        "version": tool_version or "0",
                        "semanticVersion": tool_version or "0.0.0",
                        "informationUri": INFORMATION_URI,
                        "rules": [descriptors[r] for r in rule_ids],
                    }
                },
                "automationDetails": {"id": f"{category}/"},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "invocations": [invocation],
                "results": [_result(f, index, prints[id(f)]) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(result: CheckResult, options: ReportOptions) -> str:
    return dumps_json(build_sarif(result, options.tool_version), expand=4) + "\n"


__all__ = ["MAX_RESULTS_PER_RUN", "Severity", "build_sarif", "render", "results_left_out"]
