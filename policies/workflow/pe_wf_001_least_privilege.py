"""PE-WF-001: the GITHUB_TOKEN gets only the scopes a job needs."""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.workflow import Permissions, Workflow


def _write_scopes(permissions: Permissions | None) -> list[str]:
    if isinstance(permissions, dict):
        return sorted(scope for scope, level in permissions.items() if str(level) == "write")
    return []


@rule(
    "PE-WF-001",
    severity="high",
    kinds=["workflow"],
    title="Least-privilege GITHUB_TOKEN permissions",
    description=(
        "Without a `permissions` block a job's token gets the repository default, which on many "
        "organisations is read/write on everything. Declare permissions at the workflow level "
        "(ideally `{}` or read-only) and grant write scopes only on the jobs that need them. "
        "Reported: `write-all` anywhere; workflow-level write scopes inherited by more than one "
        "job (jobs with their own `permissions` do not inherit); jobs with no permissions at all. "
        "A reusable workflow (triggered only by `workflow_call`) inherits its caller's token, so "
        "only `write-all` is reported there; a job calling a reusable workflow is judged like any "
        "other job, since the called workflow gets that job's token."
    ),
    remediation=(
        "Add `permissions: {}` (or `contents: read`) at the top of the workflow and, on the job "
        "that must write, only the scope it needs, e.g. `permissions: {contents: read, "
        "packages: write}`. Never use `write-all`."
    ),
    source="seed 003 (least privilege), seed 001",
)
def least_privilege(workflow: Workflow, ctx: RuleContext) -> Iterator[Violation]:
    inheriting = [job_id for job_id, job in workflow.jobs.items() if job.permissions is None]
    if workflow.permissions == "write-all":
        yield Violation(
            "workflow grants `permissions: write-all` to every job: declare only the scopes "
            "each job needs",
            ("permissions",),
        )
    elif len(inheriting) > 1 and _write_scopes(workflow.permissions):
        scopes = ", ".join(_write_scopes(workflow.permissions))
        yield Violation(
            f"workflow-level permissions grant write ({scopes}) to {len(inheriting)} jobs "
            f"({', '.join(inheriting)}): move write scopes to the job that needs them and keep "
            "the workflow level read-only",
            ("permissions",),
        )
    called_only = set(workflow.triggers) == {"workflow_call"}
    for job_id, job in workflow.jobs.items():
        if job.permissions == "write-all":
            yield Violation(
                f"job '{job_id}' uses `permissions: write-all`: list only the scopes it needs",
                ("jobs", job_id, "permissions"),
            )
        elif job.permissions is None and workflow.permissions is None and not called_only:
            yield Violation(
                f"job '{job_id}' has no `permissions` and the workflow declares none, so its "
                "token gets the repository default (possibly write on everything): declare "
                "`permissions:` on the workflow or the job",
                ("jobs", job_id),
            )
