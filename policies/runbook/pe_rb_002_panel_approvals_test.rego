package pe.runbook.panel_approvals_test

import data.pe.runbook.panel_approvals
import rego.v1

params := {"runbook_required_approvals": ["Security", "QA"]}

section := {"key": "compliance checklist", "heading": "Compliance Checklist", "level": 2}

item(role, checked) := {"text": sprintf("@%s approved?", [role]), "checked": checked, "mentions": [role], "section": "compliance checklist"}

test_all_ticked_is_allowed if {
	doc := {"sections": [section], "checklist": [item("Security", true), item("QA", true)]}
	count(panel_approvals.deny) == 0 with input as doc with data.pe.params as params
}

test_unticked_box_is_denied_at_the_item if {
	doc := {"sections": [section], "checklist": [item("Security", true), item("QA", false)]}
	results := panel_approvals.deny with input as doc with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["checklist", 1]
	contains(r.msg, "@QA")
}

test_missing_role_is_denied_at_the_section if {
	doc := {"sections": [{"key": "goal description"}, section], "checklist": [item("Security", true)]}
	results := panel_approvals.deny with input as doc with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["sections", 1]
}

test_ticks_outside_the_checklist_do_not_count if {
	elsewhere := object.union(item("QA", true), {"section": "verification plan"})
	doc := {"sections": [section], "checklist": [item("Security", true), elsewhere]}
	results := panel_approvals.deny with input as doc with data.pe.params as params
	count(results) == 1
}

test_no_checklist_section if {
	results := panel_approvals.deny with input as {"sections": [], "checklist": []} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == []
}
