"""Inline suppressions (every comment syntax), waivers and baselines, on real files."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pe_policy.config import Config, Waiver
from pe_policy.document import CheckedFile
from pe_policy.engine.pack import RuleSet, select_rules
from pe_policy.filters import (
    NO_REASON,
    REASON_SEPARATORS,
    SUPPRESS_RULE_ID,
    Baseline,
    apply_filters,
    apply_suppressions,
    apply_waivers,
    baseline_text,
    scan_suppressions,
    write_baseline,
)
from pe_policy.findings import Finding, Location, Severity, Suppression
from pe_policy.pipeline import CheckResult
from tests.conftest import line_of, run_cli
from tests.userland import (
    ALEMBIC,
    RUNBOOK,
    SQL_UP,
    TERRAFORM,
    WORKFLOW,
    append_to_line,
    copy_repo,
    findings_of,
    insert_line,
    only,
    write,
)

REASON = "accepted in the PE-77 risk review"

# (file, rule it has a finding of, comment template) -- one per comment syntax
SYNTAXES = [
    pytest.param(WORKFLOW, "PE-WF-002", "# pe-policy: ignore[{ids}] {reason}", id="yaml"),
    pytest.param(TERRAFORM, "PE-TF-002", "# pe-policy: ignore[{ids}] {reason}", id="hcl-hash"),
    pytest.param(TERRAFORM, "PE-TF-002", "// pe-policy: ignore[{ids}] {reason}", id="hcl-slash"),
    pytest.param(TERRAFORM, "PE-TF-002", "/* pe-policy: ignore[{ids}] {reason} */", id="hcl-block"),
    pytest.param(ALEMBIC, "PE-MG-002", "# pe-policy: ignore[{ids}] {reason}", id="python"),
    pytest.param(SQL_UP, "PE-MG-002", "-- pe-policy: ignore[{ids}] {reason}", id="sql"),
    pytest.param(RUNBOOK, "PE-RB-001", "<!-- pe-policy: ignore[{ids}] {reason} -->", id="markdown"),
]


def run(root: Path, strict: bool = False) -> CheckResult:
    from pe_policy.pipeline import check

    return check([root], root.resolve(), strict_suppressions=strict)


def first_line(result: CheckResult, rule_id: str, path: str) -> int:
    return min(f.location.line for f in findings_of(result, rule_id, path))


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    return copy_repo(tmp_repo)


@pytest.mark.parametrize(("path", "rule_id", "comment"), SYNTAXES)
def test_comment_above_the_line_suppresses(repo: Path, path: str, rule_id: str, comment: str) -> None:
    before = run(repo)
    line = first_line(before, rule_id, path)
    assert any(f.location.line == line for f in before.active if f.rule_id == rule_id)

    insert_line(repo / path, line, comment.format(ids=rule_id, reason=REASON))
    after = run(repo)
    moved = [f for f in findings_of(after, rule_id, path) if f.location.line == line + 1]
    finding = only(moved)
    assert finding.suppression is not None
    assert finding.suppression.kind == "inSource"
    assert finding.suppression.justification == REASON
    assert finding not in after.active
    assert findings_of(after, SUPPRESS_RULE_ID) == []


@pytest.mark.parametrize(("path", "rule_id", "comment"), SYNTAXES)
def test_comment_on_the_line_suppresses(repo: Path, path: str, rule_id: str, comment: str) -> None:
    line = first_line(run(repo), rule_id, path)
    append_to_line(repo / path, line, comment.format(ids=rule_id, reason=REASON))
    after = run(repo)
    finding = only([f for f in findings_of(after, rule_id, path) if f.location.line == line])
    assert finding.suppressed and finding.suppression is not None
    assert finding.suppression.justification == REASON


def test_suppression_of_another_rule_does_not_suppress(repo: Path) -> None:
    line = line_of(repo / WORKFLOW, "actions/checkout@v4")
    insert_line(repo / WORKFLOW, line, f"# pe-policy: ignore[PE-WF-001] {REASON}")
    result = run(repo)
    assert (WORKFLOW, line + 1) in [(f.location.path, f.location.line)
                                    for f in result.active if f.rule_id == "PE-WF-002"]


def test_several_ids_and_stacked_comments(repo: Path) -> None:
    wf = repo / WORKFLOW
    line = line_of(wf, "actions/checkout@v4")
    insert_line(wf, line, "# (PE-77: the internal mirror pins it by digest)")
    insert_line(wf, line, f"# pe-policy: ignore[PE-WF-001, pe-wf-002] {REASON}")
    result = run(repo, strict=True)
    finding = only([f for f in findings_of(result, "PE-WF-002", WORKFLOW)
                    if f.location.line == line_of(wf, "actions/checkout@v4")])
    assert finding.suppressed
    # strict: the ID that suppressed nothing is reported, the one that did is not
    unused = only(findings_of(result, SUPPRESS_RULE_ID, WORKFLOW))
    assert unused.location.line == line_of(wf, "pe-policy: ignore[")
    assert "PE-WF-001" in unused.message and "matches no finding" in unused.message
    assert "PE-WF-002" not in unused.message


def test_suppression_without_reason_is_reported(repo: Path) -> None:
    path = repo / SQL_UP
    line = line_of(path, "DROP TABLE")
    insert_line(path, line, "-- pe-policy: ignore[PE-MG-002]")
    result = run(repo)
    dropped = only(findings_of(result, "PE-MG-002", SQL_UP))
    assert dropped.suppression is not None and dropped.suppression.justification == NO_REASON
    report = only(findings_of(result, SUPPRESS_RULE_ID))
    assert (report.location.path, report.location.line) == (SQL_UP, line_of(path, "pe-policy"))
    assert "gives no reason" in report.message
    assert "-- pe-policy: ignore[PE-MG-002] <why" in report.message  # the example uses SQL syntax
    assert report in result.active


def test_malformed_suppression_is_reported_and_suppresses_nothing(repo: Path) -> None:
    path = repo / TERRAFORM
    line = first_line(run(repo), "PE-TF-002", TERRAFORM)
    insert_line(path, line, f"# pe-policy: ignore PE-TF-002 {REASON}")
    result = run(repo)
    assert not only(findings_of(result, "PE-TF-002", TERRAFORM)).suppressed
    report = only(findings_of(result, SUPPRESS_RULE_ID))
    assert report.location.line == line_of(path, "pe-policy: ignore")
    assert "malformed" in report.message


def test_unused_suppression_only_reported_when_strict(repo: Path) -> None:
    path = repo / RUNBOOK
    insert_line(path, line_of(path, "## Goal Description"),
                f"<!-- pe-policy: ignore[PE-RB-004] {REASON} -->")
    assert findings_of(run(repo), SUPPRESS_RULE_ID) == []
    strict = run(repo, strict=True)
    report = only(findings_of(strict, SUPPRESS_RULE_ID))
    assert report.location.line == line_of(path, "pe-policy: ignore[PE-RB-004]")
    cli = run_cli(["check", str(repo / RUNBOOK), "--strict-suppressions", "--format", "json"])
    ids = [f["rule_id"] for f in json.loads(cli.stdout)["findings"]]
    assert SUPPRESS_RULE_ID in ids


def test_prose_mentioning_the_syntax_is_not_a_suppression(repo: Path) -> None:
    path = repo / RUNBOOK
    line = line_of(path, "Status: PROPOSED")
    insert_line(path, line, "Use `pe-policy: ignore[PE-RB-001] reason` only with approval.")
    result = run(repo, strict=True)
    assert not only(findings_of(result, "PE-RB-001", RUNBOOK)).suppressed
    assert findings_of(result, SUPPRESS_RULE_ID) == []


def test_suppressed_findings_reach_sarif_and_json(repo: Path) -> None:
    line = line_of(repo / WORKFLOW, "actions/checkout@v4")
    append_to_line(repo / WORKFLOW, line, f"# pe-policy: ignore[PE-WF-002] {REASON}")
    sarif = json.loads(run_cli(["check", str(repo), "--format", "sarif"]).stdout)
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in suppressed] == [("PE-WF-002", line)]
    assert suppressed[0]["suppressions"][0] == {"kind": "inSource", "status": "accepted",
                                                "justification": REASON}
    payload = json.loads(run_cli(["check", str(repo), "--format", "json"]).stdout)
    assert payload["summary"]["suppressed"] == 1


@given(
    ids=st.lists(st.from_regex(r"[A-Z]{2}-[A-Z]{2}-[0-9]{3}", fullmatch=True), min_size=1,
                 max_size=4, unique=True),
    reason=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60),
    indent=st.sampled_from(["", "  ", "\t"]),
)
def test_scanned_comment_round_trips(ids: list[str], reason: str, indent: str) -> None:
    line = f"{indent}# pe-policy: ignore[{', '.join(ids)}] {reason}"
    scan = scan_suppressions("x.yml", [line, "key: value"])
    (suppression,) = scan.suppressions
    assert list(suppression.rule_ids) == ids
    assert suppression.reason == reason.strip().lstrip(REASON_SEPARATORS).strip()
    assert suppression.targets == {1, 2}


# --- waivers -------------------------------------------------------------------------------


def waiver_config(root: Path, rule: str, path: str, expires: str) -> Path:
    return write(root, ".pe-policy.yaml", f"""\
waivers:
  - rule: {rule}
    path: "{path}"
    owner: "@platform-team"
    reason: bastion replaced by SSM in PE-91
    expires: {expires}
""")


def check_with_config(root: Path) -> dict:  # type: ignore[type-arg]
    result = run_cli(["check", str(root), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def tf_findings(payload: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in payload["findings"] if f["rule_id"] == "PE-TF-002"]


def test_waiver_before_expiry_waives(repo: Path) -> None:
    waiver_config(repo, "PE-TF-002", "infra/*.tf", "2999-12-31")
    (finding,) = tf_findings(check_with_config(repo))
    assert finding["suppression"]["kind"] == "external"
    assert "@platform-team" in finding["suppression"]["justification"]
    assert "2999-12-31" in finding["suppression"]["justification"]


def test_waiver_by_prefix_and_directory(repo: Path) -> None:
    waiver_config(repo, "PE-TF", "infra/", "2999-12-31")
    (finding,) = tf_findings(check_with_config(repo))
    assert "suppression" in finding


def test_expired_waiver_stops_waiving_and_says_so(repo: Path) -> None:
    waiver_config(repo, "PE-TF-002", "infra/*.tf", "2000-01-31")
    payload = check_with_config(repo)
    (finding,) = tf_findings(payload)
    assert "suppression" not in finding
    assert "waiver by @platform-team expired on 2000-01-31" in finding["message"]
    assert finding["location"]["line"] == line_of(repo / TERRAFORM, "0.0.0.0/0")
    assert run_cli(["check", str(repo / TERRAFORM)]).exit_code == 1


def test_waiver_for_other_files_does_not_apply(repo: Path) -> None:
    waiver_config(repo, "PE-TF-002", "modules/*.tf", "2999-12-31")
    (finding,) = tf_findings(check_with_config(repo))
    assert "suppression" not in finding and "waiver" not in finding["message"]


def test_waiver_expiry_day_is_the_last_day() -> None:
    waiver = Waiver("PE-TF-002", "*", "me", "why", date(2030, 6, 30))
    assert not waiver.expired(date(2030, 6, 30))
    assert waiver.expired(date(2030, 6, 30) + timedelta(days=1))


# --- baseline ------------------------------------------------------------------------------


def active_ids(root: Path, *args: str) -> tuple[int, list[tuple[str, str, int]]]:
    result = run_cli(["check", str(root), "--format", "json", *args])
    payload = json.loads(result.stdout)
    active = [(f["rule_id"], f["location"]["path"], f["location"]["line"])
              for f in payload["findings"] if "suppression" not in f]
    return result.exit_code, active


def test_baseline_survives_moved_lines_and_catches_new_findings(repo: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    code, before = active_ids(repo)
    assert code == 1 and before
    written = run_cli(["check", str(repo), "--write-baseline", str(baseline)])
    assert written.exit_code == 0, written.stdout
    recorded = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert len(recorded) == len(before)
    assert {(e["rule_id"], e["path"], e["line"]) for e in recorded} == set(before)

    # move lines: a comment block on top, the jobs swapped, a header on the Terraform file
    wf = repo / WORKFLOW
    text = wf.read_text(encoding="utf-8")
    lint_start, test_start = text.index("  lint:\n"), text.index("  test:\n")
    lint_job, test_job = text[lint_start:test_start], text[test_start:]
    wf.write_text("# Continuous integration for the gateway.\n# Owners: @platform-team\n\n"
                  + text[:lint_start] + test_job.rstrip("\n") + "\n\n" + lint_job.rstrip("\n")
                  + "\n", encoding="utf-8")
    tf = repo / TERRAFORM
    tf.write_text("# Bastion host network rules.\n# Managed by @platform-team.\n\n"
                  + tf.read_text(encoding="utf-8"), encoding="utf-8")
    code, after = active_ids(repo)
    assert {(r, p) for r, p, _ in after} == {(r, p) for r, p, _ in before}
    assert sorted(line for *_, line in after) != sorted(line for *_, line in before)
    assert active_ids(repo, "--baseline", str(baseline)) == (0, [])

    # a new finding fails, and is the only one reported
    line = line_of(wf, "- run: pip install ruff")
    insert_line(wf, line, "- uses: astral-sh/ruff-action@v3")
    code, new = active_ids(repo, "--baseline", str(baseline))
    assert code == 1
    assert new == [("PE-WF-002", WORKFLOW, line_of(wf, "astral-sh/ruff-action@v3"))]


def test_baseline_counts_repeated_fingerprints(repo: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert run_cli(["check", str(repo), "--write-baseline", str(baseline)]).exit_code == 0
    # the same suppression problem twice in one file: one fingerprint, two findings
    sql = repo / SQL_UP
    insert_line(sql, line_of(sql, "DROP TABLE"), "-- pe-policy: ignore[PE-MG-002]")
    run_cli(["check", str(repo), "--write-baseline", str(baseline)])
    insert_line(sql, line_of(sql, "COMMIT"), "-- pe-policy: ignore[PE-MG-002]")
    code, new = active_ids(repo, "--baseline", str(baseline))
    assert code == 1
    assert [(r, p) for r, p, _ in new] == [(SUPPRESS_RULE_ID, SQL_UP)]


@pytest.mark.parametrize(("content", "expected"), [
    (None, "baseline not found"),
    ("{not json", "invalid JSON"),
    ('{"findings": [{"rule": "x"}]}', "not a pe-policy baseline"),
])
def test_unreadable_baseline_is_a_usage_error(repo: Path, tmp_path: Path, content: str | None,
                                              expected: str) -> None:
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content, encoding="utf-8")
    result = run_cli(["check", str(repo), "--baseline", str(baseline)])
    assert result.exit_code == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_baseline_and_write_baseline_do_not_combine(repo: Path, tmp_path: Path) -> None:
    result = run_cli(["check", str(repo), "--baseline", str(tmp_path / "a.json"),
                      "--write-baseline", str(tmp_path / "b.json")])
    assert result.exit_code == 2 and "do not combine" in result.stderr


# --- filters make new findings; what runs is decided before them --------------------------


def _finding(rule_id: str = "PE-TF-002", path: str = TERRAFORM, line: int = 1) -> Finding:
    return Finding(rule_id, Severity.HIGH, "open to the world", Location(path, line))


def test_every_filter_returns_new_findings_and_leaves_the_given_ones(tmp_path: Path) -> None:
    given = [_finding(line=1), _finding(line=2), _finding(line=3)]
    before = [f.to_dict() for f in given]
    files = [CheckedFile(TERRAFORM, "terraform", "a  # pe-policy: ignore[PE-TF-002] fine\nb\nc\n")]
    inline = apply_suppressions(given, files, tmp_path, RuleSet())
    waived = apply_waivers(given, [Waiver("PE-TF", "infra/", "@o", "r", date(2999, 1, 1))],
                           date.today())
    expired = apply_waivers(given, [Waiver("PE-TF", "infra/", "@o", "r", date(2000, 1, 1))],
                            date.today())
    baselined = Baseline(Counter([given[0].fingerprint] * 2), "b.json").apply(given)
    assert [f.to_dict() for f in given] == before
    assert [f.suppressed for f in inline] == [True, False, False]
    assert all(f.suppressed for f in waived)
    assert all("expired on 2000-01-01" in f.message and f.properties["expired_waiver"]["owner"]
               == "@o" for f in expired)
    assert [f.suppressed for f in baselined] == [True, True, False]  # one fingerprint, twice


def test_write_baseline_writes_atomically_and_returns_what_it_wrote(tmp_path: Path) -> None:
    findings = [_finding(line=1), _finding(line=2),
                replace(_finding("PE-WF-002", WORKFLOW), suppression=Suppression("inSource", "ok"))]
    target = tmp_path / "reports" / "baseline.json"
    written = write_baseline(target, findings, "1.2.3")
    assert written == Baseline.load(target)  # what a later --baseline reads back
    assert written.size == 2 and written.path == target.as_posix()
    assert target.read_text(encoding="utf-8") == baseline_text(findings, "1.2.3")
    assert sorted(p.name for p in target.parent.iterdir()) == ["baseline.json"]  # no temp file
    accepted = written.apply(findings)
    assert all(f.suppressed for f in accepted)
    assert [f.suppression.origin for f in accepted if f.suppression] == ["baseline", "baseline",
                                                                         ""]


def test_write_baseline_that_cannot_be_written_raises(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(OSError):
        write_baseline(tmp_path / "file" / "baseline.json", [_finding()])


def test_pe_suppress_takes_its_severity_and_being_on_from_the_selected_catalog(
        tmp_path: Path) -> None:
    files = [CheckedFile(TERRAFORM, "terraform", "a  # pe-policy: ignore[PE-TF-002]\n")]
    config = Config(severity={SUPPRESS_RULE_ID: Severity.LOW})
    out = apply_filters([_finding()], files, tmp_path, config,
                        rules=select_rules(RuleSet(), config))
    (suppress,) = [f for f in out if f.rule_id == SUPPRESS_RULE_ID]
    assert suppress.severity is Severity.LOW
    config = Config(disable=(SUPPRESS_RULE_ID,))
    selected = select_rules(RuleSet(), config)
    out = apply_filters([_finding()], files, tmp_path, config, rules=selected)
    assert [(f.rule_id, f.suppressed) for f in out] == [("PE-TF-002", True)]  # still suppresses
    assert SUPPRESS_RULE_ID in selected.catalog  # reports still describe it


def test_filters_never_select_rules_again(tmp_path: Path) -> None:
    """A rule the config disables never ran: the filter step does not look at the config's
    `rules:` again (it would drop this finding if it did)."""
    config = Config(disable=("PE-TF-002",), severity={"PE-WF": Severity.INFO})
    given = [_finding(), _finding("PE-WF-002", WORKFLOW)]
    out = apply_filters(given, [], tmp_path, config, rules=RuleSet())
    assert [(f.rule_id, f.severity) for f in out] == [("PE-WF-002", Severity.HIGH),
                                                      ("PE-TF-002", Severity.HIGH)]


def test_a_configured_severity_beats_the_one_a_rule_picks_for_a_finding(tmp_path: Path) -> None:
    """`severity` in a Rego result (or `Violation(severity=...)`), and pe-policy's own findings:
    the selection's severity wins, as it always has."""
    selected = select_rules(RuleSet(), Config(severity={"PE-PARSE": Severity.LOW}))
    given = [replace(_finding(), rule_id="PE-PARSE")]
    (out,) = apply_filters(given, [], tmp_path, Config(), rules=selected)
    assert out.severity is Severity.LOW and given[0].severity is Severity.HIGH
