# METADATA
# title: Runbook describes how to roll the change back
# description: >-
#   Every deployment must be rollback-capable. A runbook that only says how to
#   go forward leaves whoever is on call to invent the way back during an
#   incident. Describe it in a section whose heading names rollback, revert or
#   back-out, or at least in a `Rollback:` line.
# custom:
#   id: PE-RB-004
#   severity: medium
#   kinds: [runbook]
#   source: "seed 003 (reversibility, rollback procedures)"
#   remediation: >-
#     Add `## Rollback Plan` with the steps to undo the change (revert the
#     commit or redeploy the previous version, run the migration's downgrade,
#     restore traffic) and how to verify the rollback worked.
package pe.runbook.rollback_procedure

import rego.v1

deny contains {"msg": msg, "path": []} if {
	not input.rollback
	msg := "runbook describes no rollback procedure: add a `## Rollback Plan` section with the steps to undo the change (revert or redeploy the previous version, migration downgrade) and how to verify it"
}

deny contains {"msg": msg, "path": ["rollback"]} if {
	input.rollback.empty == true
	msg := sprintf("section `%s` is empty: list the steps to undo the change and how to verify the rollback", [input.rollback.heading])
}

deny contains {"msg": msg, "path": ["rollback"]} if {
	placeholder := input.rollback.placeholder
	msg := sprintf(
		"rollback procedure is only the placeholder %q: list the steps to undo the change and how to verify the rollback",
		[placeholder],
	)
}
