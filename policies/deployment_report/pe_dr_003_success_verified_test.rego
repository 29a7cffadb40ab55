package pe.deployment_report.success_verified_test

import data.pe.deployment_report.success_verified
import rego.v1

passing := [{"name": "Health endpoint", "status": "PASS"}, {"name": "Error rate", "status": "PASS"}]

report(status, verification, timeline) := {
	"front_matter": {"status": status},
	"verification": verification,
	"timeline": timeline,
}

test_all_pass_is_allowed if {
	doc := report("success", passing, [{"name": "Started deployment", "status": ""}, {"name": "Smoke tests", "status": "PASS"}])
	count(success_verified.deny) == 0 with input as doc
}

test_failed_check_is_denied_at_its_status if {
	doc := report("success", [passing[0], {"name": "Error rate", "status": "FAIL"}], [])
	results := success_verified.deny with input as doc
	count(results) == 1
	some r in results
	r.path == ["verification", 1, "status"]
	contains(r.msg, "Error rate")
}

test_failed_step_is_denied if {
	doc := report("success", passing, [{"name": "Migrations run", "status": "FAILED"}])
	results := success_verified.deny with input as doc
	count(results) == 1
	some r in results
	r.path == ["timeline", 0, "status"]
}

test_failures_are_fine_when_the_report_says_failed if {
	doc := report("failed", [{"name": "Error rate", "status": "FAIL"}], [])
	count(success_verified.deny) == 0 with input as doc
}

test_blank_check_status_is_denied if {
	doc := report("success", [{"name": "P95 latency"}], [])
	count(success_verified.deny) == 1 with input as doc
}

test_success_without_checks_is_denied if {
	doc := object.union(report("success", [], []), {"sections": [{"key": "summary"}, {"key": "verification results"}]})
	results := success_verified.deny with input as doc
	count(results) == 1
	some r in results
	r.path == ["sections", 1]
}

test_summary_status_used_without_front_matter_status if {
	doc := {"summary": {"status": "SUCCESS"}, "verification": [{"name": "Health", "status": "FAIL"}]}
	count(success_verified.deny) == 1 with input as doc
}
