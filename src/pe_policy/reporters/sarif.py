"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

Beyond the OASIS schema, GitHub wants: `security-severity` as a numeric
string, a `uri` and `startLine >= 1` on every result, every `ruleId` defined in
`rules[]` with descriptions and help, one run per category, and at most 25,000
results per run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy.catalog import RuleMeta
from pe_policy.findings import Finding, Severity
from pe_policy.reporters import dumps_json

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
MAX_RESULTS_PER_RUN = 25_000
CATEGORY = "pe-policy"
INFORMATION_URI = "https://pypi.org/project/pe-policy/"


def _rule_name(meta: RuleMeta) -> str:
    words = re.findall(r"[A-Za-z0-9]+", meta.title)
    return "".join(w[:1].upper() + w[1:] for w in words) or meta.id.replace("-", "")


def _rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    help_md = f"**{meta.title}**\n\n{meta.full_description}"
    if meta.remediation:
        help_md += f"\n\n**How to fix:** {meta.remediation}"
    if meta.source:
        help_md += f"\n\n_Source: {meta.source}_"
    descriptor: dict[str, Any] = {
        "id": meta.id,
        "name": _rule_name(meta),
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


def _placeholder_meta(rule_id: str, finding: Finding) -> RuleMeta:
    return RuleMeta(id=rule_id, title=rule_id, severity=finding.severity,
                    description=f"Findings reported under {rule_id}.", engine="unknown")


def _artifact(path: str) -> dict[str, Any]:
    """Repository files are relative to %SRCROOT%; files outside it (an event payload) are absolute."""
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": path, "uriBaseId": "%SRCROOT%"}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    loc = finding.location
    region: dict[str, Any] = {"startLine": max(1, loc.line)}
    if loc.column:
        region["startColumn"] = max(1, loc.column)
    if loc.end_line and loc.end_line >= region["startLine"]:
        region["endLine"] = loc.end_line
        if loc.end_column and loc.column and (loc.end_line > loc.line or loc.end_column > loc.column):
            region["endColumn"] = loc.end_column
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity.sarif_level,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(loc.path),
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"peFingerprint/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.value,
                       "security-severity": finding.severity.security_severity},
    }
    if finding.suppression is not None:
        result["suppressions"] = [{
            "kind": finding.suppression.kind,
            "status": finding.suppression.status,
            "justification": finding.suppression.justification,
        }]
    return result


def build_sarif(result: CheckResult, tool_version: str = "", category: str = CATEGORY) -> dict[str, Any]:
    findings = sorted(result.findings, key=lambda f: (-f.severity.rank, *f.sort_key()))
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
    for finding in findings:
        if finding.rule_id not in metas:
            metas[finding.rule_id] = _placeholder_meta(finding.rule_id, finding)
    rule_ids = sorted(metas)
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
                        "rules": [_rule_descriptor(metas[r]) for r in rule_ids],
                    }
                },
                "automationDetails": {"id": f"{category}/"},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "invocations": [invocation],
                "results": [_result(f, index[f.rule_id]) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(result: CheckResult, options: ReportOptions) -> str:
    return dumps_json(build_sarif(result, options.tool_version), expand=4) + "\n"


__all__ = ["MAX_RESULTS_PER_RUN", "Severity", "build_sarif", "render"]
