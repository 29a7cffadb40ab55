"""Security scan reports (Trivy, pip-audit, npm audit, SARIF) in one normalized shape.

Each scanner names and grades vulnerabilities its own way; the quality gate
("0 critical / 0 high", seed 003) is one rule only if every report becomes a
list of vulnerabilities with a severity on one scale:
critical > high > medium > low, plus `unknown` for tools that grade nothing
(pip-audit) — the gate decides what unknown counts as (`scan_unknown_severity`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SeverityLevel = Literal["critical", "high", "medium", "low", "unknown"]
ReportFormat = Literal["trivy", "pip-audit", "npm-audit", "sarif"]

SEVERITY_RANK: dict[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1}

_SEVERITY_WORDS: dict[str, SeverityLevel] = {
    "critical": "critical",
    "high": "high", "important": "high", "error": "high",
    "medium": "medium", "moderate": "medium", "warning": "medium",
    "low": "low", "negligible": "low", "minor": "low", "info": "low", "informational": "low",
    "note": "low", "none": "low",
    "unknown": "unknown", "unspecified": "unknown", "": "unknown",
}


def normalize_severity(value: object) -> SeverityLevel:
    """A tool's severity word (`CRITICAL`, `moderate`, SARIF `error`) on the common scale."""
    if value is None:
        return "unknown"
    return _SEVERITY_WORDS.get(str(value).strip().lower(), "unknown")


def severity_from_score(score: float) -> SeverityLevel:
    """CVSS bands, as GitHub reads SARIF `security-severity`."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


def first_cve(*ids: str) -> str | None:
    for value in ids:
        if _CVE.match(value):
            return value.upper()
    return None


class Vulnerability(BaseModel):
    """One vulnerable package (or one failing SARIF result) as the scanner reported it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The scanner's ID: CVE-..., GHSA-..., PYSEC-..., a SARIF ruleId.")
    cve: str | None = Field(default=None, description="The CVE among `id` and `aliases`.")
    aliases: list[str] = Field(default_factory=list)
    package: str | None = None
    installed_version: str | None = None
    fixed_version: str | None = Field(
        default=None, description="The version (or range) that fixes it; absent: no fix known.")
    severity: SeverityLevel = Field(description="Normalized severity.")
    reported_severity: str | None = Field(
        default=None, description="The severity as the tool wrote it (`MODERATE`, `error`, "
        "a CVSS score).")
    title: str | None = None
    url: str | None = None
    target: str | None = Field(
        default=None, description="What was scanned: Trivy's Target, a SARIF artifact URI.")
    tool: str = Field(description="The scanner: Trivy, pip-audit, npm audit, a SARIF driver.")
    suppressed: bool = Field(
        default=False, description="Suppressed in the report itself (SARIF `suppressions`).")


class ScanReport(BaseModel):
    """A scanner's report, normalized; `counts` tallies unsuppressed vulnerabilities."""

    model_config = ConfigDict(extra="forbid")

    format: ReportFormat
    tool: str
    tool_version: str | None = None
    artifact: str | None = Field(default=None, description="Trivy's ArtifactName.")
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)
    counts: dict[SeverityLevel, int] = Field(default_factory=dict)
    reported_counts: dict[str, int] | None = Field(
        default=None, description="Totals the report states itself (npm `metadata."
        "vulnerabilities`), on the common scale.")


def tally(vulnerabilities: list[Vulnerability]) -> dict[SeverityLevel, int]:
    counts: dict[SeverityLevel, int] = {"critical": 0, "high": 0, "medium": 0, "low": 0,
                                        "unknown": 0}
    for vulnerability in vulnerabilities:
        if not vulnerability.suppressed:
            counts[vulnerability.severity] += 1
    return counts
