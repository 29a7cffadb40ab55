"""Loading in the runner's worker processes gives exactly what loading in this process gives,
in the same order (there is one mechanism: runner.py; no separate loading pool)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import pe_policy.pipeline as pipeline
from pe_policy.discover import Candidate, discover
from pe_policy.loaders import load_file
from pe_policy.pipeline import check
from pe_policy.reporters import render
from pe_policy.runner import Limits, estimated_ms, lane_count
from tests.conftest import FIXTURES, load_candidates, many_files_repo, run_documents

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


def _loaded(candidates: list[Candidate], root: Path) -> tuple[list, list]:  # type: ignore[type-arg]
    documents, errors = load_candidates(candidates, root)
    docs = [(d.path, d.kind, json.dumps(d.input, sort_keys=True, default=str),
             sorted((list(p), s.line, s.column, s.path) for p, s in d.source_map.spans.items()))
            for d in documents]
    return docs, [e.to_dict() for e in errors]


def test_loading_in_lanes_equals_loading_here(big_repo: Path) -> None:
    root = big_repo.resolve()
    candidates, _ = discover([root], root)
    serial = _loaded(candidates, root)
    broken = [e["location"]["path"] for e in serial[1] if e["location"]["path"].startswith(".github")]
    assert broken == [f".github/workflows/wf-{n:03d}.yml" for n in range(120) if n % 7 == 3]
    in_process = check([root], root, limits=Limits(timeout=None, memory_mb=None))
    in_lanes = check([root], root)
    assert [(f.path, f.kind, f.text) for f in in_lanes.files] == [
        (f.path, f.kind, f.text) for f in in_process.files]
    assert len(in_lanes.files) == len(serial[0])


def test_check_report_is_identical_in_process_and_in_lanes(big_repo: Path) -> None:
    root = big_repo.resolve()
    in_lanes = check([root], root)
    in_process = check([root], root, limits=Limits(timeout=None, memory_mb=None))
    for format_ in ("json", "sarif", "text"):
        assert render(format_, in_lanes) == render(format_, in_process)


def test_a_second_lane_starts_only_when_it_pays(tmp_repo: Path) -> None:
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

    def cost(candidates: list[Candidate]) -> float:
        return estimated_ms([(c.abs_path.stat().st_size, c.kind or "") for c in candidates])

    assert lane_count(len(small), cpus=8, load_ms=cost(small)) == 1  # a pre-commit run: one
    assert lane_count(len(big), cpus=8, load_ms=cost(big)) == 2  # one process per file at most
    assert lane_count(len(big), cpus=1, load_ms=cost(big)) == 1


def test_a_crashed_worker_does_not_lose_files(big_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies loading a file (a parser crash, the OOM killer) loses that file
    alone: the next worker loads the rest."""
    parent = os.getpid()
    root = big_repo.resolve()

    def dying(abs_path: Path, path: str, *args: object):  # type: ignore[no-untyped-def]
        if os.getpid() != parent and path.endswith("wf-050.yml"):
            os._exit(70)
        return load_file(abs_path, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load_file", dying)
    in_lanes = check([root], root)
    monkeypatch.undo()
    in_process = check([root], root, limits=Limits(timeout=None, memory_mb=None))
    dead = ".github/workflows/wf-050.yml"
    assert [f.path for f in in_lanes.files] == [f.path for f in in_process.files if f.path != dead]


def test_evaluation_lanes_give_the_serial_findings_in_order(big_repo: Path) -> None:
    """Documents evaluated by three workers side by side: the same findings, the same order."""
    from pe_policy.config import Config
    from pe_policy.engine.evaluate import Evaluator
    from pe_policy.pipeline import default_ruleset

    root = big_repo.resolve()
    candidates, _ = discover([root], root)
    documents, _ = load_candidates(candidates, root)
    ruleset = default_ruleset()

    def run(lanes: int | None) -> list[dict]:  # type: ignore[type-arg]
        evaluator = Evaluator(ruleset, Config().params, repo_root=root)
        # lanes=0: every document in this process, one after the other (repository-level
        # rules, PE-WF-003 and PE-WF-009, only give findings through the runner)
        findings = run_documents(evaluator, documents, Limits(60, 2048),
                                 lanes=0 if lanes is None else lanes)
        return [f.to_dict() for f in findings]

    serial = run(None)
    assert len({f["location"]["path"] for f in serial}) > 50
    assert run(3) == serial
    assert run(1) == serial
