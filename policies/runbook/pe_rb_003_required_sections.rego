# METADATA
# title: Runbook sections present and filled in
# description: >-
#   A runbook must be detailed enough for an engineer to implement without
#   ambiguity: it needs a Goal Description, a Compliance Checklist, the
#   Proposed Changes and a Verification Plan, each with real content rather than
#   the generator's template placeholders.
# custom:
#   id: PE-RB-003
#   severity: medium
#   kinds: [runbook]
#   source: "seed 004 (output format)"
#   remediation: >-
#     Add the missing `## <Section>` heading, or replace the placeholder under it
#     with the actual content.
package pe.runbook.required_sections

import rego.v1

hints := {
	"goal description": "summarise what changes and why",
	"compliance checklist": "list the six panel approvals as `- [ ] @<Role> approved?`",
	"proposed changes": "list each file as `[MODIFY]`, `[NEW]` or `[DELETE]` with what changes in it",
	"verification plan": "say how the change is tested (commands, test cases, checks)",
}

hint(key) := hints[key]

hint(key) := "fill it in" if not hints[key]

first_index(key) := min({j | input.sections[j].key == key})

deny contains {"msg": msg, "path": []} if {
	some name in data.pe.params.runbook_required_sections
	key := lower(trim_space(name))
	not first_index(key)
	msg := sprintf("runbook has no `## %s` section: add it and %s", [name, hint(key)])
}

deny contains {"msg": msg, "path": ["sections", j]} if {
	some name in data.pe.params.runbook_required_sections
	key := lower(trim_space(name))
	j := first_index(key)
	input.sections[j].empty == true
	msg := sprintf("section `%s` is empty: %s", [input.sections[j].heading, hint(key)])
}

deny contains {"msg": msg, "path": ["sections", j]} if {
	some name in data.pe.params.runbook_required_sections
	key := lower(trim_space(name))
	j := first_index(key)
	placeholder := input.sections[j].placeholder
	msg := sprintf(
		"section `%s` still holds the template placeholder %q: replace it and %s",
		[input.sections[j].heading, placeholder, hint(key)],
	)
}
