"""Runbook, deployment report and QA report loaders: models, positions, kinds, parse errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.discover import detect_kind, kind_by_content
from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import Source
from pe_policy.loaders import report as report_loader
from pe_policy.loaders import runbook as runbook_loader
from pe_policy.loaders.markdown_source import cell_columns, split_lines
from pe_policy.models.markdown import candidate_paths, heading_key, parse_link, placeholder_text
from pe_policy.models.report import DeploymentReport, QAReport
from pe_policy.models.runbook import Runbook
from tests.conftest import FIXTURES, REPO, line_of

RUNBOOK = FIXTURES / "runbook/good/PE-12-runbook.md"
DEPLOY = FIXTURES / "deployment_report/good/01-Projects/Platform-Gateway/Deployments/Deploy-PE-12.md"
ROLLED_BACK = DEPLOY.with_name("Deploy-PE-13.md")
QA = FIXTURES / "qa_report/good/QA-Report-PE-12.md"


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def load(path: Path, kind: str, text: str | None = None, display: str | None = None) -> Document:
    """Call the loader itself (not load_text, which would turn a loader bug into a ParseError)."""
    module = runbook_loader if kind == "runbook" else report_loader
    source = Source(path=display or rel(path), text=path.read_text("utf-8") if text is None else text,
                    kind=kind, abs_path=path, root=REPO)
    return module.load(source)


def load_text(text: str, kind: str, display: str = "docs/doc.md") -> Document:
    module = runbook_loader if kind == "runbook" else report_loader
    return module.load(Source(path=display, text=text, kind=kind))


# --- runbooks ---------------------------------------------------------------------------------


def test_runbook_model_from_the_seed_format() -> None:
    doc = load(RUNBOOK, "runbook")
    runbook = doc.model
    assert isinstance(runbook, Runbook)
    assert (runbook.story_id, runbook.title) == ("PE-12", "Gateway health and readiness endpoints")
    assert (runbook.status, runbook.status_line) == ("ACCEPTED", line_of(RUNBOOK, "Status:"))
    keys = [s.key for s in runbook.sections if s.level == 2]
    assert keys == ["goal description", "compliance checklist", "proposed changes",
                    "verification plan", "rollback plan"]
    assert all(not s.empty and s.placeholder is None for s in runbook.sections)
    assert [(i.mentions, i.checked, i.section) for i in runbook.checklist] == [
        ([role], True, "compliance checklist")
        for role in ("Security", "Architect", "QA", "Docs", "Compliance", "Observability")
    ]
    assert runbook.checklist[0].line == line_of(RUNBOOK, "@Security approved?")


def test_runbook_file_changes_with_lines_components_and_candidates() -> None:
    runbook = load(RUNBOOK, "runbook").model
    assert isinstance(runbook, Runbook)
    changes = [(c.action, c.path, c.line, c.component) for c in runbook.changes]
    assert changes == [
        ("NEW", "services/gateway/app/health.py", line_of(RUNBOOK, "[NEW] [app/health.py]"), "Gateway"),
        ("MODIFY", "services/gateway/app/main.py", line_of(RUNBOOK, "[MODIFY] [app/main.py]"), "Gateway"),
        ("DELETE", "services/gateway/app/legacy_ping.py", line_of(RUNBOOK, "[DELETE]"), "Gateway"),
        ("MODIFY", "services/gateway/pyproject.toml", line_of(RUNBOOK, "`services/gateway/pyproject.toml`"),
         "Gateway"),
        ("NEW", "services/gateway/tests/test_health.py", line_of(RUNBOOK, "[NEW] [tests/"), "Gateway"),
    ]
    assert runbook.changes[1].candidates == [
        "fixtures/runbook/good/services/gateway/app/main.py",
        "fixtures/runbook/services/gateway/app/main.py",
        "fixtures/services/gateway/app/main.py",
        "services/gateway/app/main.py",
    ]


def test_runbook_rollback_section() -> None:
    runbook = load(RUNBOOK, "runbook").model
    assert isinstance(runbook, Runbook)
    rollback = runbook.rollback
    assert rollback is not None
    assert (rollback.heading, rollback.line, rollback.empty, rollback.steps) == (
        "Rollback Plan", line_of(RUNBOOK, "## Rollback Plan"), False, 3)
    assert rollback.end_line == line_of(RUNBOOK, "to its baseline.")


def test_runbook_source_map_points_at_the_nodes() -> None:
    doc = load(RUNBOOK, "runbook")
    assert doc.location(("status",)).line == line_of(RUNBOOK, "Status: ACCEPTED")
    box = doc.location(("checklist", 5))
    assert (box.line, box.column) == (line_of(RUNBOOK, "@Observability approved?"), 3)
    assert doc.location(("changes", 2)).line == line_of(RUNBOOK, "[DELETE]")
    assert doc.location(()).line == 1  # the title: where "missing" findings go
    section = doc.location(("sections", 2))
    assert (section.line, section.end_line) == (
        line_of(RUNBOOK, "## Compliance Checklist"), line_of(RUNBOOK, "@Observability approved?"))


def test_runbook_variants() -> None:
    text = "\r\n".join([
        "# OPS-7 — Rotate the Redis password",
        "",
        "**Status:** *Accepted*",
        "",
        "## 1. Goal Description:",
        "Rotate it.",
        "",
        "## Proposed Changes",
        "- [MODIFY] `deploy/redis/values.yaml`: new secret name",
        "- [delete] [old](file:///home/dev/repo/deploy/redis/old.yaml#L3)",
        "- [NEW] ../../../escape.txt",
        "",
        "## Verification Plan",
        "1. `redis-cli -a \"$NEW\" ping` answers PONG.",
        "2. Rollback: put the old secret name back and restart the pods.",
    ])
    doc = load_text(text, "runbook", "ops/runbooks/OPS-7.md")
    runbook = doc.model
    assert isinstance(runbook, Runbook)
    assert (runbook.story_id, runbook.title, runbook.status) == (
        "OPS-7", "Rotate the Redis password", "ACCEPTED")
    assert runbook.sections[1].key == "goal description"
    assert [(c.action, c.path, c.line) for c in runbook.changes] == [
        ("MODIFY", "deploy/redis/values.yaml", 9),
        ("DELETE", "/home/dev/repo/deploy/redis/old.yaml", 10),
        ("NEW", "../../../escape.txt", 11),
    ]
    assert runbook.changes[1].candidates == []  # absolute: cannot be checked
    assert runbook.changes[2].candidates == []  # escapes the repository
    assert runbook.rollback is not None
    assert (runbook.rollback.heading, runbook.rollback.line) == (None, 15)


def test_runbook_placeholders_and_empty_sections() -> None:
    text = "# PE-1: X\n\nStatus: PROPOSED\n\n## Goal Description\n<Summary of what changes>\n\n" \
           "## Compliance Checklist\n\n<!-- filled in by the panel -->\n\n## Proposed Changes\n" \
           "### [Component]\n#### [MODIFY] [file](path)\n- Change description...\n"
    runbook = load_text(text, "runbook").model
    assert isinstance(runbook, Runbook)
    by_key = {s.key: s for s in runbook.sections}
    assert by_key["goal description"].placeholder == "<Summary of what changes>"
    assert by_key["compliance checklist"].empty  # an HTML comment is not content
    assert by_key["proposed changes"].placeholder == "Change description..."
    assert runbook.rollback is None


# --- reports ----------------------------------------------------------------------------------


def test_deployment_report_front_matter_is_positioned_in_the_file() -> None:
    doc = load(DEPLOY, "deployment_report")
    report = doc.model
    assert isinstance(report, DeploymentReport)
    assert report.front_matter is not None
    assert report.front_matter["status"] == "success"
    assert report.front_matter["deployed"] == "2025-03-14 14:30"  # YAML 1.2: a string, not a date
    assert doc.location(("front_matter", "status")).line == line_of(DEPLOY, 'status: "success"')
    link = doc.location(("front_matter", "links", "qa_report"))
    assert (link.line, link.column) == (line_of(DEPLOY, "qa_report:"), 3)
    assert doc.location(("front_matter",)).line == 1


def test_deployment_report_summary_tables_and_rollback() -> None:
    doc = load(DEPLOY, "deployment_report")
    report = doc.model
    assert isinstance(report, DeploymentReport)
    assert report.summary is not None
    assert report.summary.status == "SUCCESS"
    assert doc.location(("summary", "status")).line == line_of(DEPLOY, "**Status:** SUCCESS")
    assert [(r.name, r.status) for r in report.timeline][:2] == [
        ("Started deployment", ""), ("Artifacts deployed (canary, 10% traffic)", "SUCCESS")]
    assert [r.status for r in report.verification] == ["PASS"] * 4
    error_rate = report.verification[2]
    assert error_rate.cells == {"Check": "Error rate", "Expected": "<1%", "Actual": "0.07%",
                                "Status": "PASS"}
    assert error_rate.line == line_of(DEPLOY, "| Error rate |")
    status_cell = doc.location(("verification", 2, "status"))
    source = DEPLOY.read_text("utf-8").splitlines()[error_rate.line - 1]
    assert source[status_cell.column - 1:status_cell.end_column - 1] == "PASS"
    assert report.rollback is not None
    assert (report.rollback.required, report.rollback.reason) == (False, None)


def test_rolled_back_report_reason() -> None:
    report = load(ROLLED_BACK, "deployment_report").model
    assert isinstance(report, DeploymentReport)
    assert report.rollback is not None
    assert report.rollback.required is True
    assert report.rollback.reason is not None
    assert report.rollback.reason.startswith("P95 latency exceeded 2x baseline")


def test_qa_link_resolution_rule() -> None:
    report = load(DEPLOY, "deployment_report").model
    assert isinstance(report, DeploymentReport)
    link = report.links["qa_report"]
    base = "fixtures/deployment_report/good"
    assert link.target == "QA/QA-Report-PE-12.md"
    assert link.candidates == [
        f"{base}/01-Projects/Platform-Gateway/Deployments/QA/QA-Report-PE-12.md",
        f"{base}/01-Projects/Platform-Gateway/QA/QA-Report-PE-12.md",
        f"{base}/01-Projects/QA/QA-Report-PE-12.md",
        f"{base}/QA/QA-Report-PE-12.md",
        "fixtures/deployment_report/QA/QA-Report-PE-12.md",
        "fixtures/QA/QA-Report-PE-12.md",
        "QA/QA-Report-PE-12.md",
    ]
    assert "artifacts" not in report.links  # an image reference, not a document link


@pytest.mark.parametrize(("raw", "target", "first"), [
    ("[[QA/QA-Report-U-1]]", "QA/QA-Report-U-1.md", "a/b/QA/QA-Report-U-1.md"),
    ("[[QA/QA-Report-U-1|the QA report]]", "QA/QA-Report-U-1.md", "a/b/QA/QA-Report-U-1.md"),
    ("[[QA/QA-Report-U-1#Summary]]", "QA/QA-Report-U-1.md", "a/b/QA/QA-Report-U-1.md"),
    ("[QA](../QA/QA-Report-U-1.md)", "../QA/QA-Report-U-1.md", "a/QA/QA-Report-U-1.md"),
    ("/QA/QA-Report-U-1.md", "/QA/QA-Report-U-1.md", "QA/QA-Report-U-1.md"),
])
def test_link_forms(raw: str, target: str, first: str) -> None:
    link = parse_link("a/b/Deploy-U-1.md", raw)
    assert (link.target, link.candidates[0]) == (target, first)


def test_candidate_paths_stay_inside_the_repository() -> None:
    assert candidate_paths("docs/r.md", "../../etc/passwd") == []
    assert candidate_paths("docs/r.md", "https://example.com/QA.md") == []
    assert candidate_paths("r.md", "QA/x.md") == ["QA/x.md"]
    assert candidate_paths("a/b/r.md", "./x.md") == ["a/b/x.md"]


def test_unquoted_wiki_link_is_still_resolved() -> None:
    text = ('---\nunit_id: "U-1"\nstatus: success\nlinks:\n  qa_report: [[QA/QA-Report-U-1]]\n---\n'
            "# Deployment Report — U-1\n")
    doc = load_text(text, "deployment_report", "Deploy-U-1.md")
    report = doc.model
    assert isinstance(report, DeploymentReport)
    assert report.front_matter == {"unit_id": "U-1", "status": "success",
                                   "links": {"qa_report": [["QA/QA-Report-U-1"]]}}
    assert report.links["qa_report"].candidates == ["QA/QA-Report-U-1.md"]


def test_qa_report_model() -> None:
    doc = load(QA, "qa_report")
    report = doc.model
    assert isinstance(report, QAReport)
    assert (report.status, report.unit_id) == ("approved", "PE-12")
    assert [r.name for r in report.results] == ["Unit tests", "Integration tests", "Coverage",
                                                "Security scan (Trivy, pip-audit)"]
    assert doc.location(("results", 0)).line == line_of(QA, "| Unit tests |")


def test_report_without_front_matter() -> None:
    doc = load_text("# Deployment Report — U-9\n\n## Summary\n- Status: FAILED\n", "deployment_report")
    report = doc.model
    assert isinstance(report, DeploymentReport)
    assert report.front_matter is None
    assert "front_matter" not in doc.input
    assert report.summary is not None
    assert report.summary.status == "FAILED"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("---\nunit_id: U-1\nstatus: success\n\n# Deployment Report\n", 1, "never closed"),
    ("---\nunit_id: U-1\nstatus: [success\n---\n# Deployment Report\n", 4, "invalid YAML"),
    ("---\n- just\n- a list\n---\n# Deployment Report\n", 2, "must be a YAML mapping"),
    ('---\nunit_id: "U-1"\nstatus: "success" | "failed"\n---\n', 3, "invalid YAML"),
])
def test_report_parse_errors_carry_the_file_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        load_text(text, "deployment_report")
    assert caught.value.line == line
    assert words in caught.value.message


def test_unclosed_fence_in_a_runbook_is_markdown() -> None:
    runbook = load_text("---\n# PE-3: Y\n\nStatus: ACCEPTED\n", "runbook").model
    assert isinstance(runbook, Runbook)
    assert (runbook.story_id, runbook.status) == ("PE-3", "ACCEPTED")


# --- helpers ----------------------------------------------------------------------------------


def test_cell_columns_respect_escaped_pipes() -> None:
    line = "| a\\|b | `x` |  PASS |"
    columns = cell_columns(line)
    assert [line[c - 1:e - 1] for c, e in columns] == ["a\\|b", "`x`", "PASS"]


def test_heading_keys_and_placeholders() -> None:
    assert heading_key("4. Verification Plan:") == "verification plan"
    assert heading_key("**Rollback Plan**") == "rollback plan"
    assert placeholder_text("<reason and details>")
    assert placeholder_text("TBD")
    assert not placeholder_text("Revert the merge commit.")


# --- kind detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind"), [
    (RUNBOOK, "runbook"),
    (FIXTURES / "runbook/bad/PE-34-runbook.md", "runbook"),
    (DEPLOY, "deployment_report"),
    (FIXTURES / "deployment_report/bad/Deployments/Deploy-PE-20.md", "deployment_report"),
    (QA, "qa_report"),
    (FIXTURES / "deployment_report/bad/QA/QA-Report-PE-22.md", "qa_report"),
    (FIXTURES / "demo/docs/runbooks/PE-12.md", "runbook"),
    (FIXTURES / "demo/QA/QA-Report-PE-11.md", "qa_report"),
])
def test_fixture_kinds(path: Path, kind: str) -> None:
    assert detect_kind(path, rel(path)) == kind


def test_kind_by_content_is_specific() -> None:
    adr = "# ADR-007: Unauthenticated health endpoints\n\nStatus: Accepted\n\n## Context\n"
    assert kind_by_content("docs/adr/0007.md", adr) is None
    note = "---\ntags: [deployment, notes]\ntitle: Thoughts on deploys\n---\n# Thoughts\n"
    assert kind_by_content("notes/deploys.md", note) is None
    untitled = '---\ntags: [qa]\nunit_id: "U-1"\nstatus: approved\n---\n\nLooks good.\n'
    assert kind_by_content("QA/U-1.md", untitled) == "qa_report"
    no_unit = '---\nstatus: success\n---\n\n# Deployment Report — U-1\n'
    assert kind_by_content("deploys/U-1.md", no_unit) == "deployment_report"
    runbook_by_path = "# PE-9: Something\n\nStatus: PROPOSED\n"
    assert kind_by_content(".agent/cache/runbooks/gw/PE-9-runbook.md", runbook_by_path) == "runbook"


# --- robustness: any text is a Document or a ParseError ----------------------------------------

KINDS = ("runbook", "deployment_report", "qa_report")
FIXTURE_TEXTS = [p.read_text("utf-8") for p in (RUNBOOK, DEPLOY, ROLLED_BACK, QA,
                                                FIXTURES / "runbook/bad/PE-33-runbook.md")]
MARKDOWN_BITS = ["#", "## ", "|", "---", "- [ ] ", "- [x] @", "[MODIFY] ", "[[", "]]", "`", "```",
                 "\n", "\r\n", "\t", ":", "> ", "<!--", "-->", "**", "\\", "Status:", "* ", "1. ",
                 "\x00", "\u2028", "\ufeff", "é", "|---|", "..."]


def _check_document(doc: Document, text: str) -> None:
    json.dumps(doc.input)  # what Rego receives must be JSON
    total = max(1, len(split_lines(text)))
    for path, span in doc.source_map.spans.items():
        assert 1 <= span.line <= total, (path, span)
        assert span.end_line is None or span.line <= span.end_line <= total, (path, span)


def _load_or_parse_error(text: str, kind: str) -> None:
    try:
        doc = load_text(text, kind)
    except ParseError as exc:
        assert exc.line >= 1
        return
    _check_document(doc, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.one_of(st.sampled_from(MARKDOWN_BITS), st.characters()), max_size=200)
       .map("".join),
       kind=st.sampled_from(KINDS))
def test_arbitrary_text_loads_or_raises_parse_error(text: str, kind: str) -> None:
    _load_or_parse_error(text, kind)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(FIXTURE_TEXTS)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "insert", "splice", "swap"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "insert":
            lines.insert(at, "".join(draw(st.lists(st.sampled_from(MARKDOWN_BITS), max_size=8))))
        elif action == "splice":
            line = lines[at]
            cut = draw(st.integers(0, len(line)))
            lines[at] = line[:cut] + draw(st.sampled_from(MARKDOWN_BITS)) + line[cut:]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    return "\n".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_fixture(), kind=st.sampled_from(KINDS))
def test_mutated_fixtures_load_or_raise_parse_error(text: str, kind: str) -> None:
    _load_or_parse_error(text, kind)
