"""Loading in worker processes gives exactly what loading in this process gives, in the same order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pe_policy.parallel as parallel
from pe_policy.discover import Candidate, discover
from pe_policy.engine.isolation import Limits
from pe_policy.pipeline import check, load_candidates
from pe_policy.reporters import render
from tests.conftest import FIXTURES, many_files_repo

WORKFLOW = """\
name: Build {n}
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make build VERSION={n}
"""


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 workflows (every 7th broken) and every kind's fixtures: enough to use the pool."""
    return many_files_repo(tmp_path_factory.mktemp("parallel"), WORKFLOW, 120, 7,
                           ("pull_request", "scan_report", "coverage", "terraform_plan", "runbook",
                            "deployment_report", "migration", "terraform"))


def _loaded(candidates: list[Candidate], root: Path, workers: int) -> tuple[list, list]:  # type: ignore[type-arg]
    documents, errors = load_candidates(candidates, root, workers=workers)
    docs = [(d.path, d.kind, json.dumps(d.input, sort_keys=True, default=str),
             sorted((list(p), s.line, s.column, s.path) for p, s in d.source_map.spans.items()))
            for d in documents]
    return docs, [e.to_dict() for e in errors]


def test_parallel_load_equals_serial_load(big_repo: Path) -> None:
    candidates, _ = discover([big_repo], big_repo)
    serial = _loaded(candidates, big_repo, workers=0)
    pooled = _loaded(candidates, big_repo, workers=2)
    assert [d[0] for d in pooled[0]] == [d[0] for d in serial[0]]
    assert pooled == serial
    broken = [e["location"]["path"] for e in serial[1] if e["location"]["path"].startswith(".github")]
    assert broken == [f".github/workflows/wf-{n:03d}.yml" for n in range(120) if n % 7 == 3]


def test_check_report_is_identical_with_and_without_the_pool(
        big_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = big_repo.resolve()
    in_process = Limits(timeout=None, memory_mb=None)  # else lanes load the files, not the pool
    monkeypatch.setattr(parallel, "worker_count", lambda candidates, cpus=None, load=None: 2)
    pooled = check([root], root, limits=in_process)
    monkeypatch.setattr(parallel, "worker_count", lambda candidates, cpus=None, load=None: 0)
    serial = check([root], root, limits=in_process)
    for format_ in ("json", "sarif", "text"):
        assert render(format_, pooled) == render(format_, serial)


def test_the_pool_starts_only_when_it_pays(tmp_repo: Path) -> None:
    workflows = tmp_repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for n in range(5):
        (workflows / f"wf-{n}.yml").write_text(WORKFLOW.format(n=n), encoding="utf-8")
    reports = tmp_repo / "deployments"
    reports.mkdir()
    report = (FIXTURES / "deployment_report" / "good").rglob("*.md").__next__().read_text(
        encoding="utf-8")
    for n in range(2):  # markdown parses slowly: two 600 KB reports are seconds of work
        (reports / f"Deploy-PE-{n}.md").write_text(report + "\n" * 1 + "x " * 300_000,
                                                   encoding="utf-8")
    small, _ = discover([workflows], tmp_repo)
    big, _ = discover([reports], tmp_repo)
    assert parallel.estimated_ms(big) > parallel.PARALLEL_MIN_MS > parallel.estimated_ms(small)
    assert parallel.worker_count(small, cpus=8, load=0) == 0  # a pre-commit run stays serial
    assert parallel.worker_count(big, cpus=8, load=0) == 2  # one process per file at most
    assert parallel.worker_count(big, cpus=1, load=0) == 0
    assert parallel.worker_count(big, cpus=2, load=1.8) == 0  # no idle core: serial


def test_a_crashed_worker_does_not_lose_files(big_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies (a parser crash, the OOM killer) breaks the pool; the rest load here."""
    import os

    parent = os.getpid()
    real = parallel.load_one

    def dying(candidate: Candidate, root: Path, max_bytes: int):  # type: ignore[no-untyped-def]
        if os.getpid() != parent and candidate.path.endswith("wf-050.yml"):
            os._exit(70)
        return real(candidate, root, max_bytes)

    monkeypatch.setattr(parallel, "load_one", dying)
    candidates, _ = discover([big_repo], big_repo)
    pooled = _loaded(candidates, big_repo, workers=2)
    monkeypatch.setattr(parallel, "load_one", real)
    assert pooled == _loaded(candidates, big_repo, workers=0)


def test_evaluation_lanes_give_the_serial_findings_in_order(big_repo: Path) -> None:
    """Documents evaluated by three workers side by side: the same findings, the same order."""
    from pe_policy.config import Config
    from pe_policy.engine.evaluate import Evaluator, evaluate_all
    from pe_policy.engine.isolation import Limits, evaluate_documents
    from pe_policy.pipeline import default_ruleset

    root = big_repo.resolve()
    candidates, _ = discover([root], root)
    documents, _ = load_candidates(candidates, root, workers=0)
    ruleset = default_ruleset()

    def run(lanes: int | None) -> list[dict]:  # type: ignore[type-arg]
        evaluator = Evaluator(ruleset, Config().params, repo_root=root)
        if lanes is None:
            findings = evaluate_all(evaluator, documents)
        else:
            findings = evaluate_documents(evaluator, documents, Limits(60, 2048), lanes=lanes)
        return [f.to_dict() for f in findings]

    serial = run(None)
    assert len({f["location"]["path"] for f in serial}) > 50
    assert run(3) == serial
    assert run(1) == serial
