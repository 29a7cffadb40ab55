package pe.workflow.expression_rules_test

import data.pe.workflow.overprovisioned_secrets
import data.pe.workflow.spoofable_bot_conditions
import data.pe.workflow.unsound_contains
import data.pe.workflow.untrusted_environment_files
import rego.v1

context(path) := {"type": "context", "path": path, "parts": split(path, ".")}

literal(value) := {"type": "literal", "value": value}

# one parsed `${{ }}` (only the fields the rules read)
expr(where, text, ast, contexts, functions) := {
	"scope": "job", "job": "j", "step": null, "where": where, "name": null, "path": ["jobs", "j", where],
	"at": ["jobs", "j", where, 0], "text": text, "ast": ast, "contexts": contexts, "functions": functions,
}

# ------------------------------------------------------------------ PE-WF-012

bot_if := expr("if", "github.actor == 'dependabot[bot]'", {"type": "binary", "op": "==", "left": context("github.actor"), "right": literal("dependabot[bot]")}, [], [])

test_actor_bot_condition_on_pull_request_target_is_denied if {
	results := spoofable_bot_conditions.deny with input as {"on": ["pull_request_target"], "jobs": {"j": {}}, "expressions": [bot_if]}
	{r.path | some r in results} == {["jobs", "j", "if"]}
}

test_actor_bot_condition_on_push_is_allowed if {
	count(spoofable_bot_conditions.deny) == 0 with input as {"on": ["push"], "jobs": {"j": {}}, "expressions": [bot_if]}
}

test_pull_request_author_is_allowed if {
	author := expr("if", "...", {"type": "binary", "op": "==", "left": literal("dependabot[bot]"), "right": context("github.event.pull_request.user.login")}, [], [])
	count(spoofable_bot_conditions.deny) == 0 with input as {"on": ["pull_request"], "jobs": {"j": {}}, "expressions": [author]}
}

# ------------------------------------------------------------------ PE-WF-018

contains_call(haystack) := {"name": "contains", "text": "contains(...)", "arguments": [haystack, context("github.ref")]}

test_contains_on_a_string_literal_is_denied if {
	e := expr("if", "contains('refs/heads/main refs/heads/dev', github.ref)", null, [], [contains_call(literal("refs/heads/main refs/heads/dev"))])
	count(unsound_contains.deny) == 1 with input as {"jobs": {"j": {}}, "expressions": [e]}
}

test_contains_on_a_list_is_allowed if {
	list := {"type": "call", "name": "fromJSON", "arguments": [literal("[\"refs/heads/main\"]")]}
	e := expr("if", "contains(fromJSON(...), github.ref)", null, [], [contains_call(list)])
	count(unsound_contains.deny) == 0 with input as {"jobs": {"j": {}}, "expressions": [e]}
}

# ------------------------------------------------------------------ PE-WF-017

test_computed_secret_name_is_denied if {
	ctx := {"path": "secrets.*", "parts": ["secrets", "*"], "text": "secrets[matrix.name]", "dynamic": true}
	count(overprovisioned_secrets.deny) == 1 with input as {"jobs": {"j": {}}, "expressions": [expr("env", "${{ secrets[matrix.name] }}", null, [ctx], [])]}
}

test_named_secret_is_allowed if {
	ctx := {"path": "secrets.token", "parts": ["secrets", "token"], "text": "secrets.TOKEN", "dynamic": false}
	count(overprovisioned_secrets.deny) == 0 with input as {"jobs": {"j": {}}, "expressions": [expr("env", "${{ secrets.TOKEN }}", null, [ctx], [])]}
}

# ------------------------------------------------------------------ PE-WF-010

title := {"path": "github.event.pull_request.title", "parts": ["github", "event", "pull_request", "title"], "flows": true, "functions": []}

script(writes) := {"scope": "step", "job": "j", "step": 0, "writes": writes}

write(file, variables, expressions) := {"file": file, "variables": variables, "expressions": expressions, "at": ["jobs", "j", "steps", 0, "run", "writes", 0]}

test_title_pasted_into_github_env_is_denied if {
	pasted := object.union(expr("run", "${{ github.event.pull_request.title }}", null, [title], []), {"at": ["x", 0]})
	results := untrusted_environment_files.deny with input as {"jobs": {"j": {"steps": [{"run": "x"}]}}, "expressions": [pasted], "scripts": [script([write("GITHUB_ENV", [], [["x", 0]])])]}
	some r in results
	r.path == ["jobs", "j", "steps", 0, "run", "writes", 0]
	contains(r.msg, "$GITHUB_ENV")
}

test_title_through_env_into_github_path_is_denied if {
	env := object.union(expr("env", "${{ github.event.pull_request.title }}", null, [title], []), {"name": "TITLE"})
	wf := {"jobs": {"j": {"env": {"TITLE": "t"}, "steps": [{"run": "x"}]}}, "expressions": [env], "scripts": [script([write("GITHUB_PATH", ["TITLE"], [])])]}
	count(untrusted_environment_files.deny) == 1 with input as wf
}

test_trusted_values_and_summaries_are_allowed if {
	env := object.union(expr("env", "${{ github.sha }}", null, [{"path": "github.sha", "parts": ["github", "sha"], "flows": true, "functions": []}], []), {"name": "SHA"})
	wf := {"jobs": {"j": {"env": {"SHA": "s"}, "steps": [{"run": "x"}]}}, "expressions": [env], "scripts": [script([write("GITHUB_ENV", ["SHA"], []), write("GITHUB_STEP_SUMMARY", ["SHA"], [])])]}
	count(untrusted_environment_files.deny) == 0 with input as wf
}
