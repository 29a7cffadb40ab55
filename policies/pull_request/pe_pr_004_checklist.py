"""PE-PR-004: the PR body carries the checklist and every box is ticked."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.findings import Severity
from pe_policy.models.pull_request import ChecklistItem, PullRequest


def mentions(item: ChecklistItem, keyword: str) -> bool:
    """`docs` matches "Docs updated" and "Documentation updated": a word starting with the
    keyword, a plural `s` optional, any case."""
    stem = keyword.strip()
    if len(stem) > 3 and stem.lower().endswith("s"):
        stem = stem[:-1]
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(stem)}", item.text, re.IGNORECASE) is not None


@rule(
    "PE-PR-004",
    severity="medium",
    kinds=["pull_request"],
    title="PR checklist present and every item ticked",
    description=(
        "The PR description carries the checklist from the PR template: tests run, lint pass, "
        "docs updated, ADR impact. Each item is a task-list box (`- [x] ...`); an unticked box "
        "means the author has not done (or not confirmed) that step. The required items are the "
        "`required_checklist_items` parameter: keywords an item must mention."
    ),
    remediation=(
        "Edit the PR description: add the missing items as task-list boxes and tick each one "
        "once done, e.g. `- [x] Docs updated (docs/services/gateway.md)`."
    ),
    source="seed 002 (pull request requirements), seed 000",
)
def checklist(pr: PullRequest, ctx: RuleContext) -> Iterator[Violation]:
    if pr.checklist is None:
        yield Violation(pr.not_evaluable("checklist") or "could not be evaluated", ("body",),
                        severity=Severity.INFO)
        return
    required = [str(k) for k in ctx.params.get("required_checklist_items", [])]
    if not pr.checklist:
        yield Violation(
            "the PR description has no checklist: add task-list items for "
            f"{', '.join(required) or 'the PR template'} (`- [x] Tests run`) and tick them",
            ("body",),
        )
        return
    for keyword in required:
        if not any(mentions(item, keyword) for item in pr.checklist):
            yield Violation(
                f'the PR checklist has no item about "{keyword}" (required: '
                f"{', '.join(required)}): add it as a task-list item and tick it",
                ("body",),
            )
    for index, item in enumerate(pr.checklist):
        if not item.checked:
            yield Violation(
                f'checklist item "{item.text}" (line {item.line} of the description) is not '
                "ticked: complete the step, then tick the box",
                ("checklist", index),
                snippet=item.raw,
            )
