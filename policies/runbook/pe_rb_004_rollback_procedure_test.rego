package pe.runbook.rollback_procedure_test

import data.pe.runbook.rollback_procedure
import rego.v1

test_described_rollback_is_allowed if {
	count(rollback_procedure.deny) == 0 with input as {"rollback": {"heading": "Rollback Plan", "empty": false, "steps": 3}}
}

test_missing_rollback_is_denied_at_the_document if {
	results := rollback_procedure.deny with input as {"story_id": "PE-12"}
	count(results) == 1
	some r in results
	r.path == []
}

test_empty_rollback_section_is_denied_at_the_section if {
	results := rollback_procedure.deny with input as {"rollback": {"heading": "Rollback Plan", "empty": true, "steps": 0}}
	count(results) == 1
	some r in results
	r.path == ["rollback"]
	contains(r.msg, "Rollback Plan")
}

test_placeholder_rollback_is_denied if {
	results := rollback_procedure.deny with input as {"rollback": {"heading": "Rollback", "empty": false, "placeholder": "TBD"}}
	count(results) == 1
}
