# METADATA
# title: Actions and reusable workflows pinned to a full commit SHA
# description: >-
#   A tag or branch of a third-party action can be moved to different code at
#   any time; only a full 40-hex commit SHA names exactly the code that runs
#   with your secrets. Checked: step `uses:` in workflows and composite actions,
#   reusable-workflow calls (`jobs.<id>.uses`) and Docker actions' `runs.image`.
#   GitHub's own actions (`actions/*`) are included: their tags move too.
#   Local actions and workflows (`./path`) are exempt; `docker://` images must
#   carry an `@sha256:<64-hex>` digest.
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

deny contains {"msg": unpinned_message(step.uses), "path": ["jobs", job_id, "steps", i, "uses"]} if {
	some job_id, job in input.jobs
	some i, step in job.steps
	is_string(step.uses)
	not pinned(step.uses)
}

deny contains {"msg": unpinned_message(job.uses), "path": ["jobs", job_id, "uses"]} if {
	some job_id, job in input.jobs
	is_string(job.uses)
	not pinned(job.uses)
}

deny contains {"msg": unpinned_message(step.uses), "path": ["runs", "steps", i, "uses"]} if {
	some i, step in input.runs.steps
	is_string(step.uses)
	not pinned(step.uses)
}

deny contains {"msg": unpinned_message(input.runs.image), "path": ["runs", "image"]} if {
	is_string(input.runs.image)
	startswith(input.runs.image, "docker://")
	not pinned(input.runs.image)
}

# (helpers with exclusive cases are `else` chains, and `parts` is bound in the body:
# regorus evaluates every body of a function on each call, and is slow to index a
# call's result such as `split(uses, "@")[0]`)
unpinned_message(uses) := sprintf(
	"docker image %q is not pinned by digest: pin it as %s@sha256:<digest>",
	[uses, parts[0]],
) if {
	startswith(uses, "docker://")
	parts := split(uses, "@")
} else := sprintf(
	"%s %q is not pinned to a full commit SHA: pin it as %s@<40-hex-sha> # %s",
	[kind_of(uses), uses, parts[0], ref_of(parts)],
) if {
	parts := split(uses, "@")
}

kind_of(uses) := "reusable workflow" if {
	contains(uses, "/.github/workflows/")
} else := "action"

# the ref after `@`, given the `@`-separated parts of `uses`
ref_of(parts) := parts[1] if {
	count(parts) == 2
} else := "<tag>"

# a full commit SHA (the usual case first: the `else` chain stops at the first that holds),
# a local action, or a docker image pinned by digest
pinned(written) if {
	uses := trim_space(written) # a block scalar (`uses: >-`) keeps its line break
	parts := split(uses, "@")
	count(parts) == 2
	count(parts[1]) == 40
	trim(parts[1], "0123456789abcdef") == "" # 40 hex digits
	not startswith(uses, "docker://")
} else if {
	startswith(trim_space(written), "./")
} else if {
	startswith(written, "docker://")
	regex.match(`@sha256:[0-9a-f]{64}$`, trim_space(written))
}
