"""The facts of a repository's other workflows, kept between runs (engine/facts_cache.py).

A pre-commit run passes one changed workflow; PE-WF-003/009 still judge the whole pipeline
with the repository's other workflows.  Their facts are kept in the user cache, so the next
run reads them instead of loading and evaluating each file again.  These tests run the real
pipeline (forked workers, the real regorus) on repositories written like the projects that
publish them (tests/test_workflow_repository.py), and check that the kept facts give the
verdict a run without any cache gives, whatever changed in between: another workflow's text,
the rules' parameters, a file that went away, a cache file someone else could write.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pe_policy.cache_dir import CACHE_ENV
from pe_policy.engine.pack import RuleSet, load_ruleset
from pe_policy.pipeline import CheckResult
from pe_policy.runner import Limits, RunDocuments

from .conftest import REPO
from .test_workflow_repository import CODEQL, LINT, RELEASE, TESTS, process_findings, repository, run

ALL_STAGES = {"lint.yml": LINT, "tests.yml": TESTS, "codeql.yml": CODEQL, "release.yml": RELEASE}


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset([REPO / "policies" / "workflow"])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(directory))
    return directory


def kept(cache: Path) -> dict[str, Any]:
    """The entries of the one facts file of the cache, by path."""
    [file] = (cache / "facts").iterdir()
    entries = json.loads(file.read_text("utf-8"))
    assert isinstance(entries, dict)
    return entries


def uncached(paths: list[Path], root: Path, ruleset: RuleSet,
             monkeypatch: pytest.MonkeyPatch, **params: Any) -> CheckResult:
    with monkeypatch.context() as patch:
        patch.setenv(CACHE_ENV, "")
        return run(paths, root, ruleset, **params)


def test_the_other_workflows_facts_are_kept_and_read_back(
        tmp_path: Path, cache: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    first = run([directory / "release.yml"], root, ruleset)
    [(rule, path, _line, message)] = process_findings(first)
    assert (rule, path) == ("PE-WF-003", ".github/workflows/release.yml")
    assert "no security scan job" in message
    # the two files the run did not check, each with the digest of its text and its facts
    entries = kept(cache)
    assert sorted(entries) == [".github/workflows/lint.yml", ".github/workflows/tests.yml"]
    assert all(set(facts) == {"pe.workflow.pipeline_stages", "pe.workflow.coverage_threshold"}
               for _digest, facts in entries.values())

    # the next run reads them: not one of them is loaded again (in this process, to count)
    loaded: list[str] = []
    real = RunDocuments.load_other

    def counting(self: RunDocuments, path: str, *args: Any) -> Any:
        loaded.append(path)
        return real(self, path, *args)

    monkeypatch.setattr(RunDocuments, "load_other", counting)
    from pe_policy.config import DEFAULT_PARAMS, Config
    from pe_policy.pipeline import check

    second = check([directory / "release.yml"], root.resolve(), ruleset=ruleset,
                   config=Config(params=dict(DEFAULT_PARAMS)),
                   limits=Limits(timeout=None, memory_mb=None))
    assert loaded == []
    assert process_findings(second) == process_findings(first) == process_findings(
        uncached([directory / "release.yml"], root, ruleset, monkeypatch))


def test_a_workflow_whose_text_changed_is_judged_anew(
        tmp_path: Path, cache: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    directory = repository(root, ALL_STAGES)
    assert process_findings(run([directory / "release.yml"], root, ruleset)) == []
    # the scan goes from codeql.yml (not an input of the run): the pipeline misses a stage
    repository(root, {"codeql.yml": CODEQL.replace("security-events: write", "contents: read")
                      .replace("github/codeql-action/init", "actions/setup-node")
                      .replace("github/codeql-action/analyze", "actions/cache")})
    after = run([directory / "release.yml"], root, ruleset)
    [(rule, _path, _line, message)] = process_findings(after)
    assert rule == "PE-WF-003" and "no security scan job" in message
    assert process_findings(after) == process_findings(
        uncached([directory / "release.yml"], root, ruleset, monkeypatch))


def test_other_parameters_or_rules_do_not_read_these_facts(
        tmp_path: Path, cache: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The facts hold what the rules' data decides (a gate below the coverage threshold, with
    its finding): a run with another threshold, or other rules, has a cache file of its own."""
    root = tmp_path / "repo"
    directory = repository(root, ALL_STAGES)  # tests.yml gates at 85
    assert process_findings(run([directory / "release.yml"], root, ruleset)) == []
    [(_digest, facts)] = [entry for path, entry in kept(cache).items() if "tests" in path]
    assert facts["pe.workflow.coverage_threshold"]["low"] == []
    stricter = run([directory / "release.yml"], root, ruleset, coverage_threshold=90)
    assert process_findings(stricter) == process_findings(
        uncached([directory / "release.yml"], root, ruleset, monkeypatch, coverage_threshold=90))
    files = list((cache / "facts").iterdir())
    assert len(files) == 2
    low = [facts["pe.workflow.coverage_threshold"]["low"]  # the gate at 85 is low at 90
           for file in files for path, (_digest, facts) in json.loads(file.read_text()).items()
           if "tests" in path]
    assert sorted(len(gates) for gates in low) == [0, 1]
    fewer = load_ruleset([REPO / "policies" / "workflow"])
    fewer = type(fewer)(catalog=fewer.catalog, python_rules=fewer.python_rules,
                        rego_modules=[m for m in fewer.rego_modules
                                      if "coverage_threshold" not in m.path])
    run([directory / "release.yml"], root, fewer)
    assert len(list((cache / "facts").iterdir())) == 3


def test_a_workflow_that_went_away_leaves_the_cache(
        tmp_path: Path, cache: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    directory = repository(root, ALL_STAGES)
    run([directory / "release.yml"], root, ruleset)
    assert len(kept(cache)) == 3
    (directory / "codeql.yml").unlink()
    after = run([directory / "release.yml"], root, ruleset)
    assert sorted(kept(cache)) == [".github/workflows/lint.yml", ".github/workflows/tests.yml"]
    [(rule, _path, _line, message)] = process_findings(after)
    assert rule == "PE-WF-003" and "no security scan job" in message


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no file ownership on this platform")
def test_a_cache_file_others_may_write_is_not_read(
        tmp_path: Path, cache: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone who could write the facts could hide a missing stage: such a file is ignored."""
    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    run([directory / "release.yml"], root, ruleset)
    [file] = (cache / "facts").iterdir()
    entries = json.loads(file.read_text("utf-8"))
    for _digest, facts in entries.values():  # every stage, as if lint.yml also scanned
        facts["pe.workflow.pipeline_stages"]["stages"] = ["build", "deploy", "lint",
                                                          "security", "test"]
    file.write_text(json.dumps(entries), "utf-8")
    file.chmod(0o666)
    [(rule, _path, _line, message)] = process_findings(
        run([directory / "release.yml"], root, ruleset))
    assert rule == "PE-WF-003" and "no security scan job" in message


def test_a_forged_entry_in_our_own_file_needs_the_files_text(
        tmp_path: Path, cache: Path, ruleset: RuleSet) -> None:
    """An entry answers only for the text it was worked out from: edit lint.yml and the
    forged facts kept for its old text are not read."""
    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    run([directory / "release.yml"], root, ruleset)
    [file] = (cache / "facts").iterdir()
    entries = json.loads(file.read_text("utf-8"))
    entries[".github/workflows/lint.yml"][1]["pe.workflow.pipeline_stages"]["stages"] = [
        "lint", "security"]
    file.write_text(json.dumps(entries), "utf-8")
    # read back as it is (our own file, this text): the forged scan stage counts ...
    assert process_findings(run([directory / "release.yml"], root, ruleset)) == []
    # ... until lint.yml changes
    repository(root, {"lint.yml": LINT + "      - run: pipx run ruff format --check\n"})
    [(rule, _path, _line, message)] = process_findings(
        run([directory / "release.yml"], root, ruleset))
    assert rule == "PE-WF-003" and "no security scan job" in message


def test_no_cache_directory_keeps_nothing(tmp_path: Path, ruleset: RuleSet,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    [(rule, *_)] = process_findings(run([directory / "release.yml"], root, ruleset))
    assert rule == "PE-WF-003"
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()


def test_files_of_a_former_set_up_go_after_a_month(
        tmp_path: Path, cache: Path, ruleset: RuleSet) -> None:
    """An upgrade or an edited policy starts a new file: the old one, never read again, goes
    when a new file is written once it is a month old (one in use is rewritten when its
    files change, and otherwise only costs one more evaluation of each)."""
    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "tests.yml": TESTS, "release.yml": RELEASE})
    run([directory / "release.yml"], root, ruleset)
    [old] = (cache / "facts").iterdir()
    month_ago = old.stat().st_mtime - 31 * 24 * 3600
    os.utime(old, (month_ago, month_ago))
    recent = cache / "facts" / ("0" * 40 + ".json")  # another set-up's, written last week
    recent.write_text("{}", "utf-8")
    os.utime(recent, (month_ago + 24 * 24 * 3600,) * 2)
    run([directory / "release.yml"], root, ruleset, coverage_threshold=90)  # a new set-up
    assert old.exists() is False and recent.exists()
    assert len(list((cache / "facts").iterdir())) == 2


def test_the_key_covers_the_parsers_a_run_has_loaded(
        tmp_path: Path, cache: Path, ruleset: RuleSet) -> None:
    """An upgrade of PyYAML, tree-sitter, pydantic-core or regorus starts new facts: each is
    in the key by its compiled module, which a run has loaded by the time it reads the cache
    (a name that no longer exists would leave it out of the key unnoticed)."""
    import sys

    from pe_policy.config import DEFAULT_PARAMS, Config
    from pe_policy.engine.facts_cache import PARSING_MODULES
    from pe_policy.pipeline import check

    root = tmp_path / "repo"
    directory = repository(root, {"lint.yml": LINT, "release.yml": RELEASE})
    check([directory / "release.yml"], root.resolve(), ruleset=ruleset,
          config=Config(params=dict(DEFAULT_PARAMS)), limits=Limits(timeout=None, memory_mb=None))
    assert all(getattr(sys.modules.get(name), "__file__", None) for name in PARSING_MODULES)
