"""The Markdown report (step summaries, PR comments) and several formats in one run."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from pe_policy.findings import Severity
from pe_policy.reporters import ReportOptions
from pe_policy.reporters.markdown import COMMENT_LIMIT, JOB_SUMMARY_LIMIT, limit_for, render, size
from tests.conftest import FIXTURES, REPO, check_paths, line_of, run_cli
from tests.userland import RUNBOOK, WORKFLOW, append_to_line, copy_repo, write

GITHUB_ENV = {"GITHUB_SERVER_URL": "https://github.example.com",
              "GITHUB_REPOSITORY": "acme/gateway",
              "GITHUB_SHA": "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"}

GOOD_WORKFLOW = """\
name: Docs
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - run: make docs
"""


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    return copy_repo(tmp_repo)


@pytest.fixture(autouse=True)
def no_github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GITHUB_ENV:
        monkeypatch.delenv(name, raising=False)


def markdown(root: Path, *paths: Path) -> str:
    return render(check_paths(list(paths) or [root], root), ReportOptions())


def table_rows(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_all_clear(tmp_repo: Path) -> None:
    write(tmp_repo, ".github/workflows/docs.yml", GOOD_WORKFLOW)
    text = markdown(tmp_repo)
    assert "✅ **All clear**" in text and "1 file checked" in text
    assert "<details" not in text and "| Kind" not in text


def test_summary_table_counts_by_kind_and_severity(repo: Path) -> None:
    result = check_paths([repo], repo)
    text = render(result, ReportOptions())
    rows = table_rows(text, "| Kind |")
    header = [c.strip() for c in text.splitlines()[text.splitlines().index(
        next(line for line in text.splitlines() if line.startswith("| Kind |")))].strip("|")
        .split(" | ")]
    severities = [h.split()[-1] for h in header[1:-1]]
    expected = Counter((f.kind, f.severity.value) for f in result.active)
    by_kind = {row[0].replace("\\_", "_"): row for row in rows if row[0] != "**Total**"}
    assert set(by_kind) == {kind for kind, _ in expected}
    for kind, row in by_kind.items():
        counts = dict(zip(severities, (int(c) for c in row[1:-1]), strict=True))
        assert counts == {s: expected[(kind, s)] for s in severities}
        assert int(row[-1]) == sum(n for (k, _), n in expected.items() if k == kind)
    total = next(row for row in rows if row[0] == "**Total**")
    assert total[-1] == f"**{len(result.active)}**"


ROW = re.compile(r"^\| (?:\[)?<code>(?P<path>[^<]+):(?P<line>\d+)</code>(?:\]\((?P<url>[^)]+)\))? "
                 r"\| `(?P<rule>[^`]+)` \|", re.MULTILINE)
SECTION = re.compile(r"<summary>\S+ <b>(\d+) (\w+) findings?(?: shown of (\d+))?</b></summary>")


def sections(text: str) -> list[tuple[str, list[re.Match[str]]]]:
    """(severity, its rows) in the order the report lists them."""
    out = []
    for match in SECTION.finditer(text):
        body = text[match.end():text.index("</details>", match.end())]
        out.append((match.group(2), list(ROW.finditer(body))))
    return out


def test_findings_worst_first_then_by_file_and_line_with_links(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GITHUB_ENV.items():
        monkeypatch.setenv(name, value)
    result = check_paths([repo], repo)
    text = render(result, ReportOptions())
    for finding in result.active:
        path, line = finding.location.path, finding.location.line
        url = f"{GITHUB_ENV['GITHUB_SERVER_URL']}/acme/gateway/blob/{GITHUB_ENV['GITHUB_SHA']}/{path}#L{line}"
        assert f"[<code>{path}:{line}</code>]({url})" in text
    listed = sections(text)
    severities = [name for name, _ in listed]
    assert severities == [s.value for s in Severity if any(f.severity is s for f in result.active)]
    for name, rows in listed:
        keys = [(m.group("path"), int(m.group("line"))) for m in rows]
        assert keys == sorted(keys), name
        assert Counter(m.group("rule") for m in rows) == Counter(
            f.rule_id for f in result.active if f.severity.value == name)
    assert "<summary>How to fix</summary>" in text


def test_critical_and_high_open_low_and_info_folded(repo: Path) -> None:
    text = markdown(repo)
    for severity, opened in (("critical", True), ("high", True), ("low", False), ("info", False)):
        match = re.search(rf"<details( open)?>\n<summary>\S+ <b>\d+ {severity} finding", text)
        if match:
            assert bool(match.group(1)) is opened, severity


def test_pull_request_findings_link_to_the_pull_request(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GITHUB_ENV.items():
        monkeypatch.setenv(name, value)
    event = FIXTURES / "pull_request" / "bad" / "pull_request.opened.json"
    pr_url = json.loads(event.read_text(encoding="utf-8"))["pull_request"]["html_url"]
    result = run_cli(["check", "--pr", str(event), "--format", "markdown"], cwd=REPO)
    rows = list(ROW.finditer(result.stdout))
    assert rows and {m.group("url") for m in rows} == {pr_url}
    assert "/blob/" not in result.stdout  # never the payload's path on the runner


def test_user_text_cannot_inject_markup(repo: Path) -> None:
    evil = "acme/x@v1 <img src=x onerror=alert(1)> @acme/admins [click](https://evil.example) | ok"
    wf = repo / WORKFLOW
    line = line_of(wf, "actions/checkout@v4")
    text = wf.read_text(encoding="utf-8").replace("actions/checkout@v4", json.dumps(evil), 1)
    wf.write_text(text, encoding="utf-8")
    report = markdown(repo, wf)
    row = next(r for r in report.splitlines() if r.startswith(f"| <code>{WORKFLOW}:{line}</code> |"))
    assert "<img" not in row and "&lt;img" in row
    assert "@acme/admins" not in row and "@\u200bacme/admins" in row
    assert "\\[click\\]" in row and not re.search(r"(?<!\\)\[click", row)  # no live link
    assert len(row.split(" | ")) == 3  # the pipe in the message did not add a column


def test_counts_of_suppressed_waived_and_baselined(repo: Path, tmp_path: Path) -> None:
    append_to_line(repo / RUNBOOK, line_of(repo / RUNBOOK, "Status: PROPOSED"),
                   "<!-- pe-policy: ignore[PE-RB-001] executed under incident INC-7 -->")
    write(repo, ".pe-policy.yaml", "waivers:\n  - rule: PE-TF-002\n    path: infra/*\n"
          "    owner: '@platform-team'\n    reason: bastion retired in PE-91\n"
          "    expires: 2999-01-01\n")
    baseline = tmp_path / "b.json"
    run_cli(["check", str(repo / "db"), "--write-baseline", str(baseline)])
    result = run_cli(["check", str(repo), "--format", "markdown", "--baseline", str(baseline)])
    assert "1 suppressed inline, 1 waived, 1 in the baseline" in result.stdout


def test_stays_under_the_comment_limit_and_counts_what_it_left_out(tmp_repo: Path) -> None:
    steps = "".join(f"      - name: Step {i} with a long descriptive name for the summary 🚀\n"
                    f"        uses: acme-corporation/some-very-long-action-name-{i}@v1\n"
                    for i in range(1200))
    write(tmp_repo, ".github/workflows/big.yml",
          "name: Big\non: push\npermissions:\n  contents: read\njobs:\n  build:\n"
          "    runs-on: ubuntu-latest\n    steps:\n" + steps)
    result = check_paths([tmp_repo], tmp_repo)
    assert len(result.active) >= 1200
    text = render(result, ReportOptions())
    assert COMMENT_LIMIT - 1_000 < size(text) <= COMMENT_LIMIT  # bytes, emoji counted as four
    shown = len(ROW.findall(text))
    match = re.search(r"\*\*(\d+) more findings? not shown\*\* \(([^)]*)\)", text)
    assert match, text[-500:]
    assert int(match.group(1)) == len(result.active) - shown > 0
    not_shown = {sev: int(n) for n, sev in (part.split() for part in match.group(2).split(", "))}
    assert sum(not_shown.values()) == int(match.group(1))
    assert "<summary>How to fix</summary>" in text and "`PE-WF-002`" in text.split("How to fix")[1]


def test_the_limit_follows_the_destination(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert limit_for(ReportOptions(destination=str(summary)), env) == JOB_SUMMARY_LIMIT
    assert limit_for(ReportOptions(destination=str(tmp_path / "comment.md")), env) == COMMENT_LIMIT
    assert limit_for(ReportOptions(), env) == COMMENT_LIMIT
    assert limit_for(ReportOptions(destination=str(summary), markdown_limit=10_000), env) == 10_000


# --- several formats in one run -------------------------------------------------------------


def test_several_formats_in_one_run(repo: Path, tmp_path: Path) -> None:
    sarif, summary = tmp_path / "out.sarif", tmp_path / "reports" / "summary.md"
    result = run_cli(["check", str(repo), "--format", "sarif", "--output", str(sarif),
                      "--format", "markdown", "--output", str(summary), "--format", "json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    findings = payload["findings"]
    assert len(json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]) == len(findings)
    assert summary.read_text(encoding="utf-8").startswith("## pe-policy")
    assert f"**{payload['summary']['findings']} findings**" in summary.read_text(encoding="utf-8")


def test_single_format_and_output_pair_in_either_order(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = run_cli(["check", str(repo), "-o", str(out), "-f", "json"])
    assert result.stdout == "" and json.loads(out.read_text(encoding="utf-8"))["findings"]
    text_only = tmp_path / "r.txt"
    run_cli(["check", str(repo), "--output", str(text_only)])
    assert "Found" in text_only.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "json", "--format", "sarif"], "would all go to standard output"),
    (["--output", "a.json", "--format", "json", "--format", "sarif"], "comes before any --format"),
    (["--format", "json", "--output", "a", "--output", "b", "--format", "text"],
     "follows another --output"),
    (["--format", "json", "--output", "a", "--format", "sarif", "--output", "a"], "overwrite a"),
])
def test_ambiguous_format_pairs_are_usage_errors(repo: Path, args: list[str], message: str) -> None:
    result = run_cli(["check", str(repo), *args])
    assert result.exit_code == 2 and message in result.stderr


def test_other_options_values_are_not_taken_for_formats(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli(["check", "--fail-on", "critical", "--format=json", f"--output={out}",
                      str(repo / WORKFLOW)])
    assert result.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["findings"]
