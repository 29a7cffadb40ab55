# METADATA
# title: Production deploys go through a protected environment, from main or a release tag
# description: >-
#   A production deploy job names a protected environment (`environment:
#   production`), so GitHub holds it for the required reviewers, and it can
#   only run for `main` or a release tag. Production is any environment whose
#   name contains a word of the `production_environments` parameter
#   (`production`, `prod-eu`, `eu-prod` ...); a deploy job (see PE-WF-003)
#   whose id, name or steps mention production but that names no environment
#   is reported as unprotected. A job calling a reusable workflow with a
#   production `environment` input is a production deploy too (the called
#   workflow must declare the environment; GitHub does not allow it on the
#   caller). The ref is restricted when the job's `if:` (or the `if:` of a job
#   it needs, unless it runs `always()`) compares `github.ref` with a
#   `release_refs` entry (`github.ref == 'refs/heads/main'`,
#   `startsWith(github.ref, 'refs/tags/')`, `github.ref_name == 'main'`,
#   `github.ref_type == 'tag'`, or `github.event_name == 'push'` when pushes
#   are filtered to those refs), or when every trigger is restricted: `push`
#   filtered to those branches or to tags, `release`, `schedule`,
#   `workflow_run` filtered to those branches. Workflows run only through
#   `workflow_call` leave the ref to their caller.
# related_resources:
#   - ref: https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment
# custom:
#   id: PE-WF-005
#   severity: high
#   kinds: [workflow]
#   source: "seed 002 (continuous delivery: production deploys require manual approval via GitHub environments), seed 003 (safety first)"
#   remediation: >-
#     Give the job `environment: production` (with required reviewers and a
#     deployment branch policy in the repository settings) and guard it with
#     `if: github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')`,
#     or trigger the workflow only on `push: {branches: [main], tags: ['v*']}`.
package pe.workflow.production_deploy

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.pipeline.ancestors
import data.pe.workflow.lib.pipeline.job_environments
import data.pe.workflow.lib.pipeline.stage_jobs
import data.pe.workflow.lib.pipeline.triggers
import data.pe.workflow.lib.steps.expressions
import rego.v1

# Evaluation cost (regorus, once per workflow) shapes this rule, see lib/pipeline.rego:
# the library's rules are imported by name (read through the package, `pipeline.jobs`,
# regorus evaluates every rule of the library first), jobs and steps are read from the
# input directly (a call per job costs more than the loop), and big regexes only run
# where a cheap test passes.

release_refs := data.pe.params.release_refs

# a word of the parameter between non-letters (or the ends)
production := sprintf(`(?i)(^|[^a-z])(%s)([^a-z]|$)`, [concat("|", data.pe.params.production_environments)])

# ------------------------------------------------------------------ findings

deny contains {"msg": msg, "path": ["jobs", job_id]} if {
	some job_id in unprotected
	msg := sprintf(
		"deploy job '%s' deploys to production without a protected environment: add `environment: production` so the deploy waits for the required reviewers",
		[job_id],
	)
}

deny contains {"msg": msg, "path": ref_path(job_id)} if {
	not called_only
	some job_id in production_jobs
	not job_id in restricted
	msg := sprintf(
		"production deploy job '%s' can run from any branch (%s): guard it with `if: github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')` or trigger it only on pushes to main and release tags",
		[job_id, concat(", ", sort([describe(t) | some t in unsafe_triggers]))],
	)
}

# how a trigger lets other refs in: a filter on other branches is still a filter
describe(trigger) := sprintf("`%s` on branches %s, not only %s", [trigger, listed(branches), allowed_refs]) if {
	trigger in {"push", "workflow_run"}
	branches := as_list(object.get(pipeline.trigger_config(trigger), "branches", []))
	count(branches) > 0
} else := sprintf("`%s` on every branch but %s", [trigger, listed(ignored)]) if {
	trigger in {"push", "workflow_run"}
	ignored := as_list(object.get(pipeline.trigger_config(trigger), "branches-ignore", []))
	count(ignored) > 0
} else := sprintf("`%s` with tags other than release tags", [trigger]) if {
	trigger == "push"
	cfg := pipeline.trigger_config(trigger)
	filtered(cfg)
} else := sprintf("`%s` on any branch", [trigger]) if {
	trigger in {"push", "workflow_run"}
} else := sprintf("`%s`", [trigger])

listed(names) := concat(", ", [sprintf("`%s`", [name]) | some name in names])

allowed_refs := concat(" and ", [sprintf("`%s`", [ref]) | some ref in release_refs])

# ------------------------------------------------------- production deploy jobs

# (one rule with a body per kind, rather than a rule per kind: each rule evaluated costs)

# protected: its environment names production
production_jobs contains job_id if {
	some job_id, name in job_environments
	regex.match(production, name)
}

# a reusable-workflow call with a production `environment` input
production_jobs contains job_id if {
	some job_id, job in input.jobs
	is_string(job.uses)
	some key, value in object.get(job, "with", {})
	contains(lower(key), "env")
	is_string(value)
	regex.match(production, value)
}

# a deploy job that mentions production but names no environment
production_jobs contains job_id if some job_id in unprotected

unprotected contains job_id if {
	some job_id in stage_jobs.deploy
	job := input.jobs[job_id]
	not pipeline.calls_workflow(job)
	object.get(job_environments, job_id, "") == "" # no environment (or an empty one)
	mentions_production(job_id, job)
}

# its label, scripts or `with:` values name production: one match over all of them, a
# line each (no word spans a line break; one regex call costs less than one per step)
mentions_production(job_id, job) if {
	steps := pipeline.steps_of(job)
	scripts := [step.run | some step in steps; is_string(step.run)]
	inputs := [value | some step in steps; some value in object.get(step, "with", {}); is_string(value)]
	regex.match(production, concat("\n", array.concat(array.concat([pipeline.label(job_id, job)], scripts), inputs)))
}

ref_path(job_id) := ["jobs", job_id, "environment"] if {
	input.jobs[job_id].environment
} else := ["jobs", job_id]

# ------------------------------------------------------------ ref restriction

called_only if triggers == {"workflow_call"}

# The production jobs that run only for a release ref: their `if:` pins the ref, or the
# `if:` of a job they need does (unless they run regardless), or every trigger does.
# (a set computed once, not a function of the job: a function reading the input and
# other rules is a hidden argument)
restricted contains job_id if {
	some job_id in production_jobs
	job_id in pinned_by_if
}

restricted contains job_id if {
	some job_id in production_jobs
	not job_id in runs_regardless
	some upstream in ancestors[job_id]
	upstream in pinned_by_if
}

restricted contains job_id if {
	count(unsafe_triggers) == 0
	some job_id in production_jobs
}

# the parsed `${{ }}` of the jobs' `if:` (one pass over the file's expressions for the rules below)
job_conditions contains e if {
	some e in expressions
	e.where == "if"
	e.scope == "job"
}

# The jobs whose `if:` calls always(), failure() or cancelled() (read from the parsed
# condition, with or without `${{ }}`, in any spelling; never a word in a string literal):
# GitHub then drops the implicit success(), so they run even when the jobs they need were
# skipped.
runs_regardless contains e.job if {
	some e in job_conditions
	some call in e.functions
	call.name in {"always", "failure", "cancelled"}
}

unsafe_triggers contains trigger if {
	some trigger in triggers
	not safe_trigger(trigger)
}

# scheduled runs use the default branch; a called workflow's caller decides
safe_trigger(trigger) if trigger in {"schedule", "workflow_call"}

safe_trigger("release") if tags_allowed

safe_trigger("push") if {
	cfg := pipeline.trigger_config("push")
	not cfg["branches-ignore"]
	filtered(cfg)
	tags_ignore_allowed(cfg)
	every branch in as_list(object.get(cfg, "branches", [])) {
		branch_allowed(branch)
	}
	every tag in as_list(object.get(cfg, "tags", [])) {
		tag_allowed(tag)
	}
}

safe_trigger("workflow_run") if {
	cfg := pipeline.trigger_config("workflow_run")
	count(as_list(object.get(cfg, "branches", []))) > 0
	every branch in as_list(cfg.branches) {
		branch_allowed(branch)
	}
}

# a push filter that leaves out arbitrary branches
filtered(cfg) if {
	cfg.branches
} else if {
	cfg.tags
} else if {
	cfg["tags-ignore"]
}

tags_ignore_allowed(cfg) if {
	not cfg["tags-ignore"]
} else if {
	tags_allowed
}

as_list(x) := x if {
	is_array(x)
} else := [x] if {
	is_string(x)
} else := []

branch_allowed(branch) if {
	concat("", ["refs/heads/", branch]) in release_refs
} else if {
	some prefix in release_refs
	endswith(prefix, "/")
	startswith(concat("", ["refs/heads/", branch]), prefix)
}

tag_allowed(tag) if {
	concat("", ["refs/tags/", tag]) in release_refs
} else if {
	some prefix in release_refs
	startswith(prefix, "refs/tags/")
	endswith(prefix, "/")
	startswith(concat("", ["refs/tags/", tag]), prefix)
}

tags_allowed if "refs/tags/" in release_refs

# ------------------------------------------------- `if:` conditions, parsed

# The jobs whose `if:` (the parsed condition: the loader's AST, never its text) runs them only
# for a release ref: every way the condition can be true pins the ref. Only a condition that
# is all of the `if:` counts: `if: |` with a `${{ }}` and a line break is a non-empty string,
# true whatever the ref. (Only jobs with a production deploy or one that waits for them are
# asked; the rule is computed for every job with an `if:` once.)
pinned_by_if contains e.job if {
	some e in job_conditions
	e.whole
	pins_4(e.ast)
}

# A condition pins the ref: a pinning comparison or call (pin); an `&&` with an operand that
# pins; an `||` whose operands all pin. Rego has no recursion: unrolled to four levels of
# `&&`/`||` alternation (`(a || b) && c`, `a && (b || c) || d`, ...); deeper nesting pins
# nothing, which reports the job rather than miss one.
pins_4(node) if pin(node)

pins_4(node) if {
	node.op == "&&"
	some operand in operands(node, "&&")
	pins_3(operand)
}

pins_4(node) if {
	node.op == "||"
	every operand in operands(node, "||") {
		pins_3(operand)
	}
}

pins_3(node) if pin(node)

pins_3(node) if {
	node.op == "&&"
	some operand in operands(node, "&&")
	pins_2(operand)
}

pins_3(node) if {
	node.op == "||"
	every operand in operands(node, "||") {
		pins_2(operand)
	}
}

pins_2(node) if pin(node)

pins_2(node) if {
	node.op == "&&"
	some operand in operands(node, "&&")
	pins_1(operand)
}

pins_2(node) if {
	node.op == "||"
	every operand in operands(node, "||") {
		pins_1(operand)
	}
}

pins_1(node) if pin(node)

pins_1(node) if {
	node.op == "&&"
	some operand in operands(node, "&&")
	pin(operand)
}

pins_1(node) if {
	node.op == "||"
	every operand in operands(node, "||") {
		pin(operand)
	}
}

# the operands of a chain of `op` (`a || b || c`, grouped any way): none is itself an `op`
operands(node, op) := [operand |
	walk(node, [path, operand])
	count(path) > 0
	chained(node, path, op)
	not operand.op == op
]

# every step of `path` from `root` goes into an operand of an `op`
chained(root, path, op) if {
	every i, step in path {
		step in {"left", "right"}
		object.get(root, array.slice(path, 0, i), null).op == op
	}
}

# `github.ref == 'refs/heads/main'` (either way round; GitHub compares strings ignoring case),
# `github.ref_name == 'main'`, `github.ref_type == 'tag'`, `github.event_name == 'push'` where
# pushes are already restricted
pin(node) if {
	node.type == "binary"
	node.op == "=="
	some [ctx, literal] in [[node.left, node.right], [node.right, node.left]]
	ctx.type == "context"
	literal.type == "literal"
	is_string(literal.value)
	pinned_value(ctx.path, lower(literal.value))
}

# `github.event_name != 'pull_request'` where that is the only unrestricted trigger
pin(node) if {
	node.type == "binary"
	node.op == "!="
	some [ctx, literal] in [[node.left, node.right], [node.right, node.left]]
	ctx.type == "context"
	ctx.path == "github.event_name"
	literal.type == "literal"
	is_string(literal.value)
	unsafe_triggers == {lower(literal.value)}
}

# `startsWith(github.ref, 'refs/tags/')` with a `release_refs` prefix
pin(node) if {
	node.type == "call"
	lower(node.name) == "startswith"
	[ctx, literal] := node.arguments
	ctx.type == "context"
	ctx.path == "github.ref"
	literal.type == "literal"
	is_string(literal.value)
	some prefix in release_refs
	endswith(prefix, "/")
	startswith(lower(literal.value), lower(prefix))
}

pinned_value(path, value) if {
	path == "github.ref"
	some ref in release_refs
	not endswith(ref, "/")
	lower(ref) == value
}

pinned_value(path, value) if {
	path == "github.ref_name"
	some ref in release_refs
	startswith(ref, "refs/heads/")
	not endswith(ref, "/")
	lower(ref) == concat("", ["refs/heads/", value])
}

pinned_value(path, value) if {
	path == "github.ref_type"
	value == "tag"
	tags_allowed
}

pinned_value(path, value) if {
	path == "github.event_name"
	value in triggers
	safe_trigger(value)
}
