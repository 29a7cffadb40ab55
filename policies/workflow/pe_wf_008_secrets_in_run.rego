# METADATA
# title: "Secrets are passed through env:, never pasted into or printed by run: scripts"
# description: >-
#   A `${{ secrets.X }}` (or `${{ github.token }}`, or `toJSON(secrets)`) inside a `run:`
#   script is pasted into the script file before it runs: the value ends up on command
#   lines other processes can read, in debug logs and in any error that echoes the
#   command, and GitHub's log masking only catches exact copies. Also reported: an
#   `echo`/`printf` that writes an environment variable holding a secret to the log
#   (piped, redirected or captured output, and `::add-mask::`, are fine); `toJSON(secrets)`
#   anywhere (it hands every secret of the repository to one step or action);
#   `secrets: inherit` to a reusable workflow in another repository (every secret goes
#   to code this repository does not control, and at a tag or branch, to whatever that
#   ref points to next). Mapping the secret in `env:` and reading `"$X"` in the script
#   is the recommended form and is not reported, nor is a condition that only tests a
#   secret (`secrets.X != ''`, `secrets.X && 'yes' || 'no'`).
# custom:
#   id: PE-WF-008
#   severity: high
#   kinds: [workflow, action]
#   source: "seed 003 (secrets management: never log secrets), seed 002 (GitHub secrets via env)"
#   remediation: >-
#     Map the secret in the step's `env:` (`env: {RUBE_API_KEY: ${{ secrets.RUBE_API_KEY }}}`),
#     use `"$RUBE_API_KEY"` in the script, feed it to tools on stdin
#     (`--password-stdin`) rather than as an argument, and never print it. Pass a
#     reusable workflow only the secrets it declares (`secrets: {token: ${{ secrets.X }}}`).
package pe.workflow.secrets_in_run

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.steps
import data.pe.workflow.lib.steps.expressions
import rego.v1

# a secret (or the token, or every secret) pasted into a `run:` script
deny contains {"msg": pasted_message(what, variable), "path": e.path, "snippet": e.text} if {
	some e in run_expressions
	some ctx in e.contexts
	ctx.flows
	[what, variable] := secret(ctx)
}

# `${{ env.X }}` where X holds a secret: pasted just the same
deny contains {"msg": pasted_message(what, ctx_name), "path": e.path, "snippet": e.text} if {
	some e in run_expressions
	some ctx in e.contexts
	ctx.flows
	count(ctx.parts) == 2
	ctx.parts[0] == "env"
	ctx_name := ctx.written[1] # as written: `env.Release_Key`, `env['Release_Key']`
	some held in secret_env(e)[lower(ctx_name)]
	what := sprintf("`env.%s` (%s)", [ctx_name, held])
}

# `echo`/`printf` writing a variable that holds a secret to the log (the shell model says
# where each command's output goes: piped, redirected or captured output never reaches it).
# The commands first: a step's secret environment is worked out only for a step that prints.
deny contains {"msg": msg, "path": command.at, "snippet": command.text} if {
	some script in input.scripts
	script.parsed
	script.scope == "step"
	some command in script.commands
	command.name in {"echo", "printf"}
	command.stdout == "log"
	count(command.variables) > 0
	not masks(command)
	e := {"job": script.job, "step": script.step, "scope": "step"}
	held := secret_env(e)
	count(held) > 0
	variable := first_secret_variable(command, held)
	what := concat(", ", sort(held[lower(variable)]))
	msg := sprintf(
		"`%s` prints `$%s`, which holds %s, to the job log: GitHub only masks exact copies of a secret; pass it to the tool that needs it (on stdin or via `env:`) and never print it",
		[command.text, variable, what],
	)
}

deny contains {"msg": msg, "path": e.path, "snippet": e.text} if {
	some e in expressions
	not e.where == "run"
	some ctx in e.contexts
	ctx.path == "secrets"
	"toJSON" in ctx.functions
	msg := sprintf(
		"`toJSON(secrets)` in `%s` hands every secret of the repository to it: pass only the secrets it needs, by name",
		[e.where],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "uses"]} if {
	some job_id, job in object.get(input, "jobs", {})
	job.secrets == "inherit"
	is_string(job.uses)
	not startswith(trim_space(job.uses), "./")
	msg := sprintf(
		"job '%s' passes every secret (`secrets: inherit`) to %s, code outside this repository%s: pass only the secrets it declares",
		[job_id, job.uses, mutable(job.uses)],
	)
}

# ------------------------------------------------ helpers: pasted into run:

pasted_message(what, variable) := sprintf(
	"%s is expanded into a `run:` script: map it in the step's `env:` and use `\"$%s\"` instead, so it never lands in the script or on a command line",
	[what, variable],
)

run_expressions contains e if {
	some e in expressions
	e.scope == "step"
	e.where == "run"
}

# What a context exposes and a variable name for the fix, or undefined: the token, one
# secret (its name as written), or every secret (`secrets`, `secrets[<computed>]`).
secret(ctx) := ["the `github.token`", "GH_TOKEN"] if {
	ctx.path == "github.token"
} else := [sprintf("secret `%s`", [name]), upper(replace(name, "-", "_"))] if {
	ctx.parts[0] == "secrets"
	count(ctx.parts) == 2
	ctx.parts[1] != "*"
	name := ctx.written[1] # as written (`secrets.Api_Key`, `secrets['Api_Key']`)
} else := ["every secret (the whole `secrets` context)", "NAME"] if {
	ctx.parts[0] == "secrets"
}

# env variable (lower-cased) -> what it holds, for the step of expression `e`
secret_env(e) := {name: held |
	some name in env_names(e)
	held := {what |
		some d in steps.env_definitions(e, name)
		some ctx in d.contexts
		ctx.flows
		[what, _] := secret(ctx)
	}
	count(held) > 0
}

# the env variables (lower-cased) the step of `e` sees from `env:` mappings
env_names(e) := {lower(key) |
	some env in [object.get(input, "env", {}), object.get(object.get(object.get(input, "jobs", {}), pipeline.text(e.job), {}), "env", {}), object.get(steps.step_of(e), "env", {})]
	is_object(env)
	some key, _ in env
}

# ------------------------------------------------ helpers: printed to the log

# `echo "::add-mask::$X"` hides the value from the log: printing it that way is the point
masks(command) if {
	some argument in command.arguments
	contains(argument, "::add-mask::")
}

# the first variable the command expands that holds a secret
first_secret_variable(command, held) := names[0] if {
	names := [name | some name in command.variables; held[lower(name)]]
	count(names) > 0
}

# ------------------------------------------------ helpers: reusable workflows

mutable(uses) := "" if {
	regex.match(`@[0-9a-f]{40}$`, trim_space(uses))
} else := " at a ref that can move"
