# METADATA
# title: Actions and reusable workflows pinned to a full commit SHA
# description: >-
#   A tag or branch of a third-party action can be moved to different code at
#   any time; only a full 40-hex commit SHA names exactly the code that runs
#   with your secrets. Local actions (./path) are exempt.
# related_resources:
#   - ref: https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
# custom:
#   id: PE-WF-002
#   severity: high
#   kinds: [workflow, action]
#   source: "seed 002 (security gates), seed 003 (security)"
#   remediation: >-
#     Replace the tag with the commit SHA it points to and keep the tag as a
#     comment: `uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2`.
package pe.workflow.pinned_actions

import rego.v1

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", i, "uses"]} if {
	some job_id, job in input.jobs
	some i, step in job.steps
	not pinned(step.uses)
	msg := unpinned_message("action", step.uses)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "uses"]} if {
	some job_id, job in input.jobs
	not pinned(job.uses)
	msg := unpinned_message("reusable workflow", job.uses)
}

deny contains {"msg": msg, "path": ["runs", "steps", i, "uses"]} if {
	some i, step in input.runs.steps
	not pinned(step.uses)
	msg := unpinned_message("action", step.uses)
}

unpinned_message(what, uses) := sprintf(
	"%s %q is not pinned to a full commit SHA: pin it as %s@<40-hex-sha> # %s",
	[what, uses, split(uses, "@")[0], ref_of(uses)],
)

ref_of(uses) := split(uses, "@")[1] if count(split(uses, "@")) == 2

ref_of(uses) := "<tag>" if count(split(uses, "@")) != 2

pinned(uses) if startswith(uses, "./")

pinned(uses) if {
	startswith(uses, "docker://")
	contains(uses, "@sha256:")
}

pinned(uses) if {
	parts := split(uses, "@")
	count(parts) == 2
	regex.match(`^[0-9a-f]{40}$`, parts[1])
}
