package pe.pull_request.title_issue_test

import data.pe.pull_request.title_issue
import rego.v1

pattern := `^\[[A-Z][A-Z0-9]*-\d+\] \S.*$`

deny_for(title, ref) := results if {
	results := title_issue.deny with input as {"title": title, "head_ref": ref, "unknown": {}}
		with data.pe.params.title_pattern as pattern
}

test_title_with_issue_passes if {
	count(deny_for("[PE-12] Gateway bootstrap", "gateway/PE-12-bootstrap-fastapi")) == 0
}

test_title_without_issue_is_denied if {
	results := deny_for("Fix login redirect loop", "fix-login-redirect")
	count(results) == 1
	some r in results
	r.path == ["title"]
}

test_issue_must_lead_the_title if {
	count(deny_for("Gateway bootstrap [PE-12]", "gateway/PE-12-bootstrap-fastapi")) == 1
}

test_title_and_branch_naming_different_issues_is_denied if {
	results := deny_for("[PE-45] Agent dispatch labels", "agent/PE-44-dispatch-labels")
	count(results) == 1
	some r in results
	contains(r.msg, "PE-44")
}

test_release_branch_has_no_issue_to_compare if {
	count(deny_for("[PE-70] Release 1.5.0", "release/1.5.0")) == 0
}

test_unknown_title_is_info if {
	results := title_issue.deny with input as {"head_ref": "x", "unknown": {"title": "no title"}}
		with data.pe.params.title_pattern as pattern
	[r | some r in results; r.severity == "info"] == [r | some r in results]
	count(results) == 1
}
