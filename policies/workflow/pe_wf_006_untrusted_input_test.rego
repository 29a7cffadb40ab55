package pe.workflow.untrusted_input_test

import data.pe.workflow.lib.untrusted
import data.pe.workflow.untrusted_input
import rego.v1

# one parsed `${{ }}` as the loader gives it (only the fields the rule reads)
expr(scope, job, step, where, name, key_path, context, flows, functions) := {
	"scope": scope, "job": job, "step": step, "where": where, "name": name, "key_path": key_path,
	"path": ["jobs", job, "steps", step, where], "text": sprintf("${{ %s }}", [context]),
	"contexts": [{"path": lower(context), "parts": split(lower(context), "."), "flows": flows, "functions": functions}],
}

in_run(job, step, context) := expr("step", job, step, "run", null, ["run"], context, true, [])

workflow(steps, expressions) := {"on": ["pull_request_target"], "jobs": {"j": {"steps": steps}}, "expressions": expressions}

test_title_in_run_is_denied if {
	results := untrusted_input.deny with input as workflow([{"run": "x"}], [in_run("j", 0, "github.event.pull_request.title")])
	count(results) == 1
	some r in results
	contains(r.msg, "`github.event.pull_request.title` is expanded into a `run:` script")
	r.snippet == "${{ github.event.pull_request.title }}"
}

test_number_and_sha_are_allowed if {
	count(untrusted_input.deny) == 0 with input as workflow([{"run": "x"}], [
		in_run("j", 0, "github.event.pull_request.number"),
		in_run("j", 0, "github.event.pull_request.head.sha"),
	])
}

test_a_test_on_a_title_is_allowed if {
	tested := expr("step", "j", 0, "run", null, ["run"], "github.event.issue.title", false, ["contains"])
	count(untrusted_input.deny) == 0 with input as workflow([{"run": "x"}], [tested])
}

test_serialised_event_is_denied_naming_a_field if {
	whole := expr("step", "j", 0, "run", null, ["run"], "github.event", true, ["toJSON"])
	results := untrusted_input.deny with input as workflow([{"run": "x"}], [whole])
	some r in results
	contains(r.msg, "`github.event` (it includes `github.event.issue.title`)")
}

test_github_script_code_is_denied_and_other_inputs_are_not if {
	script := expr("step", "j", 0, "with", "script", ["with", "script"], "github.head_ref", true, [])
	token := expr("step", "j", 1, "with", "github-token", ["with", "github-token"], "github.head_ref", true, [])
	steps := [{"uses": "actions/github-script@v7"}, {"uses": "actions/github-script@v7"}]
	results := untrusted_input.deny with input as workflow(steps, [script, token])
	{r.path | some r in results} == {["jobs", "j", "steps", 0, "with"]}
}

test_env_variable_set_from_a_title_is_denied if {
	job_env := expr("job", "j", null, "env", "TITLE", ["env", "TITLE"], "github.event.issue.title", true, [])
	wf := object.union(workflow([{"run": "x"}], [job_env, in_run("j", 0, "env.TITLE")]), {"jobs": {"j": {"env": {"TITLE": "t"}}}})
	results := untrusted_input.deny with input as wf
	some r in results
	contains(r.msg, "`env.title` (set from `github.event.issue.title`)")
}

test_env_variable_shadowed_by_the_step_is_allowed if {
	job_env := expr("job", "j", null, "env", "TITLE", ["env", "TITLE"], "github.event.issue.title", true, [])
	wf := object.union(workflow([{"run": "x", "env": {"TITLE": "fixed"}}], [job_env, in_run("j", 0, "env.TITLE")]), {"jobs": {"j": {"env": {"TITLE": "t"}}}})
	count(untrusted_input.deny) == 0 with input as wf
}

test_step_output_from_a_title_is_denied if {
	taken := expr("step", "j", 0, "with", "text", ["with", "text"], "github.event.issue.title", true, [])
	results := untrusted_input.deny with input as workflow([{"id": "clean", "uses": "some/action@v1"}, {"run": "x"}], [taken, in_run("j", 1, "steps.clean.outputs.value")])
	some r in results
	contains(r.msg, "step 'clean' takes in `github.event.issue.title`")
}

test_matrix_built_from_a_comment_is_denied if {
	matrix := expr("job", "j", null, "matrix", null, ["strategy", "matrix"], "github.event.comment.body", true, ["fromJSON"])
	count(untrusted_input.deny) == 1 with input as workflow([{"run": "x"}], [matrix, in_run("j", 0, "matrix.target")])
}

test_composite_action_input_in_run_is_denied if {
	used := object.union(in_run("j", 0, "inputs.name"), {"job": null, "path": ["runs", "steps", 0, "run"]})
	count(untrusted_input.deny) == 1 with input as {"runs": {"using": "composite", "steps": [{"run": "x"}]}, "expressions": [used]}
}

test_backport_template_is_code if {
	template := expr("step", "j", 0, "with", "title_template", ["with", "title_template"], "github.event.pull_request.title", true, [])
	results := untrusted_input.deny with input as workflow([{"uses": "tibdex/backport@v2"}], [template])
	some r in results
	contains(r.msg, "backport `title_template:`")
}

# code_input_names (the cheap test before a step's action is read) lists every code input,
# lowered as expressions' names are compared
test_code_input_names_cover_every_code_input if {
	untrusted_input.code_input_names == {"script", "inlinescript", "cmd", "run", "expression", "title_template", "body_template"}
	camel := expr("step", "j", 0, "with", "inlineScript", ["with", "inlineScript"], "github.event.issue.title", true, [])
	count(untrusted_input.deny) == 1 with input as workflow([{"uses": "azure/cli@v2"}], [camel])
}

ctx(path) := {"path": path, "functions": []}

# lib/untrusted.described: a listed field, or a context inside one, through `*` for any one part
test_described_matches_listed_fields_and_what_they_contain if {
	untrusted.described(ctx("github.head_ref")) == "`github.head_ref`"
	untrusted.described(ctx("github.event.issue.title")) == "`github.event.issue.title`"
	untrusted.described(ctx("github.event.pull_request.head.ref.x")) == "`github.event.pull_request.head.ref.x`"
	untrusted.described(ctx("github.event.commits.0.message")) == "`github.event.commits.0.message`"
	untrusted.described(ctx("github.event.commits.*.author.name")) == "`github.event.commits.*.author.name`"
	untrusted.described(ctx("github.event.workflow_run.pull_requests.3.head.ref")) == "`github.event.workflow_run.pull_requests.3.head.ref`"
	untrusted.described(ctx("github.event.pages.home.page_name")) == "`github.event.pages.home.page_name`"
	not untrusted.described(ctx("github.event.commits.0.id"))
	not untrusted.described(ctx("github.event.pull_request.head.sha"))
	not untrusted.described(ctx("github.event.issue"))
	not untrusted.described(ctx("github.ref"))
	not untrusted.described(ctx("github.event.issue.number"))
}

# described looks fields up with at most one part as `*`, after `github.event`: a field with
# two, or one sooner, would never match
test_listed_fields_have_at_most_one_wildcard if {
	every name in untrusted.listed_fields {
		wildcards := [i | some i, part in split(name, "."); part == "*"]
		count(wildcards) <= 1
		every i in wildcards {
			i >= 2
		}
	}
}

# a prefix of two parts (`github.event`) has no part that may be `*`: it is looked up as written
test_wildcarded_leaves_the_first_two_parts_as_written if {
	untrusted.wildcarded(["github", "event"]) == [["github", "event"]]
	untrusted.wildcarded(["github", "event", "a", "b"]) == [
		["github", "event", "a", "b"],
		["github", "event", "*", "b"],
		["github", "event", "a", "*"],
	]
}
