package pe.deployment_report.rollback_consistent_test

import data.pe.deployment_report.rollback_consistent
import rego.v1

doc(status, rollback) := {"front_matter": {"status": status}, "rollback": rollback}

test_rolled_back_with_reason_is_allowed if {
	count(rollback_consistent.deny) == 0 with input as doc("rolled_back", {"required": true, "reason": "P95 latency 2.4x baseline"})
}

test_rolled_back_without_reason_is_denied if {
	results := rollback_consistent.deny with input as doc("rolled_back", {"required": true})
	count(results) == 1
	some r in results
	r.path == ["rollback"]
}

test_rolled_back_but_not_required_is_denied_twice if {
	results := rollback_consistent.deny with input as doc("rolled_back", {"required": false})
	count(results) == 2
}

test_rolled_back_without_section_is_denied if {
	results := rollback_consistent.deny with input as {"front_matter": {"status": "rolled_back"}}
	count(results) == 1
	some r in results
	r.path == []
}

test_success_with_rollback_required_is_denied if {
	results := rollback_consistent.deny with input as doc("success", {"required": true})
	count(results) == 1
	some r in results
	r.path == ["rollback", "required"]
}

test_success_without_rollback_is_allowed if {
	count(rollback_consistent.deny) == 0 with input as doc("success", {"required": false})
}
