"""The Markdown report (step summaries, PR comments) and several formats in one run."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from pe_policy.reporters import ReportOptions
from pe_policy.reporters.markdown import MAX_CHARS, render, size
from tests.conftest import check_paths, line_of, run_cli
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


def test_findings_grouped_by_file_with_links(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GITHUB_ENV.items():
        monkeypatch.setenv(name, value)
    result = check_paths([repo], repo)
    text = render(result, ReportOptions())
    for finding in result.active:
        path, line = finding.location.path, finding.location.line
        url = f"{GITHUB_ENV['GITHUB_SERVER_URL']}/acme/gateway/blob/{GITHUB_ENV['GITHUB_SHA']}/{path}#L{line}"
        assert f"| [{line}]({url}) |" in text
    sections = re.findall(r"<summary>\S+ <code>([^<]+)</code>: (\d+) findings?</summary>", text)
    assert sections == sorted(sections)
    assert dict((p, int(n)) for p, n in sections) == Counter(f.location.path for f in result.active)
    assert "<summary>How to fix</summary>" in text


def test_no_links_outside_github(repo: Path) -> None:
    text = markdown(repo)
    line = line_of(repo / WORKFLOW, "actions/checkout@v4")
    assert f"| {line} | 🔴 high | `PE-WF-002` |" in text
    assert "/blob/" not in text


def test_user_text_cannot_inject_markup(repo: Path) -> None:
    evil = "acme/x@v1 <img src=x onerror=alert(1)> @acme/admins [click](https://evil.example) | ok"
    wf = repo / WORKFLOW
    line = line_of(wf, "actions/checkout@v4")
    text = wf.read_text(encoding="utf-8").replace("actions/checkout@v4", json.dumps(evil), 1)
    wf.write_text(text, encoding="utf-8")
    report = markdown(repo, wf)
    row = next(r for r in report.splitlines() if r.startswith(f"| {line} |"))
    assert "<img" not in row and "&lt;img" in row
    assert "@acme/admins" not in row and "@\u200bacme/admins" in row
    assert "\\[click\\]" in row and not re.search(r"(?<!\\)\[click", row)  # no live link
    assert len(row.split(" | ")) == 4  # the pipe in the message did not add a column


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
    steps = "".join(f"      - name: Step {i} with a long descriptive name for the summary\n"
                    f"        uses: acme-corporation/some-very-long-action-name-{i}@v1\n"
                    for i in range(1200))
    write(tmp_repo, ".github/workflows/big.yml",
          "name: Big\non: push\npermissions:\n  contents: read\njobs:\n  build:\n"
          "    runs-on: ubuntu-latest\n    steps:\n" + steps)
    result = check_paths([tmp_repo], tmp_repo)
    assert len(result.active) >= 1200
    text = render(result, ReportOptions())
    assert size(text) <= MAX_CHARS
    shown = len(re.findall(r"^\| \d+ \|", text, re.MULTILINE))
    match = re.search(r"\*\*(\d+) more findings?\*\* in (\d+) files? not shown", text)
    assert match, text[-500:]
    assert int(match.group(1)) == len(result.active) - shown > 0
    assert int(match.group(2)) == 1


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
