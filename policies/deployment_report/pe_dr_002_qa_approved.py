"""PE-DR-002: a deployment report links to a QA report that exists and approved the unit.

The link (`links.qa_report: "[[QA/QA-Report-U-1]]"`) is resolved as described in
`pe_policy.models.markdown`: beside the report, then each parent directory up
to the repository root.  The run reads the QA report whether or not it was
among the paths given (`ctx.document_at` loads it on demand), so a pre-commit
hook given only the deployment report judges it as a whole-repository run
does; one that exists but cannot be read is reported as unverified, never
assumed approved.
"""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.document import Document
from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.report import DeploymentReport, MarkdownReport

LINK_PATH = ("front_matter", "links", "qa_report")


def _linked(doc: Document, ctx: RuleContext, candidates: list[str]) -> tuple[Document | None, str | None]:
    """(the loaded QA report, None) or (None, the path of one that exists but was not loaded)."""
    for candidate in candidates:
        loaded = ctx.document_at(candidate)
        if loaded is not None and loaded is not doc:
            return loaded, None
    for candidate in candidates:
        if ctx.file_exists(candidate):
            return None, candidate
    return None, None


@rule(
    "PE-DR-002",
    severity="critical",
    kinds=["deployment_report"],
    title="Deployed unit approved by QA",
    description=(
        "Never deploy untested or unapproved code: the QA report the deployment report links to "
        "(`links.qa_report`) must exist, be about the same unit, and say `status: approved`. "
        "The QA report is read whether or not it was among the files given (a pre-commit hook "
        "passes only the changed ones); a linked report that exists but cannot be read is "
        "reported as unverified."
    ),
    remediation=(
        "Deploy only units whose QA report says `status: approved`; if QA has not approved it, "
        "roll back and return the unit to QA. Fix `links.qa_report` if it points to the wrong "
        "file."
    ),
    source="seed 003 (Phase 1: QA approval; safety first)",
)
def qa_approved(report: DeploymentReport, ctx: RuleContext) -> Iterator[Violation]:
    doc = ctx.document
    assert doc is not None  # set for every rule the engine runs
    link = report.links.get("qa_report")
    if link is None:
        yield Violation(
            "no QA report is linked, so QA approval cannot be verified: add "
            "`qa_report: \"[[QA/QA-Report-<UNIT_ID>]]\"` under `links:` in the front matter",
            ("front_matter", "links"),
        )
        return
    if not link.candidates:
        yield Violation(
            f"QA report link {link.raw} points outside the repository, so its approval cannot be "
            "verified: link the QA report inside the repository, e.g. `[[QA/QA-Report-<UNIT_ID>]]`",
            LINK_PATH,
        )
        return
    qa_doc, unloaded = _linked(doc, ctx, link.candidates)
    if unloaded is not None:
        yield Violation(
            f"QA report {unloaded} exists but could not be read, so its approval could not be "
            f"verified: fix it (pe-policy check {unloaded} says what is wrong)",
            LINK_PATH,
            properties={"qa_report": unloaded, "verified": False},
        )
        return
    if qa_doc is None:
        yield Violation(
            f"linked QA report {link.raw} not found: there is no {link.target} beside this report "
            f"or in any parent directory up to the repository root: never deploy without an "
            "approved QA report; fix the link or add the report",
            LINK_PATH,
        )
        return
    qa = qa_doc.model
    if not isinstance(qa, MarkdownReport) or qa_doc.kind != "qa_report":
        yield Violation(
            f"linked QA report {qa_doc.path} was read as a {qa_doc.kind}, not a QA report, so its "
            "approval cannot be verified: link the unit's QA report",
            LINK_PATH,
        )
        return
    where = qa_doc.location(("front_matter", "status"))
    if qa.status != "approved":
        said = f"says `status: {qa.status}`" if qa.status else "has no `status:`"
        yield Violation(
            f"linked QA report {qa_doc.path} {said} (line {where.line}), not `approved`: never "
            "deploy unapproved code; return the unit to QA",
            LINK_PATH,
            properties={"qa_report": qa_doc.path, "qa_status": qa.status},
        )
    if report.unit_id and qa.unit_id and report.unit_id != qa.unit_id:
        yield Violation(
            f"linked QA report {qa_doc.path} is for unit {qa.unit_id}, not {report.unit_id}: link "
            f"the QA report of {report.unit_id}",
            LINK_PATH,
            properties={"qa_report": qa_doc.path},
        )
