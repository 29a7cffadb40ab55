"""PE-WF-003 and PE-WF-009 judge a repository's pipeline, not each workflow file.

Real repositories split their pipeline: `lint.yml`, `test.yml`, `codeql.yml`, a release
workflow that publishes, reusable workflows called with `uses: ./.github/workflows/...`.
These tests write such repositories (workflows as their projects publish them) and check
that a missing stage or gate is reported once per repository, on the workflow that deploys
or the main CI file, whether the run is given the whole repository, one file (pre-commit),
enough files for several worker lanes, or runs on the real OPA.
"""

from __future__ import annotations

import copy
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.engine.pack import RuleSet, load_ruleset
from pe_policy.pipeline import CheckResult, check
from pe_policy.runner import MIN_DOCUMENTS_PER_LANE

from .conftest import REPO

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
# what a CI workflow runs on (pull requests, pushes to main), with a read-only token
ON_CHANGES = """on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
"""
PROCESS_RULES = {"PE-WF-003", "PE-WF-009"}

LINT = f"""
name: Lint
{ON_CHANGES}  ruff:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: astral-sh/ruff-action@{SHA} # v3
      - run: pipx run mypy src
"""

TESTS = f"""
name: Tests
{ON_CHANGES}  pytest:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12", "3.13"]
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: actions/setup-python@{SHA} # v5
        with:
          python-version: ${{{{ matrix.python }}}}
      - run: pip install -e ".[test]"
      - run: pytest --cov=src --cov-fail-under=85 -q
"""

CODEQL = f"""
name: CodeQL
on:
  push:
    branches: [main]
  pull_request:
  schedule:
    - cron: "27 4 * * 1"
permissions:
  contents: read
jobs:
  analyze:
    runs-on: ubuntu-latest
    permissions:
      security-events: write
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: github/codeql-action/init@{SHA} # v3
        with:
          languages: python
      - uses: github/codeql-action/analyze@{SHA} # v3
"""

RELEASE = f"""
name: Release
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: pipx run build
      - uses: actions/upload-artifact@{SHA} # v4
        with:
          name: dist
          path: dist/
  publish:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: pypi
      url: https://pypi.org/p/example
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@{SHA} # v4
        with:
          name: dist
          path: dist/
      - uses: pypa/gh-action-pypi-publish@{SHA} # v1.12
"""

# a pipeline through reusable workflows: ci.yml calls reusable-a.yml (tests) and
# reusable-b.yml (a scan); their names say nothing of their stages
CALLER = f"""
name: CI
{ON_CHANGES}  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: npm ci && npm run lint
  first:
    uses: ./.github/workflows/reusable-a.yml
  second:
    uses: ./.github/workflows/reusable-b.yml
  build:
    needs: [lint, first, second]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: npm ci && npm run build
"""

CALLED_TESTS = f"""
name: tests (reusable)
on:
  workflow_call:
permissions:
  contents: read
jobs:
  unit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: npm ci
      - run: npx vitest run --coverage --coverage.thresholds.lines=90
"""

CALLED_SCAN = f"""
name: scan (reusable)
on:
  workflow_call:
permissions:
  contents: read
jobs:
  audit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: npm audit --audit-level=high
"""

GO_TESTS = f"""
name: Go
{ON_CHANGES}  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: actions/setup-go@{SHA} # v5
        with:
          go-version-file: go.mod
      - run: go test -race -coverprofile=cover.out ./...
      - run: golangci-lint run
      - run: govulncheck ./...
      - run: go build ./...
"""

GO_GATE = f"""
      - uses: vladopajic/go-test-coverage@{SHA} # v2
        with:
          profile: cover.out
          threshold-total: 80
"""


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset([REPO / "policies" / "workflow"])


def repository(root: Path, workflows: dict[str, str]) -> Path:
    directory = root / ".github" / "workflows"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in workflows.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return directory


def run(paths: list[Path], root: Path, ruleset: RuleSet, **params: Any) -> CheckResult:
    config = Config(params={**copy.deepcopy(DEFAULT_PARAMS), **params})
    return check(paths, root.resolve(), config=config, ruleset=ruleset)


def process_findings(result: CheckResult) -> list[tuple[str, str, int, str]]:
    return sorted((f.rule_id, f.location.path, f.location.line, f.message)
                  for f in result.findings if f.rule_id in PROCESS_RULES | {"PE-RULE-ERROR"})


def test_stages_in_separate_workflows_make_a_complete_pipeline(tmp_repo: Path,
                                                                ruleset: RuleSet) -> None:
    repository(tmp_repo, {"lint.yml": LINT, "tests.yml": TESTS, "codeql.yml": CODEQL,
                          "release.yml": RELEASE})
    assert process_findings(run([tmp_repo], tmp_repo, ruleset)) == []


def test_a_missing_stage_is_reported_once_on_the_workflow_that_deploys(
        tmp_repo: Path, ruleset: RuleSet) -> None:
    repository(tmp_repo, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    [(rule, path, line, message)] = process_findings(run([tmp_repo], tmp_repo, ruleset))
    assert (rule, path) == ("PE-WF-003", ".github/workflows/release.yml")
    assert line == textwrap.dedent(RELEASE).lstrip().splitlines().index("jobs:") + 1
    # release.yml runs on pushes (of tags): part of the pipeline
    assert "no security scan job" in message and "(lint.yml, release.yml, tests.yml)" in message


def test_without_a_deploy_the_main_ci_file_carries_the_finding(tmp_repo: Path,
                                                               ruleset: RuleSet) -> None:
    repository(tmp_repo, {"lint.yml": LINT, "ci.yml": TESTS, "zz-build.yml": RELEASE.replace(
        "environment:\n      name: pypi\n      url: https://pypi.org/p/example\n", "").replace(
        "      - uses: pypa/gh-action-pypi-publish", "      - uses: actions/attest-build-provenance")})
    [(rule, path, _line, _message)] = process_findings(run([tmp_repo], tmp_repo, ruleset))
    assert (rule, path) == ("PE-WF-003", ".github/workflows/ci.yml")


def test_one_file_gets_the_verdict_of_the_whole_repository(tmp_repo: Path,
                                                           ruleset: RuleSet) -> None:
    """A pre-commit run passes only the changed file: the rule still reads the others."""
    directory = repository(tmp_repo, {"lint.yml": LINT, "tests.yml": TESTS,
                                      "release.yml": RELEASE})
    assert process_findings(run([directory / "tests.yml"], tmp_repo, ruleset)) == []
    [(rule, path, _line, _message)] = process_findings(
        run([directory / "release.yml"], tmp_repo, ruleset))
    assert (rule, path) == ("PE-WF-003", ".github/workflows/release.yml")
    repository(tmp_repo, {"codeql.yml": CODEQL})
    assert process_findings(run([directory / "release.yml"], tmp_repo, ruleset)) == []


def test_reusable_workflows_called_by_the_pipeline_belong_to_it(tmp_repo: Path,
                                                                ruleset: RuleSet) -> None:
    repository(tmp_repo, {"ci.yml": CALLER, "reusable-a.yml": CALLED_TESTS,
                          "reusable-b.yml": CALLED_SCAN})
    assert process_findings(run([tmp_repo], tmp_repo, ruleset)) == []
    (tmp_repo / ".github" / "workflows" / "reusable-b.yml").unlink()
    [(rule, path, _line, message)] = process_findings(run([tmp_repo], tmp_repo, ruleset))
    assert (rule, path) == ("PE-WF-003", ".github/workflows/ci.yml")
    assert "no security scan job" in message


def test_a_coverage_gate_anywhere_in_the_pipeline_counts(tmp_repo: Path,
                                                         ruleset: RuleSet) -> None:
    repository(tmp_repo, {"go.yml": GO_TESTS})
    [(rule, path, line, message)] = process_findings(run([tmp_repo], tmp_repo, ruleset))
    go_lines = textwrap.dedent(GO_TESTS).lstrip().splitlines()
    assert (rule, path) == ("PE-WF-009", ".github/workflows/go.yml")
    assert go_lines[line - 1].strip() == "- run: go test -race -coverprofile=cover.out ./..."
    assert "runs go test without enforcing coverage >= 80%" in message
    assert "threshold-total: 80" in message  # the gate that fits go test
    repository(tmp_repo, {"coverage.yml": GO_TESTS.replace("name: Go", "name: Coverage")
                          .replace("golangci-lint run", "echo no lint here") + GO_GATE})
    assert process_findings(run([tmp_repo], tmp_repo, ruleset)) == []


@pytest.mark.parametrize(("command", "runner", "gate"), [
    ("cargo test --all-features", "cargo test", "cargo llvm-cov --fail-under-lines 80"),
    ("dotnet test --no-build", "dotnet test", "/p:Threshold=80"),
    ("./mvnw -B verify", "Maven", "jacoco:check"),
    ("npx jest --ci", "jest", "--coverageThreshold"),
])
def test_the_remediation_names_the_runner_the_job_uses(tmp_repo: Path, ruleset: RuleSet,
                                                       command: str, runner: str,
                                                       gate: str) -> None:
    repository(tmp_repo, {"ci.yml": TESTS.replace("pytest --cov=src --cov-fail-under=85 -q",
                                                  command)})
    [(_rule, _path, _line, message)] = [f for f in process_findings(
        run([tmp_repo], tmp_repo, ruleset)) if f[0] == "PE-WF-009"]
    assert f"runs {runner} without enforcing coverage" in message and gate in message


@pytest.mark.parametrize("gated", [
    "cargo llvm-cov --fail-under-lines 85", "cargo tarpaulin --fail-under 90",
    "dotnet test /p:CollectCoverage=true /p:Threshold=80", "./mvnw -B verify jacoco:check",
    "./gradlew test jacocoTestCoverageVerification",
])
def test_runner_gates_are_recognised(tmp_repo: Path, ruleset: RuleSet, gated: str) -> None:
    repository(tmp_repo, {"ci.yml": TESTS.replace("pytest --cov=src --cov-fail-under=85 -q",
                                                  gated)})
    assert [f for f in process_findings(run([tmp_repo], tmp_repo, ruleset))
            if f[0] == "PE-WF-009"] == []


def test_a_job_that_runs_no_tests_is_not_asked_for_a_gate(tmp_repo: Path,
                                                          ruleset: RuleSet) -> None:
    repository(tmp_repo, {"ci.yml": TESTS.replace("pytest --cov=src --cov-fail-under=85 -q",
                                                  "make test")})
    assert [f for f in process_findings(run([tmp_repo], tmp_repo, ruleset))
            if f[0] == "PE-WF-009"] == []


def test_many_workflows_in_several_lanes_give_one_finding(tmp_repo: Path,
                                                          ruleset: RuleSet) -> None:
    """Enough workflows for several worker lanes: the facts of each come back from its
    worker, and the repository is still judged once."""
    count = 3 * MIN_DOCUMENTS_PER_LANE
    repository(tmp_repo, {f"tests-{n:03}.yml": TESTS.replace("Tests", f"Tests {n}")
                          for n in range(count)} | {"release.yml": RELEASE})
    result = run([tmp_repo], tmp_repo, ruleset)
    assert len(result.checked_paths) == count + 1
    [(rule, path, _line, message)] = process_findings(result)
    assert (rule, path) == ("PE-WF-003", ".github/workflows/release.yml")
    assert "no lint, security scan or build job" not in message  # the release job builds
    assert "no lint or security scan job" in message


def test_conftest_combine_gives_the_same_repository_verdict(tmp_repo: Path) -> None:
    """The rules read conftest's `--combine` input (`[{path, contents}]`) as pe-policy's: a
    conftest user checking `.github/workflows` gets the repository's one finding."""
    import json

    from .reference_tools import run_tool

    directory = repository(tmp_repo, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    (tmp_repo / "params.json").write_text(json.dumps({"pe": {"params": DEFAULT_PARAMS}}),
                                          encoding="utf-8")

    def denied() -> list[str]:
        done = run_tool("conftest", "test", "--combine", "--all-namespaces", "--no-color",
                        "-o", "json", "-p", str(REPO / "policies" / "workflow"),
                        "-d", "params.json", *sorted(p.relative_to(tmp_repo).as_posix()
                                                      for p in directory.iterdir()),
                        cwd=tmp_repo)
        assert done.returncode in (0, 1), done.stderr
        return [failure["msg"] for result in json.loads(done.stdout)
                for failure in result.get("failures") or []
                if failure.get("metadata", {}).get("query", "").startswith(
                    "data.pe.workflow.pipeline_stages")
                or "pipeline" in failure["msg"]]

    [message] = denied()
    assert "no security scan job" in message and "release.yml" in message
    repository(tmp_repo, {"codeql.yml": CODEQL})
    assert denied() == []


@pytest.mark.parametrize("scale", [5, 20, 60])
def test_the_benchmark_corpus_repositories_are_judged_once(tmp_path: Path, ruleset: RuleSet,
                                                          scale: int) -> None:
    """The benchmark's repositories (benchmarks/corpus.py: CI, release, deploy, triage and
    CodeQL workflows side by side) have every stage across their workflows: PE-WF-003 used
    to report 14 findings on 12 files of the 20-file one; now at most one per repository, and
    none where no stage is missing."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus", REPO / "benchmarks" / "corpus.py")
    assert spec is not None and spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    root = corpus.write_repository(tmp_path / "repo", scale)
    names = {p.name.rsplit("-", 1)[0] for p in (root / ".github" / "workflows").iterdir()}
    result = run([root], root, ruleset)
    stage_findings = [f for f in result.findings if f.rule_id == "PE-WF-003"]
    assert len(stage_findings) <= 1
    if {"codeql", "python-ci"} <= names:  # ruff, pytest, CodeQL and `python -m build`
        assert stage_findings == []


SLOW_REPOSITORY_RULE = """
# METADATA
# title: A repository-level rule that runs past any deadline
# custom:
#   id: ORG-REPO-001
#   severity: high
#   kinds: [workflow]
package org.slow_repository

document_facts := {"seen": true}

deny contains {"msg": "every pair checked"} if {
	count(input) > 0
	every i in numbers.range(1, 20000) {
		every j in numbers.range(1, 20000) {
			i + j > 0
		}
	}
}
"""


@pytest.mark.parametrize("count", [1, 3 * MIN_DOCUMENTS_PER_LANE], ids=["one lane", "lanes"])
def test_a_repository_rule_past_the_deadline_is_an_error_the_inputs_still_judged(
        tmp_repo: Path, count: int) -> None:
    """The repositories are judged in a worker with the deadline every document has: the
    worker of a one-lane run once it has answered for every input (no second fork), or one of
    their own after lanes.  A rule still running at the deadline is a PE-RULE-ERROR on the
    repository's input, and every input's own findings are kept."""
    from pe_policy.runner import Limits

    policies = tmp_repo / "org-policies"
    policies.mkdir()
    (policies / "slow_repository.rego").write_text(SLOW_REPOSITORY_RULE, encoding="utf-8")
    unpinned = TESTS.replace(f"actions/setup-python@{SHA}", "actions/setup-python@v5")
    repository(tmp_repo, {f"tests-{n:03}.yml": unpinned for n in range(count)})
    rules = load_ruleset([REPO / "policies" / "workflow", policies])
    started = time.monotonic()
    result = check([tmp_repo], tmp_repo.resolve(), config=Config(), ruleset=rules,
                   limits=Limits(timeout=2, memory_mb=1024))
    assert time.monotonic() - started < 60
    errors = [f for f in result.findings if f.rule_id == "PE-RULE-ERROR"]
    # one task judges the repositories: each of their rules is stopped with it, on every input
    assert sorted((f.location.path, f.properties["failed_rule"]) for f in errors) == [
        (f".github/workflows/tests-{n:03}.yml", rule) for n in range(count)
        for rule in ("ORG-REPO-001", "PE-WF-003", "PE-WF-009")]
    assert all("did not finish within the evaluation deadline of 2 s" in f.message
               for f in errors)
    pinning = {f.location.path for f in result.findings if f.rule_id == "PE-WF-002"}
    assert len(pinning) == count  # each input's own rules ran


def test_a_one_lane_run_judges_the_repositories_in_its_worker(
        tmp_repo: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of one lane forks no second worker for the repositories (`run_each`): its worker
    judges them once it has answered for every input; a run of several lanes forks one.  The
    verdict is the same either way."""
    from pe_policy import runner

    forks: list[int] = []
    real_run_each = runner.run_each
    monkeypatch.setattr(runner, "run_each",
                        lambda count, *a, **k: forks.append(count) or real_run_each(count, *a, **k))
    verdicts = []
    for count in (1, 3 * MIN_DOCUMENTS_PER_LANE):
        repository(tmp_repo, {f"tests-{n:03}.yml": TESTS for n in range(count)}
                   | {"release.yml": RELEASE})
        result = check([tmp_repo], tmp_repo.resolve(), config=Config(), ruleset=ruleset,
                       limits=runner.Limits(timeout=60, memory_mb=2048))
        verdicts.append([(rule, path) for rule, path, _line, _message
                         in process_findings(result)])
    assert forks == [1]  # the several lanes' run only
    assert verdicts == [[("PE-WF-003", ".github/workflows/release.yml")]] * 2
