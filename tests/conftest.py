"""Shared test helpers: run the real CLI, load real files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings as _hypothesis_settings

from pe_policy.cli import main
from pe_policy.discover import Candidate
from pe_policy.document import Document
from pe_policy.findings import Finding
from pe_policy.loaders import DEFAULT_MAX_BYTES
from pe_policy.pipeline import CheckResult, check, default_ruleset
from tests.listener import listener  # noqa: F401 (a fixture for every test module)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

# pe-policy caches Rego module outlines on disk (engine/rego_ast.py): the tests, and the CLI
# processes they start, use a cache of their own, never the developer's.
_OUTLINE_CACHE = tempfile.TemporaryDirectory(prefix="pe-policy-test-cache-")
os.environ.setdefault("PE_POLICY_CACHE_DIR", _OUTLINE_CACHE.name)

# A CI job checking a pull request of pe-policy itself has these set: the tests, and the CLI
# processes they start, are not that pull request's check (trust.py reads them).
for _name in ("GITHUB_EVENT_NAME", "GITHUB_BASE_REF"):
    os.environ.pop(_name, None)

# Hypothesis profiles: `dev` (hypothesis' 100 examples) locally, `ci` (1,000) when CI is set,
# `fuzz` (10,000: `make fuzz`); HYPOTHESIS_PROFILE picks one explicitly.  Tests that pin their
# own max_examples keep it; tests reading `settings.default.max_examples` scale with the profile.
_hypothesis_settings.register_profile("dev", deadline=None)
_hypothesis_settings.register_profile("ci", max_examples=1_000, deadline=None)
_hypothesis_settings.register_profile("fuzz", max_examples=10_000, deadline=None)
_hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


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


def many_files_repo(repo: Path, workflow: str, count: int, broken_every: int,
                    kinds: Sequence[str]) -> Path:
    """A repository of `count` workflows (`workflow` formatted with `n`; every `broken_every`th,
    from the middle of the first run, a YAML error) and these kinds' fixtures."""
    (repo / ".git").mkdir()
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for n in range(count):
        text = workflow.format(n=n)
        if n % broken_every == broken_every // 2:
            text = text.replace("    steps:", "    steps: [unclosed")
        (workflows / f"wf-{n:03d}.yml").write_text(text, encoding="utf-8")
    for kind in kinds:
        shutil.copytree(FIXTURES / kind, repo / "fixtures" / kind)
    return repo.resolve()


def load_candidates(candidates: Sequence[Candidate], root: Path,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Document], list[Finding]]:
    """Each candidate loaded in this process, as the run's workers load it: (documents that
    loaded, PE-PARSE findings of the rest), both in candidate order."""
    from functools import partial

    from pe_policy.loaders import load_file
    from pe_policy.runner import RunDocuments, RunInput

    inputs = [RunInput(c.path, c.kind, partial(load_file, c.abs_path, c.path, c.kind, root,
                                                max_bytes))
              for c in candidates if c.kind is not None]
    store = RunDocuments(inputs, root, max_bytes)
    documents = [doc for doc in (store.get(n) for n in range(len(inputs))) if doc is not None]
    return documents, [store.unloadable[n] for n in sorted(store.unloadable)]


def evaluate_all(evaluator: Any, documents: Sequence[Document]) -> list[Finding]:
    """Every document's findings, evaluated here in order (no workers, no deadline)."""
    from pe_policy.engine.evaluate import evaluate_each

    return [f for _number, found in evaluate_each(evaluator, documents) for f in found]


def run_documents(evaluator: Any, documents: Sequence[Document], limits: Any = None,
                  lanes: int | None = None) -> list[Finding]:
    """Already-loaded documents through the runner (forked workers when `lanes`)."""
    from pe_policy.runner import Limits, RunInput, run

    inputs = [RunInput(d.path, d.kind, lambda d=d: d) for d in documents]
    return run(evaluator, inputs, root=None, max_bytes=DEFAULT_MAX_BYTES,
               limits=limits or Limits(), lanes=lanes)[1]


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


@pytest.fixture
def opa_url() -> Iterator[str]:
    """A real `opa run --server` on 127.0.0.1 for this test, stopped by its PID after it."""
    from tests.reference_tools import opa_server

    with opa_server() as url:
        yield url
