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

test_missing_stages_reported_once_at_jobs if {
	results := pipeline_stages.deny with input as {"on": ["pull_request"], "jobs": {"test": {"steps": [{"run": "pytest"}]}}}
	count(results) == 1
	some r in results
	r.path == ["jobs"]
	contains(r.msg, "no lint, security scan or build job")
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
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy"]
	contains(r.msg, "'test'")
	contains(r.msg, "'security'")
}

test_not_a_pipeline_without_push_or_pull_request if {
	count(pipeline_stages.deny) == 0 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production"}}}
}

test_triage_workflow_is_not_a_pipeline if {
	count(pipeline_stages.deny) == 0 with input as {"on": ["pull_request"], "jobs": {"triage": {"steps": [{"uses": "actions/labeler@0123"}]}}}
}

# ------------------------------------------------------------ the repository

repo(workflows) := [{"path": sprintf(".github/workflows/%s", [name]), "contents": wf} | some name, wf in workflows]

lint_yml := {"on": ["pull_request"], "jobs": {"lint": {"steps": [{"run": "ruff check ."}]}}}

ci_tests := {"on": {"push": {"branches": ["main"]}, "pull_request": null}, "jobs": {"test": {"steps": [{"run": "pytest"}]}}}

codeql_yml := {"on": ["push", "pull_request"], "jobs": {"analyze": {"steps": [{"uses": "github/codeql-action/init@0123"}, {"uses": "github/codeql-action/analyze@0123"}]}}}

build_yml := {"on": ["push"], "jobs": {"image": {"steps": [{"run": "docker build ."}]}}}

test_stages_spread_over_workflows_make_one_pipeline if {
	count(pipeline_stages.deny) == 0 with input as repo({"lint.yml": lint_yml, "test.yml": ci_tests, "codeql.yml": codeql_yml, "build.yml": build_yml})
}

test_missing_stage_reported_once_per_repository_on_the_main_ci_file if {
	results := pipeline_stages.deny with input as repo({"lint.yml": lint_yml, "ci.yml": ci_tests, "build.yml": build_yml})
	count(results) == 1
	some r in results
	r.file == ".github/workflows/ci.yml"
	contains(r.msg, "has no security scan job")
	contains(r.msg, "(build.yml, ci.yml, lint.yml)")
}

test_finding_goes_to_the_workflow_that_deploys if {
	deploy := {"on": {"push": {"branches": ["main"]}}, "jobs": {"ship": {"environment": "production", "steps": [{"run": "kubectl apply -f k8s/"}]}}}
	results := pipeline_stages.deny with input as repo({"ci.yml": ci_tests, "deploy.yml": deploy})
	count(results) == 1
	some r in results
	r.file == ".github/workflows/deploy.yml"
}

test_reusable_workflows_called_by_the_pipeline_are_part_of_it if {
	tests := {"on": {"workflow_call": null}, "jobs": {"pytest": {"steps": [{"run": "pytest"}]}}}
	scans := {"on": {"workflow_call": null}, "jobs": {"scan": {"steps": [{"run": "pip-audit"}]}}}
	ci := {"on": ["pull_request"], "jobs": {
		"lint": {"steps": [{"run": "ruff check ."}]},
		"tests": {"uses": "./.github/workflows/tests.yml"},
		"build": {"steps": [{"run": "python -m build"}]},
	}}
	results := pipeline_stages.deny with input as repo({"ci.yml": ci, "tests.yml": tests, "scan.yml": scans})
	count(results) == 1 # scan.yml is called by nobody
	some r in results
	contains(r.msg, "no security scan job")
}

test_a_called_scan_completes_the_pipeline if {
	tests := {"on": {"workflow_call": null}, "jobs": {"pytest": {"steps": [{"run": "pytest"}]}}}
	scans := {"on": {"workflow_call": null}, "jobs": {"scan": {"steps": [{"run": "pip-audit"}]}}}
	ci := {"on": ["pull_request"], "jobs": {
		"lint": {"steps": [{"run": "ruff check ."}]},
		"a": {"uses": "./.github/workflows/tests.yml"},
		"b": {"uses": "./.github/workflows/scan.yml"},
		"build": {"steps": [{"run": "python -m build"}]},
	}}
	count(pipeline_stages.deny) == 0 with input as repo({"ci.yml": ci, "tests.yml": tests, "scan.yml": scans})
}

test_workflows_that_do_not_run_on_changes_are_not_the_pipeline if {
	nightly := {"on": {"schedule": [{"cron": "0 3 * * *"}]}, "jobs": {"scan": {"steps": [{"run": "trivy fs ."}]}}}
	results := pipeline_stages.deny with input as repo({"ci.yml": ci_tests, "lint.yml": lint_yml, "build.yml": build_yml, "nightly.yml": nightly})
	count(results) == 1
}

test_facts_given_by_pe_policy_are_used_as_they_are if {
	facts := {"changes": true, "reusable": false, "calls": [], "stages": ["lint", "test", "security", "build"], "deploys": [], "waits": []}
	count(pipeline_stages.deny) == 0 with input as [{"path": "a.yml", "facts": facts}]
}
