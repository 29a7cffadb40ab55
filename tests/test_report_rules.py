"""PE-DR-001..006 through the real pipeline: fixtures, cross-document cases, secret masking."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.config import DEFAULT_PARAMS
from pe_policy.engine.evaluate import Evaluator
from pe_policy.engine.pack import load_ruleset
from pe_policy.findings import ParseError
from pe_policy.loaders import load_text
from pe_policy.pipeline import check
from pe_policy.reporters import ReportOptions, render
from pe_policy.secrets import find_secrets, mask
from tests.conftest import FIXTURES, REPO, check_paths, line_of, rule_hits, run_cli

REPORTS = FIXTURES / "deployment_report"
DEPLOYMENTS = REPORTS / "bad/Deployments"
RULES = tuple(f"PE-DR-00{n}" for n in range(1, 7))


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def result(builtin_ruleset):  # type: ignore[no-untyped-def]
    return check_paths([REPORTS, FIXTURES / "qa_report"], ruleset=builtin_ruleset)


def findings_in(result, path: Path) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return sorted((f.rule_id, f.location.line) for f in result.active if f.location.path == rel(path))


def test_good_reports_have_no_findings(result) -> None:  # type: ignore[no-untyped-def]
    good = [p for p in result.checked_paths if "/good/" in p]
    assert len(good) == 5  # two deployment reports, their two QA reports, one QA report
    assert [f for f in result.active if "/good/" in f.location.path] == []


@pytest.mark.parametrize(("name", "rule_id", "needle"), [
    ("Deploy-PE-20.md", "PE-DR-001", "deployed:"),
    ("Deploy-PE-21.md", "PE-DR-003", "| Error rate |"),
    ("Deploy-PE-22.md", "PE-DR-002", "qa_report:"),
    ("Deploy-PE-23.md", "PE-DR-002", "qa_report:"),
    ("Deploy-PE-24.md", "PE-DR-004", "## Rollback Status"),
    ("Deploy-PE-25.md", "PE-DR-005", "**Status:** SUCCESS"),
])
def test_each_bad_report_has_exactly_its_finding(result, name: str, rule_id: str,  # type: ignore[no-untyped-def]
                                                 needle: str) -> None:
    path = DEPLOYMENTS / name
    assert findings_in(result, path) == [(rule_id, line_of(path, needle))]


def test_failed_check_points_at_its_status_cell(result) -> None:  # type: ignore[no-untyped-def]
    path = DEPLOYMENTS / "Deploy-PE-21.md"
    [finding] = [f for f in result.active if f.rule_id == "PE-DR-003"]
    line = path.read_text("utf-8").splitlines()[finding.location.line - 1]
    assert finding.location.column is not None
    assert line[finding.location.column - 1:].startswith("FAIL |")
    assert '"Error rate" is FAIL' in finding.message


def test_qa_status_and_absence_are_named(result) -> None:  # type: ignore[no-untyped-def]
    by_path = {f.location.path: f.message for f in result.active if f.rule_id == "PE-DR-002"}
    not_approved = by_path[rel(DEPLOYMENTS / "Deploy-PE-22.md")]
    qa = REPORTS / "bad/QA/QA-Report-PE-22.md"
    assert f"{rel(qa)} says `status: changes_requested` (line {line_of(qa, 'status:')})" in not_approved
    assert "not found" in by_path[rel(DEPLOYMENTS / "Deploy-PE-23.md")]


def test_secrets_are_located_and_masked(result) -> None:  # type: ignore[no-untyped-def]
    path = DEPLOYMENTS / "Deploy-PE-26.md"
    lines = path.read_text("utf-8").splitlines()
    secrets = {"AKIAQ3EGRTY7ZB4NWXYZ": "AWS_ACCESS_KEY_ID=", "Tr0ub4dor-3x": "postgres://"}
    found = sorted((f.location.line, f.location.column or 0, f.rule_id, f.message)
                   for f in result.active if f.location.path == rel(path))
    assert [(line, rule) for line, _, rule, _ in found] == [
        (line_of(path, needle), "PE-DR-006") for needle in secrets.values()]
    for (line, column, _, message), secret in zip(found, secrets, strict=True):
        assert lines[line - 1][column - 1:].startswith(secret)  # the exact spot
        assert secret not in message
    assert "AWS access key ID" in found[0][3] and "AKIA************WXYZ" in found[0][3]
    assert "password in a URL" in found[1][3]


def test_secret_in_a_qa_report(result) -> None:  # type: ignore[no-untyped-def]
    path = FIXTURES / "qa_report/bad/QA-Report-PE-40.md"
    assert findings_in(result, path) == [("PE-DR-006", line_of(path, "Authorization: Bearer"))]


@pytest.mark.parametrize("format_", ["text", "json", "sarif", "markdown", "junit", "github"])
def test_no_report_format_repeats_a_secret(result, format_: str) -> None:  # type: ignore[no-untyped-def]
    output = render(format_, result, ReportOptions(color=False, tool_version="test"))
    assert "DR-006" in output
    for secret in ("AKIAQ3EGRTY7ZB4NWXYZ", "Tr0ub4dor-3x", "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1zaWc"):
        assert secret not in output


@pytest.mark.parametrize(("line", "kind", "secret"), [
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEKEYabcdz", "AWS secret access key",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEKEYabcdz"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key", None),
    ("GH_TOKEN=ghp_Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fEdCbA", "GitHub token",
     "ghp_Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fEdCbA"),
    ("slack: xoxb-2511820477-1234567890123-AbCdEfGhIjKlMnOp", "Slack token",
     "xoxb-2511820477-1234567890123-AbCdEfGhIjKlMnOp"),
    ("- password=hunter2 (temporary)", "password", "hunter2"),
    ("api_key: 9f8e7d6c5b4a39281706f5e4", "secret", "9f8e7d6c5b4a39281706f5e4"),
])
def test_secret_kinds_and_masks(line: str, kind: str, secret: str | None) -> None:
    [match] = list(find_secrets(line))
    assert match.kind == kind
    if secret is not None:
        assert match.value == secret
        assert secret not in match.masked
        assert len(secret) < 12 or secret[4:-4] not in match.masked


@pytest.mark.parametrize("line", [
    "password: ${{ secrets.DB_PASSWORD }}",
    "Password: rotated after the incident",
    "api_key: <your key>",
    "token: REDACTED",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "Smoke tests pass: 12/12",
    "password: vault:secret/data/gateway#db",
])
def test_placeholders_and_prose_are_not_secrets(line: str) -> None:
    assert list(find_secrets(line)) == []


def test_mask_shape() -> None:
    assert mask("AKIAQ3EGRTY7ZB4NWXYZ") == "AKIA************WXYZ"
    assert mask("short") == "********"
    assert len(mask("x" * 200)) == 24


# --- cross-document: the QA report the deployment report links to ------------------------------

DEPLOY = """\
---
tags: [deployment, release, agent/devops]
unit_id: "U-7"
status: "success"
deployed: "2025-04-02 09:30"
links:
  qa_report: "[[QA/QA-Report-U-7]]"
---

# Deployment Report — U-7

## Summary
- **Status:** SUCCESS

## Verification Results
| Check | Expected | Actual | Status |
|-------|----------|--------|--------|
| Health endpoint | 200 OK | 200 OK | PASS |

## Rollback Status
- Rollback required: No
"""

QA_REPORT = """\
---
tags: [qa, agent/qa]
unit_id: "{unit}"
status: "{status}"
---

# QA Report — {unit}

## Summary
- **Status:** {status}
"""


def vault(repo: Path, status: str | None, unit: str = "U-7") -> tuple[Path, Path]:
    deploy = repo / "01-Projects/Gateway/Deployments/Deploy-U-7.md"
    deploy.parent.mkdir(parents=True)
    deploy.write_text(DEPLOY, encoding="utf-8")
    qa = repo / "QA/QA-Report-U-7.md"
    if status is not None:
        qa.parent.mkdir(parents=True)
        qa.write_text(QA_REPORT.format(unit=unit, status=status), encoding="utf-8")
    return deploy, qa


def dr002(repo: Path, paths: list[Path]) -> list[tuple[str, int, str]]:
    outcome = check(paths, repo)
    assert [f for f in outcome.active if f.rule_id != "PE-DR-002"] == []
    return [(f.location.path, f.location.line, f.message) for f in outcome.active]


def test_approved_qa_report_passes(tmp_repo: Path) -> None:
    vault(tmp_repo, "approved")
    assert dr002(tmp_repo, [tmp_repo]) == []


def test_unapproved_qa_report_is_critical_at_the_link(tmp_repo: Path) -> None:
    deploy, qa = vault(tmp_repo, "rejected")
    [(path, line, message)] = dr002(tmp_repo, [tmp_repo])
    assert (path, line) == ("01-Projects/Gateway/Deployments/Deploy-U-7.md", line_of(deploy, "qa_report:"))
    assert f"QA/QA-Report-U-7.md says `status: rejected` (line {line_of(qa, 'status:')})" in message


def test_absent_qa_report_is_reported_as_not_found(tmp_repo: Path) -> None:
    deploy, _ = vault(tmp_repo, None)
    [(_, line, message)] = dr002(tmp_repo, [tmp_repo])
    assert line == line_of(deploy, "qa_report:")
    assert "[[QA/QA-Report-U-7]] not found" in message


def test_qa_report_not_named_is_read_on_demand(tmp_repo: Path) -> None:
    """A deployment report given alone (a pre-commit hook passes only the changed files) gets
    the verdict of a whole-repository run: the run reads the linked QA report itself."""
    deploy, _ = vault(tmp_repo, "approved")
    assert dr002(tmp_repo, [deploy]) == []


def test_qa_report_not_named_and_unapproved_is_still_critical(tmp_repo: Path) -> None:
    deploy, qa = vault(tmp_repo, "rejected")
    [(path, _, message)] = dr002(tmp_repo, [deploy])
    assert path == "01-Projects/Gateway/Deployments/Deploy-U-7.md"
    assert f"QA/QA-Report-U-7.md says `status: rejected` (line {line_of(qa, 'status:')})" in message


def test_qa_report_that_cannot_be_read_is_unverified(tmp_repo: Path) -> None:
    deploy, qa = vault(tmp_repo, "approved")
    qa.write_bytes(b"---\nstatus: approved\n\x00binary\n")
    [(_, _, message)] = dr002(tmp_repo, [deploy])
    assert "QA/QA-Report-U-7.md exists but" in message and "verified" in message


def test_qa_report_of_another_unit(tmp_repo: Path) -> None:
    vault(tmp_repo, "approved", unit="U-6")
    [(_, _, message)] = dr002(tmp_repo, [tmp_repo])
    assert "is for unit U-6, not U-7" in message


def test_nearest_qa_report_wins(tmp_repo: Path) -> None:
    """`01-Projects/Gateway/QA/...` (nearer the report) shadows the vault-root `QA/...`."""
    deploy, _ = vault(tmp_repo, "approved")
    nearer = deploy.parent.parent / "QA/QA-Report-U-7.md"
    nearer.parent.mkdir()
    nearer.write_text(QA_REPORT.format(unit="U-7", status="changes_requested"), encoding="utf-8")
    [(_, _, message)] = dr002(tmp_repo, [tmp_repo])
    assert "01-Projects/Gateway/QA/QA-Report-U-7.md says `status: changes_requested`" in message


def test_missing_link_is_reported_by_both_rules(tmp_repo: Path) -> None:
    deploy, _ = vault(tmp_repo, "approved")
    deploy.write_text(DEPLOY.replace('  qa_report: "[[QA/QA-Report-U-7]]"\n', "  runbook: x\n"),
                      encoding="utf-8")
    outcome = check([tmp_repo], tmp_repo)
    links = line_of(deploy, "links:")
    assert sorted((f.rule_id, f.location.line) for f in outcome.active) == [
        ("PE-DR-001", links), ("PE-DR-002", links)]


# --- more single-rule cases ---------------------------------------------------------------------


def one_report(repo: Path, text: str) -> tuple[Path, list[tuple[str, int]]]:
    vault(repo, "approved")
    path = repo / "01-Projects/Gateway/Deployments/Deploy-U-7.md"
    path.write_text(text, encoding="utf-8")
    outcome = check([repo], repo)
    return path, sorted((f.rule_id, f.location.line) for f in outcome.active)


def test_rolled_back_saying_no_rollback(tmp_repo: Path) -> None:
    text = DEPLOY.replace('status: "success"', 'status: "rolled_back"').replace(
        "**Status:** SUCCESS", "**Status:** ROLLED_BACK")
    path, hits = one_report(tmp_repo, text)
    assert hits == [("PE-DR-004", line_of(path, "## Rollback Status")),
                    ("PE-DR-004", line_of(path, "Rollback required: No"))]


def test_success_with_rollback_required(tmp_repo: Path) -> None:
    path, hits = one_report(tmp_repo, DEPLOY.replace("Rollback required: No", "Rollback required: Yes"))
    assert hits == [("PE-DR-004", line_of(path, "Rollback required: Yes"))]


def test_success_without_verification_rows(tmp_repo: Path) -> None:
    text = DEPLOY.replace("| Health endpoint | 200 OK | 200 OK | PASS |\n", "")
    path, hits = one_report(tmp_repo, text)
    assert hits == [("PE-DR-003", line_of(path, "## Verification Results"))]


def test_invalid_status_and_missing_unit(tmp_repo: Path) -> None:
    text = DEPLOY.replace('status: "success"', 'status: "done"').replace('unit_id: "U-7"\n', "")
    path, hits = one_report(tmp_repo, text)
    assert ("PE-DR-001", line_of(path, 'status: "done"')) in hits
    assert ("PE-DR-001", 1) in hits  # unit_id missing: the front matter block


def test_front_matter_yaml_error_is_a_parse_finding(tmp_repo: Path) -> None:
    text = DEPLOY.replace('deployed: "2025-04-02 09:30"', 'deployed: "2025-04-02 09:30')
    path, hits = one_report(tmp_repo, text)
    assert [rule for rule, _ in hits] == ["PE-PARSE"]
    assert hits[0][1] >= line_of(path, "deployed:")


# --- Rego unit tests, demo ------------------------------------------------------------------


def test_rego_unit_tests_pass() -> None:
    outcome = run_cli(["verify", str(REPO / "policies/deployment_report")])
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert " 0 failed" in outcome.stdout


def test_demo_shows_the_unapproved_deployment(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    demo = FIXTURES / "demo"
    path = demo / "docs/deployments/Deploy-PE-11.md"
    outcome = check_paths([demo], ruleset=builtin_ruleset)
    hits = [(rule, hit) for rule in RULES for hit in rule_hits(outcome, rule)]
    assert hits == [("PE-DR-002", (rel(path), line_of(path, "qa_report:")))]
    [finding] = [f for f in outcome.active if f.rule_id == "PE-DR-002"]
    assert "changes_requested" in finding.message


# --- robustness: the rules never fail on a loadable report ---------------------------------------


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(load_ruleset([REPO / "policies/deployment_report"]), DEFAULT_PARAMS,
                     repo_root=REPO)


REPORT_TEXTS = [p.read_text("utf-8") for p in sorted(REPORTS.glob("*/*/*.md"))]
PIECES = ["status: ", "links:\n  qa_report: ", "[[", "]]", "| FAIL |", "|", "- Rollback required: ",
          "Yes", "No", "\n", "---", "## Summary\n", "**Status:**", "null", "[1, 2]", "{a: b}", "#"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(REPORT_TEXTS), cut=st.integers(0, 3000),
       piece=st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
       kind=st.sampled_from(["deployment_report", "qa_report"]))
def test_rules_never_error_on_mutated_reports(evaluator: Evaluator, base: str, cut: int, piece: str,
                                              kind: str) -> None:
    text = base[:cut] + piece + base[cut:]
    try:
        doc = load_text(text, "fixtures/deployment_report/bad/Deployments/fuzz.md", kind)
    except ParseError:
        return
    findings = evaluator.evaluate(doc, [doc])
    assert [f.message for f in findings if f.rule_id == "PE-RULE-ERROR"] == []
    assert all(f.rule_id in RULES for f in findings), json.dumps([f.to_dict() for f in findings])
    secrets = [m.value for line in text.splitlines() for m in find_secrets(line)]
    assert not any(s in f.message for s in secrets for f in findings if len(s) >= 8)
    assert not any(re.search(r"AKIA[A-Z0-9]{16}", f.message) for f in findings)
