package pe.workflow.secrets_in_run_test

import data.pe.workflow.secrets_in_run
import rego.v1

# one parsed `${{ }}` with one context (only the fields the rule reads)
expr(scope, job, step, where, name, context, written, flows, functions) := {
	"scope": scope, "job": job, "step": step, "where": where, "name": name,
	"path": ["jobs", job, "steps", step, where], "text": sprintf("${{ %s }}", [written]),
	"contexts": [{"path": lower(context), "parts": split(lower(context), "."), "text": context, "flows": flows, "functions": functions}],
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
