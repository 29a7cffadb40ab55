package pe.workflow.secrets_in_run_test

import data.pe.workflow.secrets_in_run
import rego.v1

# one parsed `${{ }}` with one context (only the fields the rule reads): `context` dotted
# as written (`secrets.Npm-Token`), `written` the expression's text
expr(scope, job, step, where, name, context, written, flows, functions) := {
	"scope": scope, "job": job, "step": step, "where": where, "name": name,
	"path": ["jobs", job, "steps", step, where], "text": sprintf("${{ %s }}", [written]),
	"contexts": [reference(split(context, "."), context, flows, functions)],
}

# a context reference as the loader gives it: parts lower-cased, and as written
reference(written, text, flows, functions) := {
	"path": lower(concat(".", written)), "parts": [lower(part) | some part in written], "written": written,
	"text": text, "flows": flows, "functions": functions,
}

in_run(context, flows) := expr("step", "j", 0, "run", null, context, context, flows, [])

workflow(step, expressions) := {"on": ["push"], "jobs": {"j": {"steps": [step]}}, "expressions": expressions}

test_secret_in_run_is_denied_with_its_name if {
	results := secrets_in_run.deny with input as workflow({"run": "x"}, [in_run("secrets.Npm-Token", true)])
	count(results) == 1
	some r in results
	contains(r.msg, "secret `Npm-Token` is expanded into a `run:` script")
	contains(r.msg, "\"$NPM_TOKEN\"")
}

# the name as the loader read it, whatever the spelling around it: the message names
# `Api_Key` (a regex over the text missed `SECRETS.` and fell back to `api_key`)
test_secret_name_is_the_one_written_in_any_spelling if {
	every name in [["SECRETS", "Api_Key"], ["Secrets", "Api_Key"]] {
		some text in ["SECRETS.Api_Key", "Secrets [ 'Api_Key' ]"]
		e := object.union(in_run("secrets.x", true), {"contexts": [reference(name, text, true, [])]})
		results := secrets_in_run.deny with input as workflow({"run": "x"}, [e])
		some r in results
		contains(r.msg, "secret `Api_Key` is expanded")
		contains(r.msg, "\"$API_KEY\"")
	}
}

test_a_test_on_a_secret_is_allowed if {
	count(secrets_in_run.deny) == 0 with input as workflow({"run": "x"}, [in_run("secrets.TOKEN", false)])
}

test_token_and_whole_secrets_are_denied if {
	whole := expr("step", "j", 0, "run", null, "secrets", "toJSON(secrets)", true, ["toJSON"])
	results := secrets_in_run.deny with input as workflow({"run": "x"}, [in_run("github.token", true), whole])
	count(results) == 2
}

test_env_variable_holding_a_secret_in_run_is_denied if {
	env := expr("step", "j", 0, "env", "TOKEN", "secrets.TOKEN", "secrets.TOKEN", true, [])
	results := secrets_in_run.deny with input as workflow({"run": "x", "env": {"TOKEN": "t"}}, [env, in_run("env.TOKEN", true)])
	some r in results
	contains(r.msg, "`env.TOKEN` (secret `TOKEN`)")
}

# `${{ env['Deploy_Token'] }}` is the same variable as `env.Deploy_Token` (splitting the
# text at its dots found no name in it, and no finding)
test_env_variable_indexed_by_name_is_denied_as_written if {
	env := expr("step", "j", 0, "env", "DEPLOY_TOKEN", "secrets.TOKEN", "secrets.TOKEN", true, [])
	pasted := object.union(in_run("env.x", true), {"contexts": [reference(["env", "Deploy_Token"], "env['Deploy_Token']", true, [])]})
	results := secrets_in_run.deny with input as workflow({"run": "x", "env": {"DEPLOY_TOKEN": "t"}}, [env, pasted])
	some r in results
	contains(r.msg, "`env.Deploy_Token` (secret `TOKEN`)")
}

# one command of the shell model (only the fields the rule reads)
command(name, text, stdout, variables, arguments) := {
	"name": name, "text": text, "stdout": stdout, "variables": variables, "arguments": arguments,
	"at": ["jobs", "j", "steps", 0, "run", "commands", count(text)],
}

test_echo_of_a_secret_variable_is_denied_and_piped_is_not if {
	env := expr("job", "j", null, "env", "PASSWORD", "secrets.PASSWORD", "secrets.PASSWORD", true, [])
	commands := [
		command("echo", "echo \"$PASSWORD\"", "pipe", ["PASSWORD"], ["$PASSWORD"]),
		command("docker", "docker login --password-stdin", "log", [], ["login", "--password-stdin"]),
		command("echo", "echo pw=${PASSWORD}", "log", ["PASSWORD"], ["pw=${PASSWORD}"]),
		command("echo", "echo $PASSWORD", "file", ["PASSWORD"], ["$PASSWORD"]),
		command("echo", "echo \"::add-mask::$PASSWORD\"", "log", ["PASSWORD"], ["::add-mask::$PASSWORD"]),
		command("echo", "echo $OTHER", "log", ["OTHER"], ["$OTHER"]),
	]
	script := {"scope": "step", "job": "j", "step": 0, "parsed": true, "commands": commands}
	wf := {
		"on": ["push"], "jobs": {"j": {"env": {"PASSWORD": "p"}, "steps": [{"run": "x"}]}},
		"expressions": [env], "scripts": [script],
	}
	results := secrets_in_run.deny with input as wf
	{r.snippet | some r in results} == {"echo pw=${PASSWORD}"}
}

test_to_json_secrets_outside_run_is_denied if {
	every_secret := expr("step", "j", 0, "with", "secrets", "secrets", "toJSON(secrets)", true, ["toJSON"])
	results := secrets_in_run.deny with input as workflow({"uses": "some/action@v1"}, [every_secret])
	some r in results
	contains(r.msg, "`toJSON(secrets)` in `with`")
}

test_secrets_inherit_to_another_repository_is_denied if {
	results := secrets_in_run.deny with input as {"jobs": {"call": {"uses": "org/shared/.github/workflows/release.yml@v2", "secrets": "inherit"}}}
	some r in results
	r.path == ["jobs", "call", "uses"]
	contains(r.msg, "at a ref that can move")
}

test_secrets_inherit_to_a_local_workflow_is_allowed if {
	count(secrets_in_run.deny) == 0 with input as {"jobs": {"call": {"uses": "./.github/workflows/release.yml", "secrets": "inherit"}}}
}
