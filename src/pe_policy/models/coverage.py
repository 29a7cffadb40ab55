"""Test coverage reports: Cobertura XML and coverage.py JSON, on one scale.

`line_percent` is line coverage (covered / coverable lines, 0-100) in both:
Cobertura's `line-rate` is lines only, and for coverage.json it is computed
from `covered_lines / num_statements`, because coverage.py's headline
`percent_covered` mixes in branches when branch coverage is on (it is kept as
`total_percent`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CoverageFile(BaseModel):
    """One source file (a Cobertura `<class>`, a coverage.json `files` entry)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = Field(default=None, description="Cobertura's class name.")
    package: str | None = None
    line_percent: float = Field(ge=0, le=100)
    lines_covered: int | None = None
    lines_valid: int | None = None


class CoveragePackage(BaseModel):
    """A Cobertura `<package>`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    line_percent: float | None = Field(default=None, ge=0, le=100)


class CoverageReport(BaseModel):
    """Totals and per-file line coverage of one test run."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["cobertura", "coverage.py"]
    tool_version: str | None = None
    line_percent: float = Field(ge=0, le=100, description="Line coverage, 0-100.")
    lines_covered: int | None = None
    lines_valid: int | None = Field(default=None, description="Lines that could be covered.")
    branch_percent: float | None = Field(default=None, ge=0, le=100)
    total_percent: float | None = Field(
        default=None, ge=0, le=100,
        description="coverage.py's `percent_covered` (statements and branches together).")
    packages: list[CoveragePackage] = Field(default_factory=list)
    files: list[CoverageFile] = Field(default_factory=list)


def percent(covered: float, total: float) -> float:
    """covered/total as a percentage with two decimals; nothing to cover is fully covered."""
    if total <= 0:
        return 100.0
    return round(min(100.0, max(0.0, covered * 100.0 / total)), 2)
