"""discover -> load -> evaluate: one function per step, and `check` that chains them.

Kept free of click so the same pipeline serves the CLI, the pre-commit hook
and tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pe_policy.catalog import Catalog
from pe_policy.config import Config
from pe_policy.discover import Candidate, discover
from pe_policy.document import Document
from pe_policy.engine.evaluate import Evaluator, evaluate_all
from pe_policy.engine.pack import RuleSet, builtin_policy_dir, load_ruleset
from pe_policy.findings import Finding, Location, ParseError, Severity
from pe_policy.loaders import DEFAULT_MAX_BYTES, load_file


@dataclass
class CheckResult:
    """Everything a reporter needs: findings, the rules behind them, and the sources."""

    findings: list[Finding]
    catalog: Catalog
    root: Path
    documents: list[Document] = field(default_factory=list)
    checked_paths: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, message): not findings
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for code frames

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def source_line(self, path: str, line: int) -> str | None:
        lines = self.sources.get(path)
        if lines is None:
            file = self.root / path
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self.sources[path] = lines
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None


def load_candidates(
    candidates: Sequence[Candidate], root: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Document], list[Finding]]:
    documents: list[Document] = []
    errors: list[Finding] = []
    for candidate in candidates:
        if candidate.kind is None:
            continue
        try:
            documents.append(load_file(candidate.abs_path, candidate.path, candidate.kind, root,
                                       max_bytes))
        except ParseError as exc:
            errors.append(exc.to_finding(candidate.kind))
    return documents, errors


def default_ruleset(extra_dirs: Iterable[Path] = ()) -> RuleSet:
    return load_ruleset([builtin_policy_dir(), *extra_dirs])


def check(
    paths: Sequence[Path],
    root: Path,
    *,
    config: Config | None = None,
    ruleset: RuleSet | None = None,
    forced_kind: str | None = None,
    engine: str = "regorus",
) -> CheckResult:
    config = config or Config()
    ruleset = ruleset or default_ruleset()
    candidates, problems = discover(paths, root, forced_kind=forced_kind)
    unknown = [c for c in candidates if c.kind is None]
    problems.extend((c.path, "not a kind pe-policy knows (use --kind to say what it is)")
                    for c in unknown)
    documents, findings = load_candidates(candidates, root)
    evaluator = Evaluator(ruleset, config.params, backend_name=engine, repo_root=root)
    findings.extend(evaluate_all(evaluator, documents))
    findings.sort(key=Finding.sort_key)
    return CheckResult(
        findings=findings,
        catalog=ruleset.catalog,
        root=root,
        documents=documents,
        checked_paths=[c.path for c in candidates if c.kind is not None],
        problems=problems,
        sources={d.path: d.lines for d in documents if d.text is not None},
    )


def exit_code(result: CheckResult, fail_on: Severity) -> int:
    """0 clean, 1 findings at or above `fail_on`, 2 when some input could not be read."""
    active = result.active
    if result.problems or any(f.rule_id == "PE-PARSE" for f in active):
        return 2
    if any(f.severity.rank >= fail_on.rank for f in active):
        return 1
    return 0


__all__ = ["CheckResult", "Location", "check", "exit_code"]
