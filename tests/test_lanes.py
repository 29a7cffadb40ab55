"""Lanes that load their own files (runner.py): the serial run's report, exactly.

A run of many files splits them into slices; each slice's worker loads and evaluates its
files, so loading is shared between cores too.  Nothing a user sees may change: the same
findings, files, errors and reports as loading everything here and evaluating one by one.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import pe_policy.pipeline as pipeline
import pe_policy.runner as runner
from pe_policy.config import Config, resolve_config
from pe_policy.discover import Candidate, discover
from pe_policy.engine.evaluate import Evaluator
from pe_policy.findings import Finding
from pe_policy.loaders import load_file
from pe_policy.pipeline import check, default_ruleset
from pe_policy.reporters import render
from pe_policy.runner import Limits, RunInput
from tests.conftest import evaluate_all, load_candidates, many_files_repo

WORKFLOW = """\
name: Build {n}
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{{{ github.event.pull_request.title }}}}"
"""

SERIAL = Limits(timeout=None, memory_mb=None)  # no isolation: load here, evaluate here


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 workflows (every 9th broken), then every kind's fixtures: two lanes' worth."""
    return many_files_repo(tmp_path_factory.mktemp("lanes"), WORKFLOW, 90, 9,
                           ("deployment_report", "qa_report", "migration", "terraform_plan",
                            "terraform", "runbook", "scan_report", "coverage", "pull_request"))


@pytest.fixture
def no_loading_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if this process loads the files itself: the run must go through the lanes."""
    parent = os.getpid()

    def refuse(*args: object, **kwargs: object) -> object:
        if os.getpid() == parent:
            raise AssertionError("loaded in the parent process")
        return load_file(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load_file", refuse)


def test_the_report_is_the_serial_report_in_every_format(many: Path, no_loading_here: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lanes = check([many], many, config=resolve_config(many))
    monkeypatch.undo()
    serial = check([many], many, config=resolve_config(many), limits=SERIAL)
    assert len(serial.findings) > 200
    assert sum(f.rule_id == "PE-PARSE" for f in serial.findings) >= 10
    assert [(f.path, f.kind, f.text) for f in lanes.files] == [
        (f.path, f.kind, f.text) for f in serial.files]
    for format_ in ("json", "sarif", "text", "junit", "markdown"):
        assert render(format_, lanes) == render(format_, serial), format_


def _serial(candidates: list[Candidate], root: Path) -> list[dict]:  # type: ignore[type-arg]
    documents, errors = load_candidates(candidates, root)
    evaluator = Evaluator(default_ruleset(), Config().params, repo_root=root)
    return [f.to_dict() for f in errors + evaluate_all(evaluator, documents)]


def test_a_cross_document_rule_loads_the_file_it_needs_from_another_slice(many: Path) -> None:
    """One file per lane: a deployment report's QA report and an `up` migration's partner are
    loaded on demand in the worker that needs them."""
    targets = [many / "fixtures" / "deployment_report", many / "fixtures" / "migration"]
    candidates = [c for c in discover(targets, many)[0] if c.kind is not None]
    evaluator = Evaluator(default_ruleset(), Config().params, repo_root=many)
    inputs = [RunInput(c.path, c.kind or "", lambda c=c: load_file(c.abs_path, c.path, c.kind or "",
                                                                   many, 10**8))
              for c in candidates]
    files, findings = runner.run(evaluator, inputs, root=many, max_bytes=10**8,
                                 limits=Limits(60, 2048), lanes=len(candidates))
    found = [f.to_dict() for f in findings]
    assert sorted(found, key=str) == sorted(_serial(candidates, many), key=str)
    qa = [f["message"] for f in found if f["rule_id"] == "PE-DR-002"]
    assert qa and not any("not checked" in m or "unverified" in m for m in qa), qa
    assert {f.path for f in files} == {c.path for c in candidates}


RUNAWAY_ON_ONE = """\
# METADATA
# title: Slow on one file
# custom:
#   id: ACME-090
#   severity: low
#   kinds: [workflow]
package acme.slow

import rego.v1

deny contains "never" if {
	input.name == "Build 41"
	count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) < 0
}
"""


def test_a_runaway_rule_in_a_lane_is_named_and_every_other_file_checked(
        many: Path, tmp_path: Path, no_loading_here: None) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(many / ".github", repo / ".github")
    (repo / ".git").mkdir()
    (repo / "policies").mkdir()
    (repo / "policies" / "slow.rego").write_text(RUNAWAY_ON_ONE, encoding="utf-8")
    (repo / ".pe-policy.yaml").write_text("policies: [policies]\n", encoding="utf-8")
    root = repo.resolve()
    result = check([root], root, config=resolve_config(root), limits=Limits(1.0, 2048))
    errors = [f for f in result.findings if f.rule_id == "PE-RULE-ERROR"]
    assert [f.location.path for f in errors] == [".github/workflows/wf-041.yml"]
    assert "ACME-090" in errors[0].message and "deadline of 1 s" in errors[0].message
    injected = {f.location.path for f in result.findings if f.rule_id == "PE-WF-002"}
    loaded = {f".github/workflows/wf-{n:03d}.yml" for n in range(90) if n % 9 != 4}
    assert injected == loaded  # wf-041 included: only the runaway rule was skipped there


def test_a_worker_that_dies_loading_a_file_loses_only_that_file(
        many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its files loaded before it died, but not yet evaluated, are evaluated by the next worker;
    the file it died on is a PE-PARSE error, and is not loaded again."""
    parent = os.getpid()
    attempts = multiprocessing.get_context("fork").Value("i", 0)

    def dying(abs_path: Path, path: str, *args: object):  # type: ignore[no-untyped-def]
        if os.getpid() != parent and path.endswith("wf-050.yml"):
            attempts.value += 1
            os._exit(70)
        return load_file(abs_path, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load_file", dying)
    workflows = many / ".github" / "workflows"
    result = check([workflows], many)
    assert attempts.value == 1
    dead = ".github/workflows/wf-050.yml"
    errors = [f for f in result.findings if f.location.path == dead]
    assert [f.rule_id for f in errors] == ["PE-PARSE"]
    assert "loading it stopped the evaluation worker (exit status 70)" in errors[0].message
    assert dead not in {f.path for f in result.files}
    monkeypatch.undo()
    serial = check([workflows], many, limits=SERIAL)

    def per_file(findings: list[Finding]) -> list[dict[str, Any]]:
        # PE-WF-003 judges the repository: its message counts the workflows that loaded
        return [{**f.to_dict(), "message": ""} if f.rule_id == "PE-WF-003" else f.to_dict()
                for f in findings if f.location.path != dead]

    assert per_file(result.findings) == per_file(serial.findings)


def test_a_worker_that_fails_before_its_first_document_does_not_loop(
        many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first worker raises before it starts: its first document is given up with the
    reason, a new worker goes on with the rest, and the run ends."""
    real = runner._Work.messages
    failed = multiprocessing.get_context("fork").Value("i", 0)

    def fails_once(self, evaluator, numbers, watch, **options):  # type: ignore[no-untyped-def]
        if numbers[0] == 0 and not failed.value:
            failed.value = 1
            raise RuntimeError("broken before the first document")
        return real(self, evaluator, numbers, watch, **options)

    monkeypatch.setattr(runner._Work, "messages", fails_once)
    workflows = many / ".github" / "workflows"
    result = check([workflows], many)
    errors = [f for f in result.findings if f.rule_id == "PE-RULE-ERROR"]
    assert [f.location.path for f in errors] == [".github/workflows/wf-000.yml"]
    assert "rule (all rules) (pe-policy) failed on this document: RuntimeError: broken before " \
        "the first document" in errors[0].message
    assert {f.location.path for f in result.findings if f.rule_id == "PE-WF-002"} == {
        f".github/workflows/wf-{n:03d}.yml" for n in range(1, 90) if n % 9 != 4}
