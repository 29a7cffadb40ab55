package pe.pull_request.branch_name_test

import data.pe.pull_request.branch_name
import rego.v1

patterns := [
	`^[a-z0-9][a-z0-9-]*/[A-Z][A-Z0-9]*-\d+-[a-z0-9][a-z0-9-]*$`,
	`^release/v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$`,
	`^hotfix/[A-Z][A-Z0-9]*-\d+(?:-[a-z0-9-]+)?$`,
]

deny_for(ref) := results if {
	results := branch_name.deny with input as {"head_ref": ref, "unknown": {}}
		with data.pe.params.branch_patterns as patterns
}

test_feature_release_and_hotfix_branches_pass if {
	count(deny_for("gateway/PE-12-bootstrap-fastapi")) == 0
	count(deny_for("release/1.4.0")) == 0
	count(deny_for("release/v2.0.0-rc.1")) == 0
	count(deny_for("hotfix/PE-57")) == 0
}

test_free_form_branch_is_denied_at_head_ref if {
	results := deny_for("fix-login-redirect")
	count(results) == 1
	some r in results
	r.path == ["head_ref"]
	contains(r.msg, `"fix-login-redirect"`)
}

test_branch_without_issue_id_is_denied if {
	count(deny_for("gateway/bootstrap-fastapi")) == 1
	count(deny_for("release/latest")) == 1
}

test_unknown_branch_is_reported_as_info if {
	results := branch_name.deny with input as {"unknown": {"head_ref": "a git range has no PR head ref"}}
		with data.pe.params.branch_patterns as patterns
	count(results) == 1
	some r in results
	r.severity == "info"
	startswith(r.msg, "could not be evaluated")
}
