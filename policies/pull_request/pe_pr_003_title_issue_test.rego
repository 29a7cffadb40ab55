package pe.pull_request.title_issue_test

import data.pe.pull_request.title_issue
import rego.v1

pattern := `^\[[A-Z][A-Z0-9]*-\d+\] \S.*$`

pr(title, ref) := {"title": title, "head_ref": ref, "unknown": {}}

test_title_with_issue_passes if {
	count(title_issue.deny) == 0 with input as pr("[PE-12] Gateway bootstrap", "gateway/PE-12-bootstrap-fastapi") with data.pe.params.title_pattern as pattern
}

test_title_without_issue_is_denied if {
	results := title_issue.deny with input as pr("Fix login redirect loop", "fix-login-redirect") with data.pe.params.title_pattern as pattern
	count(results) == 1
	some r in results
	r.path == ["title"]
}

test_issue_must_lead_the_title if {
	count(title_issue.deny) == 1 with input as pr("Gateway bootstrap [PE-12]", "gateway/PE-12-bootstrap-fastapi") with data.pe.params.title_pattern as pattern
}

test_title_and_branch_naming_different_issues_is_denied if {
	results := title_issue.deny with input as pr("[PE-45] Agent dispatch labels", "agent/PE-44-dispatch-labels") with data.pe.params.title_pattern as pattern
	count(results) == 1
	some r in results
	contains(r.msg, "PE-44")
}

test_release_branch_has_no_issue_to_compare if {
	count(title_issue.deny) == 0 with input as pr("[PE-70] Release 1.5.0", "release/1.5.0") with data.pe.params.title_pattern as pattern
}

test_unknown_title_is_info if {
	results := title_issue.deny with input as {"head_ref": "x", "unknown": {"title": "no title"}}
		with data.pe.params.title_pattern as pattern
	[r | some r in results; r.severity == "info"] == [r | some r in results]
	count(results) == 1
}
