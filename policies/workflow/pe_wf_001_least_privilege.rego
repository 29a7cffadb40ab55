# METADATA
# title: Least-privilege GITHUB_TOKEN permissions
# description: >-
#   Without a `permissions` block a job's token gets the repository default, which on many
#   organisations is read/write on everything. Declare permissions at the workflow level
#   (ideally `{}` or read-only) and grant write scopes only on the jobs that need them.
#   Reported: `write-all` anywhere; workflow-level write scopes inherited by more than one
#   job (jobs with their own `permissions` do not inherit); jobs with no permissions at all.
#   A reusable workflow (triggered only by `workflow_call`) inherits its caller's token, so
#   only `write-all` is reported there; a job calling a reusable workflow is judged like any
#   other job, since the called workflow gets that job's token.
# custom:
#   id: PE-WF-001
#   severity: high
#   kinds: [workflow]
#   source: "seed 003 (least privilege), seed 001"
#   remediation: >-
#     Add `permissions: {}` (or `contents: read`) at the top of the workflow and, on the job
#     that must write, only the scope it needs, e.g. `permissions: {contents: read,
#     packages: write}`. Never use `write-all`.
package pe.workflow.least_privilege

import data.pe.workflow.lib.pipeline.triggers
import rego.v1

jobs := object.get(input, "jobs", {})

# jobs that take the workflow's permissions (no `permissions` of their own), in id order
inheriting := sort([job_id | some job_id, job in jobs; not has_permissions(job)])

has_permissions(job) if job.permissions != null

default write_scopes := []

write_scopes := sort([scope | some scope, level in input.permissions; level == "write"]) if is_object(input.permissions)

deny contains {"msg": msg, "path": ["permissions"]} if {
	input.permissions == "write-all"
	msg := "workflow grants `permissions: write-all` to every job: declare only the scopes each job needs"
}

deny contains {"msg": msg, "path": ["permissions"]} if {
	input.permissions != "write-all"
	count(inheriting) > 1
	count(write_scopes) > 0
	msg := sprintf(
		"workflow-level permissions grant write (%s) to %d jobs (%s): move write scopes to the job that needs them and keep the workflow level read-only",
		[concat(", ", write_scopes), count(inheriting), concat(", ", inheriting)],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "permissions"]} if {
	some job_id, job in jobs
	job.permissions == "write-all"
	msg := sprintf("job '%s' uses `permissions: write-all`: list only the scopes it needs", [job_id])
}

deny contains {"msg": msg, "path": ["jobs", job_id]} if {
	not has_permissions(input)
	triggers != {"workflow_call"}
	some job_id, job in jobs
	not has_permissions(job)
	msg := sprintf(
		"job '%s' has no `permissions` and the workflow declares none, so its token gets the repository default (possibly write on everything): declare `permissions:` on the workflow or the job",
		[job_id],
	)
}
