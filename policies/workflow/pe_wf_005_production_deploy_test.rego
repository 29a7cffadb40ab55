package pe.workflow.production_deploy_test

import data.pe.workflow.production_deploy
import rego.v1

params := {"production_environments": ["production", "prod"], "release_refs": ["refs/heads/main", "refs/tags/"]}

test_protected_and_main_only_is_clean if {
	count(production_deploy.deny) == 0 with input as {"on": {"push": {"branches": ["main"]}}, "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": {"push": {"tags": ["v*"]}}, "jobs": {"deploy": {"environment": {"name": "prod-eu"}}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": ["release"], "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
}

test_if_condition_restricts_the_ref if {
	count(production_deploy.deny) == 0 with input as {"on": ["workflow_dispatch", "pull_request"], "jobs": {"deploy": {"environment": "production", "if": "github.ref == 'refs/heads/main'"}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "${{ startsWith(github.ref, 'refs/tags/') }}"}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref_name == 'main'"}}} with data.pe.params as params
}

test_weak_if_conditions_are_denied if {
	count(production_deploy.deny) == 1 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref != 'refs/heads/main'"}}} with data.pe.params as params
	count(production_deploy.deny) == 1 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "github.ref == 'refs/heads/main' || github.event_name == 'workflow_dispatch'"}}} with data.pe.params as params
	count(production_deploy.deny) == 1 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": "!startsWith(github.ref, 'refs/tags/')"}}} with data.pe.params as params
}

# the parsed `if:` of job `job` (only the fields the rule reads): the functions it calls
job_condition(job, text, functions) := {
	"scope": "job", "job": job, "where": "if", "path": ["jobs", job, "if"], "key_path": ["if"],
	"text": text, "functions": [{"name": name} | some name in functions],
}

# `deploy` needs `staging`, which only runs on main; deploy's own `if:` is `text`, calling `functions`
needs_restricted_staging(text, functions) := {"on": ["push"], "jobs": jobs, "expressions": [job_condition("deploy", text, functions)]} if {
	jobs := {"staging": {"if": "github.ref == 'refs/heads/main'"}, "deploy": {"needs": "staging", "environment": "production", "if": text}}
}

test_restriction_inherited_from_needed_job_unless_always if {
	jobs := {"staging": {"if": "github.ref == 'refs/heads/main'"}, "deploy": {"needs": "staging", "environment": "production"}}
	count(production_deploy.deny) == 0 with input as {"on": ["push"], "jobs": jobs} with data.pe.params as params
	count(production_deploy.deny) == 1 with input as needs_restricted_staging("always()", ["always"]) with data.pe.params as params
}

# a status function anywhere in the parsed condition, as GitHub reads it: with `${{ }}`,
# negated, spaced or in capitals (GitHub's names are case-insensitive; the loader spells them)
test_any_status_function_runs_regardless_of_needed_jobs if {
	every case in [
		["${{ failure() || github.event_name == 'workflow_dispatch' }}", ["failure"]],
		["!cancelled() && needs.staging.result == 'success'", ["cancelled"]],
		["ALWAYS ( )", ["always"]],
	] {
		count(production_deploy.deny) == 1 with input as needs_restricted_staging(case[0], case[1]) with data.pe.params as params
	}
}

# the words in a string literal are no call (a regex over the text took `'always('` for one
# and dropped the restriction inherited from `staging`)
test_status_word_in_a_string_literal_is_no_call if {
	text := "github.event.action == 'always(' || contains(github.event.head_commit.message, 'failure (')"
	count(production_deploy.deny) == 0 with input as needs_restricted_staging(text, ["contains"]) with data.pe.params as params
}

test_any_branch_deploy_points_at_environment if {
	results := production_deploy.deny with input as {"on": {"push": {"branches": ["main", "feature/**"]}}, "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy", "environment"]
}

test_production_deploy_without_environment_is_denied if {
	results := production_deploy.deny with input as {"on": {"push": {"branches": ["main"]}}, "jobs": {"deploy-prod": {"steps": [{"run": "helm upgrade app ./chart"}]}}} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy-prod"]
}

test_staging_deploy_is_not_production if {
	count(production_deploy.deny) == 0 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "staging"}}} with data.pe.params as params
}

test_reusable_call_with_production_input_needs_a_ref_guard if {
	results := production_deploy.deny with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"uses": "./.github/workflows/deploy.yml", "with": {"environment": "production"}}}} with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["jobs", "deploy"]
}

test_called_workflow_leaves_the_ref_to_its_caller if {
	count(production_deploy.deny) == 0 with input as {"on": {"workflow_call": {}}, "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
}

test_event_name_guard_counts_when_that_event_is_restricted if {
	on := {"push": {"branches": ["main"]}, "pull_request": null}
	count(production_deploy.deny) == 0 with input as {"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'push'"}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name != 'pull_request'"}}} with data.pe.params as params
	count(production_deploy.deny) == 1 with input as {"on": on, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'pull_request'"}}} with data.pe.params as params
	open_push := {"push": null, "pull_request": null}
	count(production_deploy.deny) == 1 with input as {"on": open_push, "jobs": {"deploy": {"environment": "production", "if": "github.event_name == 'push'"}}} with data.pe.params as params
}

test_message_names_a_branch_filter_as_a_filter if {
	prod := {"environment": "production", "steps": [{"run": "helm upgrade app ./chart"}]}
	results := production_deploy.deny with input as {"on": {"push": {"branches": ["master"]}}, "jobs": {"ship": prod}}
		with data.pe.params as {"production_environments": ["production"], "release_refs": ["refs/heads/main", "refs/tags/"]}
	count(results) == 1
	some r in results
	contains(r.msg, "`push` on branches `master`, not only `refs/heads/main` and `refs/tags/`")
	not contains(r.msg, "without")
	results_any := production_deploy.deny with input as {"on": ["push"], "jobs": {"ship": prod}}
		with data.pe.params as {"production_environments": ["production"], "release_refs": ["refs/heads/main", "refs/tags/"]}
	some unfiltered in results_any
	contains(unfiltered.msg, "`push` on any branch")
}
