package pe.deployment_report.summary_status_test

import data.pe.deployment_report.summary_status
import rego.v1

test_matching_status_is_allowed if {
	count(summary_status.deny) == 0 with input as {"front_matter": {"status": "rolled_back"}, "summary": {"status": "ROLLED_BACK"}}
}

test_spelling_variants_match if {
	count(summary_status.deny) == 0 with input as {"front_matter": {"status": "rolled_back"}, "summary": {"status": "Rolled back"}}
}

test_mismatch_is_denied_at_the_summary_status if {
	results := summary_status.deny with input as {"front_matter": {"status": "rolled_back"}, "summary": {"status": "SUCCESS"}}
	count(results) == 1
	some r in results
	r.path == ["summary", "status"]
	contains(r.msg, "ROLLED_BACK")
}

test_summary_without_status_is_denied if {
	results := summary_status.deny with input as {"front_matter": {"status": "success"}, "summary": {"line": 14}}
	count(results) == 1
	some r in results
	r.path == ["summary"]
}

test_nothing_to_compare_without_front_matter_status if {
	count(summary_status.deny) == 0 with input as {"front_matter": {}, "summary": {"status": "SUCCESS"}}
}
