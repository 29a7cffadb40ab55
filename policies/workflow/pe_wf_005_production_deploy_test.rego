package pe.workflow.production_deploy_test

import data.pe.workflow.production_deploy
import rego.v1

params := {"production_environments": ["production", "prod"], "release_refs": ["refs/heads/main", "refs/tags/"]}

deny_for(workflow) := results if {
	results := production_deploy.deny with input as workflow with data.pe.params as params
}

test_protected_and_main_only_is_clean if {
	count(deny_for({"on": {"push": {"branches": ["main"]}}, "jobs": {"deploy": {"environment": "production"}}})) == 0
	count(deny_for({"on": {"push": {"tags": ["v*"]}}, "jobs": {"deploy": {"environment": {"name": "prod-eu"}}}})) == 0
	count(deny_for({"on": ["release"], "jobs": {"deploy": {"environment": "production"}}})) == 0
}

test_if_condition_restricts_the_ref if {
	count(deny_for({"on": ["workflow_dispatch", "pull_request"], "jobs": {"deploy": {"environment": "production", "if": "github.ref == 'refs/heads/main'"}}})) == 0
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "${{ startsWith(github.ref, 'refs/tags/') }}"}}})) == 0
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref_name == 'main'"}}})) == 0
}

test_weak_if_conditions_are_denied if {
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref != 'refs/heads/main'"}}})) == 1
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref == 'refs/heads/main' || github.event_name == 'workflow_dispatch'"}}})) == 1
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "!startsWith(github.ref, 'refs/tags/')"}}})) == 1
}

test_restriction_inherited_from_needed_job_unless_always if {
	jobs := {"staging": {"if": "github.ref == 'refs/heads/main'"}, "deploy": {"needs": "staging", "environment": "production"}}
	count(deny_for({"on": ["push"], "jobs": jobs})) == 0
	always := {"staging": jobs.staging, "deploy": {"needs": "staging", "environment": "production", "if": "always()"}}
	count(deny_for({"on": ["push"], "jobs": always})) == 1
}

test_any_branch_deploy_points_at_environment if {
	results := deny_for({"on": {"push": {"branches": ["main", "feature/**"]}}, "jobs": {"deploy": {"environment": "production"}}})
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy", "environment"]
}

test_production_deploy_without_environment_is_denied if {
	results := deny_for({"on": {"push": {"branches": ["main"]}}, "jobs": {"deploy-prod": {"steps": [{"run": "helm upgrade app ./chart"}]}}})
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy-prod"]
}

test_staging_deploy_is_not_production if {
	count(deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "staging"}}})) == 0
}

test_reusable_call_with_production_input_needs_a_ref_guard if {
	results := deny_for({"on": ["workflow_dispatch"], "jobs": {"deploy": {"uses": "./.github/workflows/deploy.yml", "with": {"environment": "production"}}}})
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy"]
}

test_called_workflow_leaves_the_ref_to_its_caller if {
	count(deny_for({"on": {"workflow_call": {}}, "jobs": {"deploy": {"environment": "production"}}})) == 0
}

test_event_name_guard_counts_when_that_event_is_restricted if {
	on := {"push": {"branches": ["main"]}, "pull_request": null}
	count(deny_for({"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'push'"}}})) == 0
	count(deny_for({"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name != 'pull_request'"}}})) == 0
	count(deny_for({"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'pull_request'"}}})) == 1
	open_push := {"push": null, "pull_request": null}
	count(deny_for({"on": open_push, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'push'"}}})) == 1
}
