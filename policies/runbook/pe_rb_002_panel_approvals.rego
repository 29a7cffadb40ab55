# METADATA
# title: All six panel approvals ticked in the compliance checklist
# description: >-
#   The runbook is produced by an AI governance panel; its Compliance Checklist
#   records each member's sign-off (@Security, @Architect, @QA, @Docs,
#   @Compliance, @Observability). An unticked or missing box means that review
#   has not happened.
# custom:
#   id: PE-RB-002
#   severity: high
#   kinds: [runbook]
#   source: "seed 004 (generation process, output format)"
#   remediation: >-
#     Get the missing reviews and tick their boxes under `## Compliance Checklist`,
#     one `- [x] @<Role> approved?` line per role.
package pe.runbook.panel_approvals

import rego.v1

checklist_key := "compliance checklist"

required := data.pe.params.runbook_required_approvals

section_index := min({j | input.sections[j].key == checklist_key})

panel_items contains i if {
	some i, item in input.checklist
	item.section == checklist_key
}

for_role(item, role) if {
	some name in item.mentions
	lower(name) == lower(role)
}

approved(role) if {
	some i in panel_items
	item := input.checklist[i]
	for_role(item, role)
	item.checked == true
}

listed(role) if {
	some i in panel_items
	for_role(input.checklist[i], role)
}

deny contains {"msg": msg, "path": ["checklist", i]} if {
	some role in required
	not approved(role)
	some i in panel_items
	item := input.checklist[i]
	for_role(item, role)
	msg := sprintf(
		"@%s has not approved the runbook: the box `%s` is not ticked; get the review, then tick it (`- [x]`)",
		[role, item.text],
	)
}

deny contains {"msg": msg, "path": ["sections", section_index]} if {
	some role in required
	not listed(role)
	msg := sprintf(
		"Compliance Checklist has no item for @%s: add `- [ ] @%s approved?` and tick it once @%s has reviewed the runbook",
		[role, role, role],
	)
}

deny contains {"msg": msg, "path": []} if {
	not section_index
	roles := [sprintf("@%s", [role]) | some role in required]
	msg := sprintf(
		"runbook has no `## Compliance Checklist`: add it with a ticked `- [x] @<Role> approved?` item for each of %s",
		[concat(", ", roles)],
	)
}
