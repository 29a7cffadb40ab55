"""Reports on a big run lead with the worst: 300 workflows with findings of every severity.

On such a run the Markdown report must be cut, GitHub shows only 30 annotations of a
step, and code scanning merges results that share a fingerprint.  These tests check what a
reader of each sees: every critical, counts that add up, the most severe annotations, one
alert per finding.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from pe_policy.findings import Finding, Severity
from pe_policy.pipeline import CheckResult
from pe_policy.reporters import ReportOptions, render
from pe_policy.reporters.github import SHOWN_PER_LEVEL
from pe_policy.reporters.markdown import COMMENT_LIMIT, JOB_SUMMARY_LIMIT, size
from tests.conftest import run_cli
from tests.test_markdown_report import ROW, SECTION, sections, table_rows
from tests.test_sarif import assert_github_ready, assert_multitool_clean
from tests.test_sarif import validator as validator  # the fixture
from tests.userland import write

WORKFLOWS = 300
# The run's severities: the config turns two high rules down, so one repository of workflows
# has all five (PE-WF-001 low, PE-WF-003 info); the rest are the rules' own.
CONFIG = "rules:\n  severity: {PE-WF-001: low, PE-WF-003: info}\n"


def workflow(number: int) -> str:
    """A service's CI: unpinned checkout (high), a weak coverage gate (medium), write-all
    (low here), no lint/security stages (info here), and on every other one the PR title
    expanded into a script (critical)."""
    injection = ('      - run: echo "Testing ${{ github.event.pull_request.title }}"\n'
                 if number % 2 == 0 else "")
    return (f"name: Service {number}\non:\n  pull_request:\npermissions: write-all\njobs:\n"
            "  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n" + injection +
            "      - run: pytest --cov=src --cov-fail-under=60  # 🚀 fast\n")


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, ".pe-policy.yaml", CONFIG)
    for number in range(WORKFLOWS):
        write(root, f".github/workflows/service-{number:03d}.yml", workflow(number))
    return root


@pytest.fixture(scope="module")
def big_result(big_repo: Path) -> CheckResult:
    from pe_policy.config import load_config
    from pe_policy.pipeline import check

    config = load_config(big_repo / ".pe-policy.yaml", big_repo)
    result = check([big_repo], big_repo.resolve(), config=config)
    assert len(result.checked_paths) == WORKFLOWS
    by_severity = Counter(f.severity for f in result.active)
    assert set(by_severity) == set(Severity), by_severity  # every severity
    assert by_severity[Severity.CRITICAL] == WORKFLOWS // 2
    return result


def _key(finding: Finding) -> tuple[str, int, str]:
    return (finding.location.path, finding.location.line, finding.rule_id)


def test_markdown_fits_a_comment_and_shows_every_critical(big_result: CheckResult) -> None:
    text = render("markdown", big_result, ReportOptions())
    assert size(text) <= COMMENT_LIMIT
    assert len(text) < size(text)  # multi-byte characters (emoji) were counted as bytes
    active = big_result.active
    totals = Counter(f.severity.value for f in active)

    # the summary table counts every finding, shown or not
    rows = table_rows(text, "| Kind |")
    header = next(line for line in text.splitlines() if line.startswith("| Kind |"))
    columns = [cell.split()[-1] for cell in header.strip("|").split(" | ")[1:-1]]
    workflow_row = next(row for row in rows if row[0] == "workflow")
    assert dict(zip(columns, map(int, workflow_row[1:-1]), strict=True)) == totals
    assert int(workflow_row[-1]) == len(active)

    # worst first, cut from the bottom: every critical is listed, the sections that are
    # listed come in order, and each header counts exactly the rows under it
    listed = sections(text)
    order = [s.value for s in Severity]
    assert [name for name, _ in listed] == order[:len(listed)]
    shown = {name: rows for name, rows in listed}
    criticals = {_key(f) for f in active if f.severity is Severity.CRITICAL}
    assert {(m.group("path"), int(m.group("line")), m.group("rule"))
            for m in shown["critical"]} == criticals
    for match in SECTION.finditer(text):
        count, name, of = int(match.group(1)), match.group(2), match.group(3)
        assert count == len(shown[name])
        assert int(of or count) == totals[name]

    # what is not shown is counted, per severity, and adds up
    note = re.search(r"\*\*(\d+) more findings? not shown\*\* \(([^)]*)\)", text)
    assert note, "a 300-workflow report does not fit a comment: it says what it left out"
    not_shown = {sev: int(n) for n, sev in (part.split() for part in note.group(2).split(", "))}
    for name in order:
        assert not_shown.get(name, 0) == totals[name] - len(shown.get(name, [])), name
    assert int(note.group(1)) == len(active) - sum(len(r) for r in shown.values())
    assert not_shown.get("critical", 0) == 0

    # "How to fix" names every rule shown, and only those
    fix = text[text.index("<summary>How to fix</summary>"):]
    explained = set(re.findall(r"^- \*\*`([^`]+)`\*\*", fix, re.MULTILINE))
    assert explained == {m.group("rule") for rows in shown.values() for m in rows}


def test_markdown_in_the_job_summary_gets_a_mebibyte(big_result: CheckResult, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = render("markdown", big_result, ReportOptions(destination=str(summary)))
    assert COMMENT_LIMIT < size(text) <= JOB_SUMMARY_LIMIT
    assert len(ROW.findall(text)) == len(big_result.active)  # all of it fits
    assert "not shown" not in text


def test_markdown_limit_option_cuts_the_report(big_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    result = run_cli(["check", str(big_repo), "--format", "markdown", "--output", str(out),
                      "--markdown-limit", "20000", "--format", "sarif",
                      "--output", str(tmp_path / "all.sarif")])
    assert result.exit_code == 1, result.stderr
    text = out.read_text(encoding="utf-8")
    assert size(text) <= 20_000
    assert f"All of them are in the SARIF file {tmp_path / 'all.sarif'}" in text


def test_annotations_worst_first_and_the_rest_counted(big_result: CheckResult,
                                                     tmp_path: Path) -> None:
    sarif = str(tmp_path / "pe-policy.sarif")
    options = ReportOptions(reports=(("github", None), ("sarif", sarif)))
    lines = render("github", big_result, options).splitlines()
    *annotations, last = lines
    levels = Counter(line.split(" ", 1)[0] for line in annotations)
    assert all(count <= SHOWN_PER_LEVEL for count in levels.values())
    assert levels["::notice"] <= SHOWN_PER_LEVEL - 1  # room for the last one
    ranks = [Severity(re.search(r"::\[(\w+)\] ", line).group(1)).rank  # type: ignore[union-attr]
             for line in annotations]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == Severity.CRITICAL.rank
    match = re.fullmatch(r"::notice title=pe-policy::(\d+) more findings not shown as annotations "
                         r"\(([^)]*)\): .*the full report is in the SARIF file (\S+) .*", last)
    assert match, last
    assert int(match.group(1)) == len(big_result.active) - len(annotations)
    assert match.group(3) == sarif


def test_few_annotations_are_all_shown_without_a_note(big_result: CheckResult) -> None:
    few = CheckResult(findings=[f for f in big_result.findings
                                if f.location.path.endswith("service-000.yml")],
                      catalog=big_result.catalog, root=big_result.root)
    lines = render("github", few, ReportOptions()).splitlines()
    assert len(lines) == len(few.active) and "more finding" not in lines[-1]


def test_sarif_fingerprints_unique_and_valid(big_result: CheckResult, tmp_path: Path,
                                              validator: Draft4Validator) -> None:
    sarif = json.loads(render("sarif", big_result, ReportOptions(tool_version="0.1.0")))
    assert not sorted(validator.iter_errors(sarif), key=str)
    assert_github_ready(sarif)  # includes: no two results share a fingerprint
    results = sarif["runs"][0]["results"]
    assert len(results) == len(big_result.findings)
    assert len({r["partialFingerprints"]["peFingerprint/v2"] for r in results}) == len(results)
    assert_multitool_clean(sarif, tmp_path)


def test_sarif_cut_is_said_on_stderr_and_in_markdown(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Over GitHub's 25,000 results per run (lowered here, so the test stays quick)."""
    from pe_policy.reporters import sarif

    monkeypatch.setattr(sarif, "MAX_RESULTS_PER_RUN", 3)
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    for number in range(2):
        write(root, f".github/workflows/w{number}.yml", workflow(number))
    summary = tmp_path / "summary.md"
    result = run_cli(["check", str(root), "--format", "sarif", "--output", str(tmp_path / "o.sarif"),
                      "--format", "markdown", "--output", str(summary)])
    total = len(json.loads(run_cli(["check", str(root), "-f", "json"]).stdout)["findings"])
    assert total > 3
    assert (f"the SARIF report {tmp_path / 'o.sarif'} leaves out the {total - 3} least severe of "
            f"{total} results") in result.stderr
    assert f"**The SARIF report leaves out {total - 3} results**" in summary.read_text(encoding="utf-8")
    assert len(json.loads((tmp_path / "o.sarif").read_text())["runs"][0]["results"]) == 3


def test_text_summary_counts_files_checked_and_files_with_findings(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, ".github/workflows/bad.yml", workflow(0))
    clean = ("name: Docs\non: push\npermissions:\n  contents: read\njobs:\n  docs:\n"
             "    runs-on: ubuntu-latest\n    steps:\n      - run: make docs\n")
    write(root, ".github/workflows/docs.yml", clean)
    write(root, ".github/workflows/more-docs.yml", clean)
    result = run_cli(["check", str(root)])
    found = len(json.loads(run_cli(["check", str(root), "-f", "json"]).stdout)["findings"])
    assert re.search(rf"^Found {found} findings \([^)]*\) in 1 file; 3 files checked\.$",
                     result.stdout, re.MULTILINE), result.stdout[-300:]
