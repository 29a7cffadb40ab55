package pe.workflow.production_deploy_test

import data.pe.workflow.production_deploy
import rego.v1

params := {"production_environments": ["production", "prod"], "release_refs": ["refs/heads/main", "refs/tags/"]}

test_protected_and_main_only_is_clean if {
	count(production_deploy.deny) == 0 with input as {"on": {"push": {"branches": ["main"]}}, "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": {"push": {"tags": ["v*"]}}, "jobs": {"deploy": {"environment": {"name": "prod-eu"}}}} with data.pe.params as params
	count(production_deploy.deny) == 0 with input as {"on": ["release"], "jobs": {"deploy": {"environment": "production"}}} with data.pe.params as params
}

# ------------------------------------------- parsed `if:` conditions (the loader's AST)

context(path) := {"type": "context", "path": path, "parts": split(path, ".")}

literal(value) := {"type": "literal", "value": value}

binary(op, left, right) := {"type": "binary", "op": op, "left": left, "right": right}

call(name, arguments) := {"type": "call", "name": name, "arguments": arguments}

is(path, value) := binary("==", context(path), literal(value))

on_main := is("github.ref", "refs/heads/main")

on_tag := call("startsWith", [context("github.ref"), literal("refs/tags/")])

# the parsed `if:` of job `job` (the fields the rule reads): its AST and the calls in it
job_condition(job, text, ast) := {
	"scope": "job", "job": job, "where": "if", "path": ["jobs", job, "if"], "key_path": ["if"],
	"text": text, "whole": true, "ast": ast,
	"functions": [{"name": node.name} | walk(ast, [_, node]); node.type == "call"],
}

# a production deploy job on `on` whose `if:` is `text`, parsed as `ast`
deploy_if(on, text, ast) := {"on": on, "jobs": {"deploy": {"environment": "production", "if": text}}, "expressions": [job_condition("deploy", text, ast)]}

test_if_condition_restricts_the_ref if {
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch", "pull_request"], "github.ref == 'refs/heads/main'", on_main) with data.pe.params as params
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch"], "${{ startsWith(github.ref, 'refs/tags/') }}", on_tag) with data.pe.params as params
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch"], "github.ref_name == 'main'", is("github.ref_name", "main")) with data.pe.params as params
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch"], "'REFS/HEADS/MAIN' == github.ref", binary("==", literal("REFS/HEADS/MAIN"), context("github.ref"))) with data.pe.params as params
}

test_weak_if_conditions_are_denied if {
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "github.ref != 'refs/heads/main'", binary("!=", context("github.ref"), literal("refs/heads/main"))) with data.pe.params as params
	either := binary("||", on_main, is("github.event_name", "workflow_dispatch"))
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "github.ref == 'refs/heads/main' || github.event_name == 'workflow_dispatch'", either) with data.pe.params as params
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "!startsWith(github.ref, 'refs/tags/')", {"type": "not", "operand": on_tag}) with data.pe.params as params
}

# `&&` and `||` as GitHub groups them, whatever the text's spacing or parentheses: the
# condition pins the ref when every way it can be true does. (Scanning the text, split at
# every `||`, missed a pin outside the parentheses, and took a comparison inside a string
# literal for one.)
test_if_condition_is_judged_as_parsed if {
	main_or_tag_then_success := binary("&&", binary("||", on_main, on_tag), is("needs.build.result", "success"))
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch"], "(github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')) && needs.build.result == 'success'", main_or_tag_then_success) with data.pe.params as params
	main_after_either := binary("&&", binary("||", is("inputs.force", "true"), context("inputs.dry_run")), on_main)
	count(production_deploy.deny) == 0 with input as deploy_if(["workflow_dispatch"], "(inputs.force == 'true' || inputs.dry_run) && github.ref == 'refs/heads/main'", main_after_either) with data.pe.params as params
	either_unpinned := binary("||", binary("&&", context("inputs.force"), on_main), context("inputs.dry_run"))
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "inputs.force && github.ref == 'refs/heads/main' || inputs.dry_run", either_unpinned) with data.pe.params as params
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "github.ref == 'refs/heads/main-old'", is("github.ref", "refs/heads/main-old")) with data.pe.params as params
	named := call("format", [literal("github.ref=='refs/heads/main'"), context("github.ref")])
	count(production_deploy.deny) == 1 with input as deploy_if(["workflow_dispatch"], "format('github.ref==''refs/heads/main''', github.ref)", named) with data.pe.params as params
}

# `if: |` holding a `${{ }}` and a line break is a string, true on every ref: no pin
test_condition_that_is_not_all_of_the_if_pins_nothing if {
	text := "${{ github.ref == 'refs/heads/main' }}\n"
	block := object.union(job_condition("deploy", text, on_main), {"whole": false})
	count(production_deploy.deny) == 1 with input as {"on": ["workflow_dispatch"], "jobs": {"deploy": {"environment": "production", "if": text}}, "expressions": [block]} with data.pe.params as params
}

# `deploy` needs `staging`, which only runs on main; deploy's own `if:` is `text`, parsed as `ast`
needs_restricted_staging(text, ast) := {"on": ["push"], "jobs": jobs, "expressions": [job_condition("staging", "github.ref == 'refs/heads/main'", on_main), job_condition("deploy", text, ast)]} if {
	jobs := {"staging": {"if": "github.ref == 'refs/heads/main'"}, "deploy": {"needs": "staging", "environment": "production", "if": text}}
}

test_restriction_inherited_from_needed_job_unless_always if {
	jobs := {"staging": {"if": "github.ref == 'refs/heads/main'"}, "deploy": {"needs": "staging", "environment": "production"}}
	count(production_deploy.deny) == 0 with input as {"on": ["push"], "jobs": jobs, "expressions": [job_condition("staging", "github.ref == 'refs/heads/main'", on_main)]} with data.pe.params as params
	count(production_deploy.deny) == 1 with input as needs_restricted_staging("always()", call("always", [])) with data.pe.params as params
}

# a status function anywhere in the parsed condition, as GitHub reads it: with `${{ }}`,
# negated, spaced or in capitals (GitHub's names are case-insensitive; the loader spells them)
test_any_status_function_runs_regardless_of_needed_jobs if {
	every case in [
		["${{ failure() || github.event_name == 'workflow_dispatch' }}", binary("||", call("failure", []), is("github.event_name", "workflow_dispatch"))],
		["!cancelled() && needs.staging.result == 'success'", binary("&&", {"type": "not", "operand": call("cancelled", [])}, is("needs.staging.result", "success"))],
		["ALWAYS ( )", call("always", [])],
	] {
		count(production_deploy.deny) == 1 with input as needs_restricted_staging(case[0], case[1]) with data.pe.params as params
	}
}

# the words in a string literal are no call (a regex over the text took `'always('` for one
# and dropped the restriction inherited from `staging`)
test_status_word_in_a_string_literal_is_no_call if {
	text := "github.event.action == 'always(' || contains(github.event.head_commit.message, 'failure (')"
	ast := binary("||", is("github.event.action", "always("), call("contains", [context("github.event.head_commit.message"), literal("failure (")]))
	count(production_deploy.deny) == 0 with input as needs_restricted_staging(text, ast) with data.pe.params as params
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
	on_push := is("github.event_name", "push")
	count(production_deploy.deny) == 0 with input as deploy_if(on, "github.event_name == 'push'", on_push) with data.pe.params as params
	not_pull_request := binary("!=", context("github.event_name"), literal("pull_request"))
	count(production_deploy.deny) == 0 with input as deploy_if(on, "github.event_name != 'pull_request'", not_pull_request) with data.pe.params as params
	count(production_deploy.deny) == 1 with input as deploy_if(on, "github.event_name == 'pull_request'", is("github.event_name", "pull_request")) with data.pe.params as params
	open_push := {"push": null, "pull_request": null}
	count(production_deploy.deny) == 1 with input as deploy_if(open_push, "github.event_name == 'push'", on_push) with data.pe.params as params
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
