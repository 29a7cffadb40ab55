# METADATA
# title: Runbook accepted before it is executed
# description: >-
#   `agent new-runbook` writes `Status: PROPOSED`; the team changes it to
#   `Status: ACCEPTED` once it has reviewed the runbook. A PROPOSED runbook is a
#   plan nobody has approved yet, so it must not be executed.
# custom:
#   id: PE-RB-001
#   severity: high
#   kinds: [runbook]
#   source: "seed 004 (workflow: Review, Accept, Execute)"
#   remediation: >-
#     Review the runbook with the team, then change the line under the title to
#     `Status: ACCEPTED`.
package pe.runbook.status_accepted

import rego.v1

accepted(status) if {
	some name in data.pe.params.runbook_accepted_statuses
	upper(name) == upper(status)
}

accepted_text := concat(" or ", data.pe.params.runbook_accepted_statuses)

deny contains {"msg": msg, "path": ["status"]} if {
	is_string(input.status)
	not accepted(input.status)
	msg := sprintf(
		"runbook status is %s, not %s: have the team review it and change the status line before executing it",
		[input.status, accepted_text],
	)
}

deny contains {"msg": msg, "path": []} if {
	not input.status
	msg := sprintf(
		"runbook has no `Status:` line: add `Status: PROPOSED` under the title and change it to %s once the team has reviewed it",
		[accepted_text],
	)
}
