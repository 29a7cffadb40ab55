"""Helpers for the user-facing tests (config, filters, reports, pre-commit, action).

`fixtures/filters/repo` is a small repository with one finding in each file
syntax pe-policy reads; tests copy it and edit the copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pe_policy.findings import Finding
from pe_policy.pipeline import CheckResult
from tests.conftest import FIXTURES

FILTER_REPO = FIXTURES / "filters" / "repo"
WORKFLOW = ".github/workflows/ci.yml"
TERRAFORM = "infra/network.tf"
ALEMBIC = "migrations/versions/20240611_drop_legacy_orders.py"
SQL_UP = "db/0007_drop_sessions.up.sql"
RUNBOOK = "docs/runbooks/PE-42-rotate-db-credentials.md"


def copy_repo(dest: Path) -> Path:
    """A copy of the filters repository at `dest` (a repository root)."""
    shutil.copytree(FILTER_REPO, dest, dirs_exist_ok=True)
    (dest / ".git").mkdir(exist_ok=True)
    return dest


def write(root: Path, rel: str, content: str | bytes) -> Path:
    """`content` at `root/rel` (parents made): text as UTF-8, bytes as they are."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def insert_line(path: Path, before: int, text: str) -> None:
    """Insert `text` as a new line before 1-based line `before`, indented like that line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    target = lines[before - 1]
    indent = target[: len(target) - len(target.lstrip())]
    lines.insert(before - 1, f"{indent}{text}\n")
    path.write_text("".join(lines), encoding="utf-8")


def append_to_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + f"  {text}\n"
    path.write_text("".join(lines), encoding="utf-8")


def findings_of(result: CheckResult, rule_id: str, path: str | None = None) -> list[Finding]:
    """All findings (active or not) of a rule, optionally in one file."""
    return [f for f in result.findings
            if f.rule_id == rule_id and (path is None or f.location.path == path)]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [str(f.location) + " " + f.message for f in findings]
    return findings[0]
