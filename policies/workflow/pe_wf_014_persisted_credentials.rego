# METADATA
# title: actions/checkout does not leave its token on disk in jobs that upload artifacts
# description: >-
#   `actions/checkout` writes the job's token into `.git/config` unless told
#   `persist-credentials: false`. A job that then uploads its workspace (or `.git`) as an
#   artifact publishes that token to everyone who can download artifacts - on a public
#   repository, everyone ("ArtiPACKED"). Reported: a checkout without
#   `persist-credentials: false` in a job with a later `actions/upload-artifact` step.
#   Jobs that upload nothing are not reported (the token on disk is then only a risk to
#   the job's own steps).
# related_resources:
#   - ref: https://unit42.paloaltonetworks.com/github-repo-artifacts-leak-tokens/
# custom:
#   id: PE-WF-014
#   severity: high
#   kinds: [workflow, action]
#   source: "seed 003 (secrets management)"
#   remediation: >-
#     Add `with: {persist-credentials: false}` to the checkout; if a later step must push,
#     give it the token explicitly (`git push https://x-access-token:${GH_TOKEN}@...`).
package pe.workflow.persisted_credentials

import data.pe.workflow.lib.steps.named_steps
import data.pe.workflow.lib.steps.used_actions
import rego.v1

uploads[job] contains s.index if {
	some [name, s] in named_steps
	name == "actions/upload-artifact"
	job := s.job
}

deny contains {"msg": msg, "path": array.concat(s.path, ["uses"])} if {
	"actions/upload-artifact" in used_actions # (most workflows upload nothing)
	some [name, s] in named_steps
	name == "actions/checkout"
	persists(s.step)
	some later in uploads[s.job]
	later > s.index
	msg := sprintf(
		"`actions/checkout` keeps the job's token in .git/config and step #%d uploads an artifact from this job: set `persist-credentials: false` on the checkout",
		[later + 1],
	)
}

persists(step) if lower(sprintf("%v", [object.get(object.get(step, "with", {}), "persist-credentials", true)])) != "false"
