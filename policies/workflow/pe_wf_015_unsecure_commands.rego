# METADATA
# title: ACTIONS_ALLOW_UNSECURE_COMMANDS is never enabled
# description: >-
#   `ACTIONS_ALLOW_UNSECURE_COMMANDS` brings back the `::set-env::` and `::add-path::`
#   workflow commands GitHub disabled in 2020 (CVE-2020-15228): anything that a step
#   prints (a test name, a file name, a log line from a pull request) can then set
#   `LD_PRELOAD`, `NODE_OPTIONS` or `PATH` for every later step. Reported wherever it is
#   set to anything but false: workflow, job, step or composite-action step `env:`.
# related_resources:
#   - ref: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/
# custom:
#   id: PE-WF-015
#   severity: high
#   kinds: [workflow, action]
#   source: "seed 003 (security)"
#   remediation: >-
#     Remove `ACTIONS_ALLOW_UNSECURE_COMMANDS` and write to the environment files instead:
#     `echo "NAME=value" >> "$GITHUB_ENV"`, `echo "$DIR" >> "$GITHUB_PATH"`.
package pe.workflow.unsecure_commands

import data.pe.workflow.lib.steps.all_steps
import rego.v1

variable := "ACTIONS_ALLOW_UNSECURE_COMMANDS"

# (path, value) of the variable in every `env:` that sets it (workflow, job, step): most set
# it nowhere, and no path is built for them (on regorus each one costs)
settings contains [["env"], value] if value := input.env[variable]

settings contains [["jobs", job_id, "env"], value] if {
	some job_id, job in input.jobs
	value := job.env[variable]
}

settings contains [array.concat(s.path, ["env"]), value] if {
	some s in all_steps
	value := s.step.env[variable]
}

deny contains {"msg": msg, "path": path} if {
	some [path, value] in settings
	enabled(value)
	msg := sprintf(
		"`%s` re-enables the `::set-env::`/`::add-path::` commands: any output of this job can then set its environment; write to $GITHUB_ENV/$GITHUB_PATH instead",
		[variable],
	)
}

enabled(value) if not lower(trim_space(sprintf("%v", [value]))) in {"false", "0", "", "null"}
