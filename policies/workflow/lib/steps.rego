# Shared by the workflow security rules (PE-WF-001, 007, 010 and up): the steps of a
# workflow or composite action with their paths, what triggers a workflow, and the
# small tests on action references they all make. A library, not a rule: it reports
# nothing itself.
package pe.workflow.lib.steps

import data.pe.workflow.lib.pipeline.text
import data.pe.workflow.lib.pipeline.triggers
import rego.v1

# Every step of a workflow (`jobs.<id>.steps`) or composite action (`runs.steps`):
# {"job": job id ("" in an action), "index": i, "path": path of the step, "step": step}
all_steps contains {"job": job_id, "index": i, "path": ["jobs", job_id, "steps", i], "step": step} if {
	some job_id, job in object.get(input, "jobs", {})
	is_array(job.steps)
	some i, step in job.steps
}

all_steps contains {"job": "", "index": i, "path": ["runs", "steps", i], "step": step} if {
	is_object(input.runs)
	is_array(input.runs.steps)
	some i, step in input.runs.steps
}

# The action a `uses:` names, lowered and without its ref: `actions/checkout`.
# A block scalar (`uses: >-` on its own line) may leave white space around it.
action_name(uses) := lower(parts[0]) if {
	is_string(uses)
	parts := split(trim_space(uses), "@")
} else := ""

# the step runs the action `name` (`owner/repo`, any ref)
uses_action(step, name) if action_name(step.uses) == name

# [action name, all_steps entry] of every step that runs an action, and the set of those
# names. Worked out once per file: a rule that looks for a few actions first asks
# `"actions/checkout" in used_actions` (most files use none of them), then reads
# named_steps, instead of calling action_name on every step itself (on regorus each
# function call costs, and function results are not cached as rules are).
named_steps := [[action_name(s.step.uses), s] | some s in all_steps; is_string(s.step.uses)]

used_actions contains name if some [name, _] in named_steps

# the value of a step's input `with.<key>`, "" when not given or not a string
with_input(step, key) := text(object.get(step["with"], key, "")) if {
	is_object(step["with"])
} else := ""

# ------------------------------------------------------------------ triggers

# (the triggers themselves, and `on:` as conftest's YAML 1.1 also reads it, are
# lib/pipeline.rego's `triggers` and `on_value`)

# Triggers a pull request from a fork (anyone with a GitHub account) sets off.
fork_pr_triggers := triggers & {"pull_request", "pull_request_target"}

# -------------------------------------------------- parsed expressions and env

# every `${{ }}` of the file, parsed by the loader (contexts, functions, where it sits)
expressions := object.get(input, "expressions", [])

# the paths of the strings that hold a `${{ }}` (their value is only known at run time)
expression_paths contains e.path if some e in expressions

# the step a (step-scope) expression sits in
step_of(e) := input.jobs[e.job].steps[e.step] if {
	is_string(e.job)
} else := input.runs.steps[e.step]

# The `${{ }}` expressions that give the environment variable `name` (lower-cased) its
# value for the step of expression `e`: the innermost `env:` that defines it (step,
# then job, then workflow) decides, as GitHub merges them.
env_definitions(e, name) := {d |
	scope := deciding_scope(e, name)
	some d in expressions
	d.where == "env"
	d.scope == scope
	lower(text(d.name)) == name
	same_place(d, e)
}

deciding_scope(e, name) := "step" if {
	defines(object.get(step_of(e), "env", {}), name)
} else := "job" if {
	defines(object.get(object.get(object.get(input, "jobs", {}), text(e.job), {}), "env", {}), name)
} else := "workflow"

defines(env, name) if {
	is_object(env)
	some key, _ in env
	lower(key) == name
}

same_place(d, e) if {
	d.scope == "step"
	d.job == e.job
	d.step == e.step
}

same_place(d, e) if {
	d.scope == "job"
	d.job == e.job
}

same_place(d, _) if d.scope == "workflow"
