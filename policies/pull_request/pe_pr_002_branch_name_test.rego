package pe.pull_request.branch_name_test

import data.pe.pull_request.branch_name
import rego.v1

patterns := [
	`^[a-z0-9][a-z0-9-]*/[A-Z][A-Z0-9]*-\d+-[a-z0-9][a-z0-9-]*$`,
	`^release/v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$`,
	`^hotfix/[A-Z][A-Z0-9]*-\d+(?:-[a-z0-9-]+)?$`,
]

pr(ref) := {"head_ref": ref, "unknown": {}}

test_feature_release_and_hotfix_branches_pass if {
	every ref in ["gateway/PE-12-bootstrap-fastapi", "release/1.4.0", "release/v2.0.0-rc.1", "hotfix/PE-57"] {
		count(branch_name.deny) == 0 with input as pr(ref) with data.pe.params.branch_patterns as patterns
	}
}

test_free_form_branch_is_denied_at_head_ref if {
	results := branch_name.deny with input as pr("fix-login-redirect") with data.pe.params.branch_patterns as patterns
	count(results) == 1
	some r in results
	r.path == ["head_ref"]
	contains(r.msg, `"fix-login-redirect"`)
}

test_branch_without_issue_id_is_denied if {
	every ref in ["gateway/bootstrap-fastapi", "release/latest"] {
		count(branch_name.deny) == 1 with input as pr(ref) with data.pe.params.branch_patterns as patterns
	}
}

test_unknown_branch_is_reported_as_info if {
	results := branch_name.deny with input as {"unknown": {"head_ref": "a git range has no PR head ref"}}
		with data.pe.params.branch_patterns as patterns
	count(results) == 1
	some r in results
	r.severity == "info"
	startswith(r.msg, "could not be evaluated")
}
