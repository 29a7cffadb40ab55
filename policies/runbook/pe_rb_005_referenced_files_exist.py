"""PE-RB-005: files a runbook says it will modify or delete exist in the repository."""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.runbook import Runbook


@rule(
    "PE-RB-005",
    severity="low",
    kinds=["runbook"],
    title="Files to modify or delete exist",
    description=(
        "A `[MODIFY]` or `[DELETE]` entry under Proposed Changes must name a file that exists: "
        "a wrong path means the runbook was written against a different version of the code, "
        "or the change will land somewhere nobody reviewed. Paths are looked up beside the "
        "runbook and in each parent directory up to the repository root; `./` and `../` paths "
        "are relative to the runbook."
    ),
    remediation=(
        "Correct the path (relative to the repository root), or mark a file that does not "
        "exist yet as `[NEW]`."
    ),
    source="seed 004 (output format: Proposed Changes)",
)
def referenced_files_exist(runbook: Runbook, ctx: RuleContext) -> Iterator[Violation]:
    for index, change in enumerate(runbook.changes):
        if change.action == "NEW":
            continue
        if not change.candidates:
            yield Violation(
                f"[{change.action}] {change.path}: the path is absolute or outside the repository, "
                "so it cannot be checked: name the file relative to the repository root",
                ("changes", index),
            )
        elif not any(ctx.file_exists(candidate) for candidate in change.candidates):
            yield Violation(
                f"[{change.action}] {change.path}: no such file beside the runbook or in any "
                "parent directory up to the repository root: fix the path, or mark the file "
                "[NEW] if the runbook creates it",
                ("changes", index),
            )
