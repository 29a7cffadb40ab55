package pe.workflow.pipeline_stages_test

import data.pe.workflow.pipeline_stages
import rego.v1

full := {
	"lint": {"steps": [{"run": "ruff check ."}]},
	"test": {"steps": [{"run": "pytest"}]},
	"security": {"steps": [{"run": "pip-audit"}]},
	"build": {"needs": ["lint", "test", "security"], "steps": [{"run": "docker build ."}]},
	"deploy": {"needs": "build", "environment": "staging"},
}

without(jobs, name) := {id: job | some id, job in jobs; id != name}

test_complete_pipeline_is_clean if {
	count(pipeline_stages.deny) == 0 with input as {"on": ["push"], "jobs": full}
}

test_missing_stages_reported_at_jobs if {
	results := pipeline_stages.deny with input as {"on": ["pull_request"], "jobs": {"test": {"steps": [{"run": "pytest"}]}}}
	count(results) == 3
	every r in results {
		r.path == ["jobs"]
	}
}

test_deploy_without_security_dependency_reported_at_needs if {
	jobs := object.union(without(full, "build"), {"build": {"needs": ["lint", "test"], "steps": [{"run": "docker build ."}]}})
	results := pipeline_stages.deny with input as {"on": ["push"], "jobs": jobs}
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy", "needs"]
	contains(r.msg, "'security'")
}

test_deploy_job_own_test_steps_do_not_count if {
	jobs := object.union(without(full, "deploy"), {"deploy": {"environment": "staging", "steps": [{"run": "pytest && helm upgrade x"}]}})
	results := pipeline_stages.deny with input as {"on": ["push"], "jobs": jobs}
	count(results) == 2
	some r in results
	r.path == ["jobs", "deploy"]
}

test_not_a_pipeline_without_push_or_pull_request if {
	count(pipeline_stages.deny) == 0 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production"}}}
}

test_triage_workflow_is_not_a_pipeline if {
	count(pipeline_stages.deny) == 0 with input as {"on": ["pull_request"], "jobs": {"triage": {"steps": [{"uses": "actions/labeler@0123"}]}}}
}
