"""Which files to check, and what kind each one is.

Detection looks at the path first (cheap, and what users expect: a file under
`.github/workflows/` is a workflow) and only then at the first few kilobytes of
content, so a repository walk stays fast.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".terraform",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".hypothesis", "dist", "build"}
)
SNIFF_BYTES = 8192

_RUNBOOK_HEADING = re.compile(r"^#\s+[A-Z][A-Z0-9]*-\d+\s*:", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Candidate:
    abs_path: Path
    path: str  # relative to the root, POSIX
    kind: str | None  # None: not a kind pe-policy knows


def relative_to_root(abs_path: Path, root: Path) -> str:
    try:
        return abs_path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return abs_path.as_posix()


def find_root(start: Path) -> Path:
    """The repository root: the nearest ancestor holding `.git`, else `start` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def kind_by_path(path: str) -> str | None:
    p = PurePosixPath(path)
    name = p.name.lower()
    parts = [part.lower() for part in p.parts]
    suffix = p.suffix.lower()
    if suffix in (".yml", ".yaml"):
        if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
            return "workflow"
        if name in ("action.yml", "action.yaml"):
            return "action"
    if suffix == ".tf":
        return "terraform"
    if name.endswith((".tfplan.json", ".plan.json")) or name in ("tfplan.json", "plan.json"):
        return "terraform_plan"
    if name.endswith((".up.sql", ".down.sql")):
        return "migration"
    if suffix == ".py" and ("versions" in parts[:-1] or "migrations" in parts[:-1]):
        return "migration"
    if name.endswith(".sarif") or name.endswith(".sarif.json"):
        return "scan_report"
    if name in ("coverage.xml", "cobertura.xml", "coverage.json", "cobertura-coverage.xml"):
        return "coverage"
    return None


def kind_by_content(path: str, head: str) -> str | None:
    """Sniff the start of a file whose path did not decide its kind."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".md":
        match = _FRONT_MATTER.match(head)
        if match:
            front = match.group(1)
            if re.search(r"^unit_id\s*:", front, re.MULTILINE):
                if re.search(r"^(type|kind)\s*:\s*['\"]?qa", front, re.MULTILINE | re.IGNORECASE):
                    return "qa_report"
                if re.search(r"^(qa_report|reviewer|tester)\s*:", front, re.MULTILINE):
                    return "qa_report"
                name = PurePosixPath(path).name.lower()
                return "qa_report" if name.startswith("qa") else "deployment_report"
        if _RUNBOOK_HEADING.search(head) and re.search(r"^Status\s*:", head, re.MULTILINE):
            return "runbook"
        return None
    if suffix == ".json":
        compact = head.replace(" ", "")
        if '"resource_changes"' in head or ('"format_version"' in head and '"terraform_version"' in head):
            return "terraform_plan"
        if '"SchemaVersion"' in head and ('"Results"' in head or '"ArtifactName"' in head):
            return "scan_report"
        if '"auditReportVersion"' in head or ('"dependencies"' in head and '"vulns"' in head):
            return "scan_report"
        if '"$schema"' in head and "sarif" in head.lower() and '"runs"' in head:
            return "scan_report"
        if '"meta"' in head and '"totals"' in head and '"percent_covered"' in head:
            return "coverage"
        if '"pull_request":{' in compact or '"headRefName"' in head:
            return "pull_request"
        return None
    if suffix == ".xml" and "<coverage" in head and ("line-rate" in head or "lines-valid" in head):
        return "coverage"
    if suffix == ".py" and ("from alembic import op" in head or "django.db" in head):
        return "migration" if ("def upgrade" in head or "class Migration" in head) else None
    return None


def _sniff(abs_path: Path) -> str:
    try:
        with open(abs_path, "rb") as fh:
            return fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


_SNIFF_SUFFIXES = frozenset({".md", ".json", ".xml", ".py"})


def detect_kind(abs_path: Path, path: str) -> str | None:
    kind = kind_by_path(path)
    if kind is not None:
        return kind
    if PurePosixPath(path).suffix.lower() in _SNIFF_SUFFIXES:
        return kind_by_content(path, _sniff(abs_path))
    return None


def _excluded(path: str, excludes: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")
               for pattern in excludes)


def walk(directory: Path) -> Iterator[Path]:
    """Files below `directory`, sorted, skipping VCS/tool directories and symlinked dirs."""
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath, name)


def discover(
    paths: Iterable[Path],
    root: Path,
    *,
    excludes: Iterable[str] = (),
    forced_kind: str | None = None,
) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Expand `paths` into candidates; return them and (path, problem) pairs for bad paths.

    Files named explicitly are always returned (kind None when unknown, so the
    caller can say so); files found by walking a directory only when their kind
    is known.
    """
    excludes = tuple(excludes)
    found: dict[str, Candidate] = {}
    problems: list[tuple[str, str]] = []
    for given in paths:
        if os.path.isdir(given):
            before = len(found)
            for file in walk(given):
                rel = relative_to_root(file, root)
                if _excluded(rel, excludes) or rel in found:
                    continue
                kind = forced_kind or detect_kind(file, rel)
                if kind is not None:
                    found[rel] = Candidate(file, rel, kind)
            if len(found) == before:
                problems.append((str(given), "no files pe-policy knows how to check in this directory"))
        elif os.path.lexists(given):
            rel = relative_to_root(given, root)
            if rel not in found and not _excluded(rel, excludes):
                found[rel] = Candidate(given, rel, forced_kind or detect_kind(given, rel))
        else:
            problems.append((str(given), "no such file or directory"))
    return sorted(found.values(), key=lambda c: c.path), problems
