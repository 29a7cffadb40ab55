package pe.runbook.required_sections_test

import data.pe.runbook.required_sections
import rego.v1

params := {"runbook_required_sections": ["Goal Description", "Verification Plan"]}

filled(heading) := {"heading": heading, "key": lower(heading), "empty": false}

test_present_and_filled_is_allowed if {
	doc := {"sections": [filled("Goal Description"), filled("Verification Plan")]}
	count(required_sections.deny) == 0 with input as doc with data.pe.params as params
}

test_missing_section_is_denied_at_the_document if {
	results := required_sections.deny with input as {"sections": [filled("Goal Description")]}
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == []
	contains(r.msg, "Verification Plan")
}

test_empty_section_is_denied_at_the_section if {
	empty := object.union(filled("Verification Plan"), {"empty": true})
	results := required_sections.deny with input as {"sections": [filled("Goal Description"), empty]}
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["sections", 1]
}

test_placeholder_is_denied if {
	template := object.union(filled("Goal Description"), {"placeholder": "<Summary of what changes>"})
	results := required_sections.deny with input as {"sections": [template, filled("Verification Plan")]}
		with data.pe.params as params
	count(results) == 1
	some r in results
	contains(r.msg, "<Summary of what changes>")
}
