# METADATA
# title: No untrusted data written to $GITHUB_ENV, $GITHUB_PATH or $GITHUB_OUTPUT
# description: >-
#   What a step writes to `$GITHUB_ENV` becomes the environment of every later step, and
#   `$GITHUB_PATH` where they look for programs: a pull request title written there
#   (`TITLE=...` followed by a line break and `LD_PRELOAD=/tmp/x.so`, or `NODE_OPTIONS`,
#   or `BASH_ENV`) runs code in the steps that follow, with their secrets. A value written
#   to `$GITHUB_OUTPUT` travels on to wherever the output is used. Reported: a write to
#   one of these files (read from the shell model: `echo`/`printf`/`cat <<EOF`/`tee`
#   redirected to it) whose content holds an untrusted field (the list PE-WF-006 uses),
#   pasted in as `${{ }}` or through an environment variable set from one.
# related_resources:
#   - ref: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#environment-files
# custom:
#   id: PE-WF-010
#   severity: high
#   kinds: [workflow, action]
#   source: "seed 003 (security)"
#   remediation: >-
#     Do not pass event text on through the environment files: read it where it is needed
#     (`env: {TITLE: ${{ github.event.pull_request.title }}}` on that step). If it must
#     travel, validate it first (`[[ "$BRANCH" =~ ^[A-Za-z0-9._/-]+$ ]]`) or write it with
#     a random heredoc delimiter and never to $GITHUB_PATH.
package pe.workflow.untrusted_environment_files

import data.pe.workflow.lib.steps
import data.pe.workflow.lib.steps.expressions
import data.pe.workflow.lib.untrusted
import rego.v1

environment_files := {"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"}

deny contains {"msg": message(w, concat(", ", sort(found))), "path": w.at} if {
	some s in object.get(input, "scripts", [])
	some w in s.writes
	w.file in environment_files
	found := pasted(w) | through_env(s, w)
	count(found) > 0
}

message(w, found) := sprintf(
	"untrusted %s is written to $%s: %s; read it on the step that needs it, validated, instead",
	[found, w.file, consequence[w.file]],
)

consequence := {
	"GITHUB_ENV": "it becomes the environment of every later step (a line break in it can set LD_PRELOAD or BASH_ENV)",
	"GITHUB_PATH": "it decides where every later step finds its programs",
	"GITHUB_OUTPUT": "it travels on to every step or job that reads the output",
}

# `${{ }}` pasted into the written content
pasted(w) := {f |
	some at in w.expressions
	some e in expressions
	e.at == at
	some f in untrusted.flowing_fields(e)
}

# `$X` in the written content, where the step's env sets X from untrusted data
through_env(s, w) := {sprintf("%s (in `$%s`)", [f, v]) |
	some v in w.variables
	some d in steps.env_definitions(s, lower(v))
	some f in untrusted.flowing_fields(d)
}
