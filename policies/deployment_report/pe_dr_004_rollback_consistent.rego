# METADATA
# title: Rollback section consistent with the report's status
# description: >-
#   A `rolled_back` report must say why the rollback happened, or the failure
#   cannot be triaged; a `success` report that also says `Rollback required:
#   Yes` contradicts itself, and one of the two statements is false.
# custom:
#   id: PE-DR-004
#   severity: high
#   kinds: [deployment_report]
#   source: "seed 003 (rollback procedures; handling deployment failures)"
#   remediation: >-
#     Under `## Rollback Status` write `- Rollback required: Yes` and
#     `- If yes: <what failed, what was restored>` for a rolled-back deployment,
#     or make the status and the rollback line agree.
package pe.deployment_report.rollback_consistent

import rego.v1

status := lower(input.front_matter.status) if is_string(input.front_matter.status)

deny contains {"msg": msg, "path": []} if {
	status == "rolled_back"
	not input.rollback
	msg := "status is rolled_back but the report has no `## Rollback Status` section: add it with `- Rollback required: Yes` and the reason"
}

deny contains {"msg": msg, "path": ["rollback", "required"]} if {
	status == "rolled_back"
	input.rollback.required == false
	msg := "`Rollback required: No` contradicts `status: rolled_back`: correct whichever is wrong"
}

deny contains {"msg": msg, "path": ["rollback"]} if {
	status == "rolled_back"
	input.rollback
	not input.rollback.reason
	msg := "status is rolled_back but the Rollback Status gives no reason: add `- If yes: <what failed and what was restored>`"
}

deny contains {"msg": msg, "path": ["rollback", "required"]} if {
	status == "success"
	input.rollback.required == true
	msg := "`Rollback required: Yes` contradicts `status: success`: a rolled-back deployment is `status: rolled_back`; correct whichever is wrong"
}
