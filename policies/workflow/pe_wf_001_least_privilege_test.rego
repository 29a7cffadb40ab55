package pe.workflow.least_privilege_test

import data.pe.workflow.least_privilege
import rego.v1

test_workflow_write_all_is_denied_at_permissions if {
	results := least_privilege.deny with input as {"on": "push", "permissions": "write-all", "jobs": {"a": {}}}
	count(results) == 1
	some r in results
	r.path == ["permissions"]
}

test_job_write_all_is_denied_at_the_job if {
	results := least_privilege.deny with input as {"on": "push", "permissions": {}, "jobs": {"a": {"permissions": "write-all"}}}
	{r.path | some r in results} == {["jobs", "a", "permissions"]}
}

test_write_scopes_inherited_by_two_jobs_are_denied_naming_them_in_order if {
	results := least_privilege.deny with input as {
		"on": "push",
		"permissions": {"pull-requests": "write", "contents": "write", "checks": "read"},
		"jobs": {"update": {}, "open": {}, "own": {"permissions": {}}},
	}
	count(results) == 1
	some r in results
	contains(r.msg, "grant write (contents, pull-requests) to 2 jobs (open, update)")
}

test_write_scopes_inherited_by_one_job_are_allowed if {
	count(least_privilege.deny) == 0 with input as {"on": "push", "permissions": {"contents": "write"}, "jobs": {"a": {}, "b": {"permissions": {}}}}
}

test_missing_permissions_are_denied_per_job if {
	results := least_privilege.deny with input as {"on": ["push"], "jobs": {"a": {}, "b": {"permissions": {"contents": "read"}}}}
	{r.path | some r in results} == {["jobs", "a"]}
}

test_reusable_workflow_without_permissions_is_allowed if {
	count(least_privilege.deny) == 0 with input as {"on": {"workflow_call": {}}, "jobs": {"a": {}}}
}

test_empty_permissions_count_as_declared if {
	count(least_privilege.deny) == 0 with input as {"on": "push", "permissions": {}, "jobs": {"a": {}}}
}
