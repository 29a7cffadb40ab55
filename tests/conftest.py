"""Shared test helpers: run the real CLI, load real files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pe_policy.cli import main
from pe_policy.document import Document
from pe_policy.findings import Finding
from pe_policy.pipeline import CheckResult, check, default_ruleset

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], cwd: Path | None = None) -> CliResult:
    runner = CliRunner()
    if cwd is not None:
        import os

        old = Path.cwd()
        os.chdir(cwd)
        try:
            result = runner.invoke(main, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)
    else:
        result = runner.invoke(main, list(args), catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def builtin_ruleset():  # type: ignore[no-untyped-def]
    return default_ruleset()


def check_paths(paths: Sequence[Path], root: Path | None = None, ruleset=None) -> CheckResult:  # type: ignore[no-untyped-def]
    return check(list(paths), (root or REPO).resolve(), ruleset=ruleset)


def rule_hits(result: CheckResult, rule_id: str) -> list[tuple[str, int]]:
    """(path, line) of every active finding of `rule_id`, sorted."""
    return sorted((f.location.path, f.location.line) for f in result.active if f.rule_id == rule_id)


def ids(findings: Sequence[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


@pytest.fixture
def tmp_repo(tmp_path: Path) -> Iterator[Path]:
    """An empty directory marked as a repository root."""
    (tmp_path / ".git").mkdir()
    yield tmp_path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`: tests never hard-code lines."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found {occurrence} time(s) in {path}")


__all__ = ["FIXTURES", "REPO", "CliResult", "Document", "check_paths", "ids", "line_of",
           "rule_hits", "run_cli"]
