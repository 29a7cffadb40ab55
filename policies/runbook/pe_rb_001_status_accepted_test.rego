package pe.runbook.status_accepted_test

import data.pe.runbook.status_accepted
import rego.v1

params := {"runbook_accepted_statuses": ["ACCEPTED"]}

test_proposed_is_denied if {
	results := status_accepted.deny with input as {"status": "PROPOSED"} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["status"]
	contains(r.msg, "PROPOSED")
}

test_accepted_is_allowed if {
	count(status_accepted.deny) == 0 with input as {"status": "ACCEPTED"} with data.pe.params as params
}

test_case_does_not_matter if {
	count(status_accepted.deny) == 0 with input as {"status": "accepted"} with data.pe.params as params
}

test_missing_status_points_at_the_document if {
	results := status_accepted.deny with input as {"story_id": "PE-12"} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == []
}

test_statuses_are_a_parameter if {
	count(status_accepted.deny) == 0 with input as {"status": "APPROVED"}
		with data.pe.params as {"runbook_accepted_statuses": ["ACCEPTED", "APPROVED"]}
}
