# METADATA
# title: pull_request_target / workflow_run must not check out and run the pull request's code
# description: >-
#   `pull_request_target` and `workflow_run` workflows run in the base
#   repository with a write token and its secrets. Checking out the pull
#   request's head there (`actions/checkout` with `ref:` the head SHA or
#   branch, `refs/pull/N/merge`, or the fork as `repository:`; `gh pr
#   checkout`; `git fetch ... pull/N`) and then running anything from it (a
#   later `run:` step, a local `./` action, a Docker build) hands that token
#   and those secrets to whoever opened the pull request ("pwn request").
#   Also reported: a `workflow_run` job that downloads the artifacts of the run that
#   triggered it (`actions/download-artifact` with that `run-id`,
#   `dawidd6/action-download-artifact`, `gh run download`, or `actions/github-script`
#   fetching it and a later `unzip`) into the workspace and then
#   runs anything: a pull request's run uploads those artifacts, so they can overwrite
#   the scripts, lock files or tools that the privileged job executes (artifact
#   poisoning). Downloading into `${{ runner.temp }}` and reading the files as data is fine.
# related_resources:
#   - ref: https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   id: PE-WF-007
#   severity: critical
#   kinds: [workflow]
#   source: "seed 003 (security: never run unapproved code)"
#   remediation: >-
#     Build and test pull requests in a `pull_request` workflow (no secrets,
#     read-only token). If a privileged follow-up is needed (labelling,
#     commenting), trigger it with `workflow_run`, download the other run's
#     artifacts as data (into `${{ runner.temp }}`, never the workspace), and never check
#     out or execute the pull request's code.
package pe.workflow.untrusted_checkout

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.pipeline.triggers
import data.pe.workflow.lib.steps
import data.pe.workflow.lib.steps.expressions
import data.pe.workflow.lib.steps.named_steps
import data.pe.workflow.lib.steps.used_actions
import rego.v1

# Evaluation cost (regorus, once per workflow) shapes this rule, see lib/pipeline.rego:
# the library's rules are imported by name (read through the package, `pipeline.jobs`,
# regorus evaluates every rule of the library first), jobs and steps are read from the
# input directly (a call per job costs more than the loop), and big regexes only run
# where a cheap test passes.

privileged contains t if {
	some t in triggers
	t in {"pull_request_target", "workflow_run"}
}

# The pull request's head as contexts (paths lower-cased, as the loader gives them): its
# ref or SHA (what `ref:` or `git fetch` would take) and its repository (the fork).
head_refs := {
	"github.event.pull_request.head.sha", "github.event.pull_request.head.ref", "github.head_ref",
	"github.event.workflow_run.head_sha", "github.event.workflow_run.head_branch",
	"github.event.workflow_run.head_commit.id", "github.event.pull_request.merge_commit_sha",
}

head_repositories := {"github.event.pull_request.head.repo.full_name", "github.event.workflow_run.head_repository.full_name"}

# the checkout input -> the contexts that make it the pull request's code
head_inputs := {"ref": head_refs, "repository": head_repositories}

deny contains object.union({"msg": msg, "path": checkout.path}, checkout.extra) if {
	count(privileged) > 0
	some checkout in checkouts
	runner := first_runner(checkout.job, checkout.index)
	msg := sprintf(
		"%s workflow checks out the pull request's code (`%s`) and runs it in step %s: that code gets this workflow's write token and secrets; build and test it in a `pull_request` workflow instead",
		[concat("/", sort(privileged)), checkout.what, runner],
	)
}

# artifact poisoning: see artifact_downloads below
deny contains {"msg": msg, "path": download.path} if {
	"workflow_run" in triggers
	some download in artifact_downloads
	runner := first_runner(download.job, download.index)
	msg := sprintf(
		"workflow_run job downloads the triggering run's artifacts (`%s`) into the workspace and then runs step %s: a pull request's run made those artifacts, so they can replace what this privileged job executes; download into ${{ runner.temp }} and treat them as data",
		[download.what, runner],
	)
}

# `actions/checkout` whose `ref:` or `repository:` is the head: a parsed `${{ }}` there whose
# value can be one of the head's contexts (not one only compared or tested)
checkouts contains {"job": e.job, "index": e.step, "path": e.path, "what": what, "extra": {}} if {
	"actions/checkout" in used_actions
	some e in expressions
	e.where == "with"
	e.scope == "step"
	is_string(e.job)
	[_, input_name] := e.key_path
	some ctx in e.contexts
	ctx.flows
	ctx.path in head_inputs[input_name]
	step := input.jobs[e.job].steps[e.step]
	steps.uses_action(step, "actions/checkout")
	what := step["with"][input_name]
}

# `ref: refs/pull/${{ github.event.number }}/merge`: the pull request's ref written out (in
# the text around the expressions, or as a string literal in one: `format('refs/pull/{0}/merge', ...)`)
checkouts contains {"job": s.job, "index": s.index, "path": path, "what": ref, "extra": {}} if {
	"actions/checkout" in used_actions
	some [name, s] in named_steps
	name == "actions/checkout"
	s.job != ""
	ref := s.step["with"].ref
	is_string(ref)
	path := array.concat(s.path, ["with", "ref"])
	pull_request_ref(path, ref)
}

# `gh pr checkout`, `git fetch ... pull/N...`, or git fetching/checking out a head ref
# given as `${{ }}` (read from the shell model and the parsed expressions)
# (reported on the `run:` with the command as snippet: the fingerprint stays what it was
# when this was read from the text)
checkouts contains {"job": script.job, "index": script.step, "path": script.path, "what": command.text, "extra": {"snippet": command.text}} if {
	some script in object.get(input, "scripts", [])
	is_string(script.job)
	some command in script.commands
	fetches_head(script, command)
}

fetches_head(_, command) if {
	command.name == "gh"
	array.slice(command.arguments, 0, 2) == ["pr", "checkout"]
}

fetches_head(_, command) if {
	command.name == "git"
	command.arguments[0] == "fetch"
	some argument in command.arguments
	contains(argument, "pull/")
}

fetches_head(script, command) if {
	command.name == "git"
	command.arguments[0] in {"checkout", "switch", "fetch", "pull", "clone"}
	some e in expressions
	e.job == script.job
	e.step == script.step
	e.where == "run"
	within(e, command)
	some ctx in e.contexts
	ctx.path in head_refs
}

pull_request_ref(path, value) if {
	literal_text := strings.replace_n({e.text: "" | some e in expressions; e.path == path}, value)
	contains(literal_text, "refs/pull/")
} else if {
	some e in expressions
	e.path == path
	walk(e.ast, [_, node])
	node.type == "literal"
	is_string(node.value)
	contains(node.value, "refs/pull/")
}

# expression `e` sits inside the span of `command`
within(e, command) if {
	[e.line, e.column] >= [command.line, command.column]
	[e.end_line, e.end_column] <= [command.end_line, command.end_column]
}

# how messages name the first step after step `index` of the job that runs code
first_runner(job_id, index) := pipeline.step_label(job_steps[first], first) if {
	job_steps := pipeline.steps_of(input.jobs[job_id])
	runners := [j | some j, later in job_steps; j > index; runs_code(later)]
	count(runners) > 0
	first := min(runners)
}

runs_code(step) if is_string(step.run)

runs_code(step) if startswith(pipeline.text(step.uses), "./")

runs_code(step) if steps.action_name(step.uses) in code_running_actions

# actions that build or run the checked-out code (a Dockerfile, a build script)
code_running_actions := {"docker/build-push-action", "docker/bake-action", "github/codeql-action/autobuild"}

# ------------------------------------------------------------ artifact poisoning

# a download of the triggering run's artifacts that lands in the workspace
artifact_downloads contains {"job": s.job, "index": s.index, "path": array.concat(s.path, ["uses"]), "what": s.step.uses} if {
	"actions/download-artifact" in used_actions
	some [name, s] in named_steps
	name == "actions/download-artifact"
	of_triggering_run(array.concat(s.path, ["with", "run-id"]))
	not input_in_temp(s, "path")
}

artifact_downloads contains {"job": s.job, "index": s.index, "path": array.concat(s.path, ["uses"]), "what": s.step.uses} if {
	"dawidd6/action-download-artifact" in used_actions
	some [name, s] in named_steps
	name == "dawidd6/action-download-artifact"
	not input_in_temp(s, "path")
}

# `gh run download` (read from the shell model) without `-D`/`--dir` under the temp directory
artifact_downloads contains {"job": pipeline.text(script.job), "index": script.step, "path": command.at, "what": command.text} if {
	some script in object.get(input, "scripts", [])
	some command in script.commands
	command.name == "gh"
	array.slice(command.arguments, 0, 2) == ["run", "download"]
	not into_temp(command)
}

# the GitHub Security Lab pattern: github-script fetches the run's artifact zip
# (`downloadArtifact`), a later step unzips it where the job's code lives
artifact_downloads contains {"job": s.job, "index": s.index, "path": array.concat(s.path, ["uses"]), "what": "github-script downloadArtifact"} if {
	"actions/github-script" in used_actions
	some [name, s] in named_steps
	name == "actions/github-script"
	contains(steps.with_input(s.step, "script"), "downloadArtifact")
	some script in object.get(input, "scripts", [])
	pipeline.text(script.job) == s.job
	script.step > s.index
	some command in script.commands
	command.name == "unzip"
	not into_temp(command)
}

# the input at `path` is the triggering run's id: `${{ github.event.workflow_run.id }}`
of_triggering_run(path) if {
	some e in expressions
	e.path == path
	some ctx in e.contexts
	ctx.flows
	startswith(ctx.path, "github.event.workflow_run.")
}

# `-D DIR`, `--dir DIR`, `--dir=DIR` or (unzip) `-d DIR` under the runner's temp directory
into_temp(command) if {
	some i, flag in command.arguments
	flag in {"-D", "--dir", "-d"}
	count(command.arguments) > i + 1 # a negated call on an undefined argument differs between engines
	argument_in_temp(command, i + 1, 0)
}

into_temp(command) if {
	some i, argument in command.arguments
	startswith(argument, "--dir=")
	argument_in_temp(command, i, 6)
}

# Argument `i` of the command, from character `from` on, is a path under the temp directory:
# what it expands first (read from the shell model) is `$RUNNER_TEMP` or a parsed
# `${{ runner.temp }}`, with only a quote before it; or it is a literal path under `/tmp/`.
argument_in_temp(command, i, from) if {
	some expansion in object.get(command, "expansions", [])[i]
	quote_only(substring(command.arguments[i], from, expansion.offset - from))
	temp_expansion(expansion)
} else if {
	startswith(trim_left(substring(command.arguments[i], from, -1), "\"'"), "/tmp/")
}

temp_expansion(expansion) if expansion.variable == "RUNNER_TEMP"

temp_expansion(expansion) if {
	some e in expressions
	e.at == expansion.expression
	e.ast.type == "context"
	e.ast.path == "runner.temp"
}

quote_only(text) if text in {"", "\"", "'"}

# The step's input `name` (a path) is under the runner's temp directory: it starts with
# `${{ runner.temp }}` (the parsed expression, first in the value and nothing but the
# context), or is a literal path under it.
input_in_temp(s, name) if {
	value := s.step["with"][name]
	is_string(value)
	path := array.concat(s.path, ["with", name])
	some e in expressions
	e.path == path
	e.at[count(e.at) - 1] == 0 # the first `${{ }}` of the value ...
	e.ast.type == "context"
	e.ast.path == "runner.temp" # ... is `${{ runner.temp }}`
	trim(substring(value, 0, e.offset), " \t\n\"'") == "" # with nothing but quotes before it
} else if {
	temp_literal(steps.with_input(s.step, name))
}

# a path written out under the temp directory (no `${{ }}`): `/tmp/x`, `$RUNNER_TEMP/x`
temp_literal(path) if regex.match(`^\s*["']?(\$\{?RUNNER_TEMP|/tmp/)`, path)
