"""End to end through the real CLI: exit codes, formats, bad input, SARIF validity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, line_of, run_cli

BAD_WORKFLOW = """\
name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Greet
        run: |
          echo "start"
          echo "${{ github.event.pull_request.title }}"
"""

GOOD_WORKFLOW = """\
name: Nightly tests
on: workflow_dispatch
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - run: make test
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    write(tmp_repo, ".github/workflows/bad.yml", BAD_WORKFLOW)
    write(tmp_repo, ".github/workflows/good.yml", GOOD_WORKFLOW)
    return tmp_repo


def test_findings_point_at_the_offending_lines(repo: Path) -> None:
    result = run_cli(["check", str(repo), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    bad = repo / ".github/workflows/bad.yml"
    first_rules = {"PE-WF-001", "PE-WF-002", "PE-WF-006"}
    got = {(f["rule_id"], f["location"]["path"], f["location"]["line"]) for f in findings
           if f["rule_id"] in first_rules}
    rel = ".github/workflows/bad.yml"
    assert got == {
        ("PE-WF-001", rel, line_of(bad, "  test:")),
        ("PE-WF-002", rel, line_of(bad, "actions/checkout@v4")),
        ("PE-WF-006", rel, line_of(bad, "pull_request.title")),
    }


def test_clean_repository_exits_zero(tmp_repo: Path) -> None:
    write(tmp_repo, ".github/workflows/good.yml", GOOD_WORKFLOW)
    result = run_cli(["check", str(tmp_repo)])
    assert result.exit_code == 0, result.stdout
    assert "All clear" in result.stdout


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("high", 1), ("info", 1)])
def test_fail_on_threshold(repo: Path, fail_on: str, code: int) -> None:
    assert run_cli(["check", str(repo), "--fail-on", fail_on]).exit_code == code


def test_fail_on_above_every_finding_exits_zero(tmp_repo: Path) -> None:
    # Only PE-WF-002 (high) here: --fail-on critical must pass.
    text = GOOD_WORKFLOW.replace("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "actions/checkout@v4")
    write(tmp_repo, ".github/workflows/ci.yml", text)
    assert run_cli(["check", str(tmp_repo), "--fail-on", "critical"]).exit_code == 0
    assert run_cli(["check", str(tmp_repo), "--fail-on", "high"]).exit_code == 1


def test_text_output_has_a_code_frame_and_no_colour_when_not_a_tty(repo: Path) -> None:
    out = run_cli(["check", str(repo)]).stdout
    assert "\033[" not in out
    assert ".github/workflows/bad.yml:7:9: PE-WF-002 [high]" in out
    assert "7 |       - uses: actions/checkout@v4" in out
    assert "^^^^" in out


def test_malformed_yaml_is_a_parse_finding_and_other_files_still_checked(repo: Path) -> None:
    broken = write(repo, ".github/workflows/broken.yml", "on: push\njobs:\n  a: [1, 2\n  b: 3\n")
    result = run_cli(["check", str(repo), "--format", "json"])
    assert result.exit_code == 2
    findings = json.loads(result.stdout)["findings"]
    parse = [f for f in findings if f["rule_id"] == "PE-PARSE"]
    assert len(parse) == 1
    assert parse[0]["location"]["path"] == ".github/workflows/broken.yml"
    assert parse[0]["location"]["line"] == line_of(broken, "b: 3")
    assert "invalid YAML" in parse[0]["message"]
    assert any(f["rule_id"] == "PE-WF-002" for f in findings)  # bad.yml still checked
    assert "Traceback" not in result.stdout + result.stderr


def test_wrong_shape_is_reported_at_the_key(tmp_repo: Path) -> None:
    wf = write(tmp_repo, ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps: run tests\n")
    result = run_cli(["check", str(tmp_repo), "--format", "json"])
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["rule_id"] == "PE-PARSE"
    assert finding["location"]["line"] == line_of(wf, "steps:")
    assert "jobs.a.steps" in finding["message"]


def test_binary_and_invalid_utf8_files(tmp_repo: Path) -> None:
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    (tmp_repo / ".github/workflows/bin.yml").write_bytes(b"on: push\n\x00\x01\x02")
    (tmp_repo / ".github/workflows/latin.yml").write_bytes(b"name: caf\xe9\non: push\n")
    result = run_cli(["check", str(tmp_repo), "--format", "json"])
    assert result.exit_code == 2
    messages = {f["location"]["path"]: f["message"] for f in json.loads(result.stdout)["findings"]}
    assert "binary" in messages[".github/workflows/bin.yml"]
    assert "UTF-8" in messages[".github/workflows/latin.yml"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    missing = run_cli(["check", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "no such file or directory" in missing.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(["check", str(empty)])
    assert result.exit_code == 2
    assert "no files pe-policy knows how to check" in result.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(repo: Path) -> None:
    target = repo / ".github/workflows/bad.yml"
    target.chmod(0)
    try:
        result = run_cli(["check", str(repo), "--format", "json"])
    finally:
        target.chmod(0o644)
    assert result.exit_code == 2
    assert "permission denied" in result.stdout


def test_unknown_kind_is_a_usage_error(repo: Path) -> None:
    result = run_cli(["check", str(repo), "--kind", "nonsense"])
    assert result.exit_code == 2
    assert "unknown kind" in result.stderr


def test_output_file_is_written(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli(["check", str(repo), "--format", "json", "--output", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    written = json.loads(out.read_text())
    printed = json.loads(run_cli(["check", str(repo), "--format", "json"]).stdout)
    assert written["findings"] == printed["findings"]
    assert written["summary"]["findings"] >= 3


def test_parse_prints_the_model_input(repo: Path) -> None:
    result = run_cli(["parse", str(repo / ".github/workflows/bad.yml"), "--positions"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["kind"] == "workflow"
    assert payload["input"]["jobs"]["test"]["steps"][0]["uses"] == "actions/checkout@v4"
    lines = {tuple(p["path"]): p["line"] for p in payload["positions"]}
    assert lines[("jobs", "test", "steps", 0, "uses")] == 7


def test_parse_errors_are_usage_errors_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, "x.yml", "a: [\n")
    result = run_cli(["parse", str(bad), "--kind", "generic"])
    assert result.exit_code == 2
    assert "x.yml:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_lists_the_pack() -> None:
    result = run_cli(["rules", "--format", "json"])
    rules = {r["id"]: r for r in json.loads(result.stdout)}
    for rule_id in ("PE-WF-001", "PE-WF-002", "PE-WF-006"):
        assert rules[rule_id]["title"]
    assert rules["PE-WF-002"]["engine"] == "rego"
    assert rules["PE-WF-001"]["engine"] == "rego"  # the whole workflow pack is Rego
    assert rules["PE-MG-001"]["engine"] == "python"


def test_explain() -> None:
    result = run_cli(["explain", "pe-wf-002"])
    assert result.exit_code == 0
    assert "How to fix" in result.stdout
    assert run_cli(["explain", "PE-NOPE-1"]).exit_code == 2


def test_demo_repository_has_findings() -> None:
    result = run_cli(["check", str(FIXTURES / "demo")])
    assert result.exit_code == 1
    assert "PE-WF-002" in result.stdout
