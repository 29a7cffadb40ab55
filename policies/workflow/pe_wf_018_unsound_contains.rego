# METADATA
# title: contains() tests membership in a list, not in a string
# description: >-
#   `contains('refs/heads/main refs/heads/release', github.ref)` looks for a substring:
#   it also holds for `refs/heads/mai`, `refs/heads/release` prefixes and any ref that
#   happens to be inside the text, so a branch an outsider names can pass a check meant
#   for protected branches. Reported: `contains()` whose first argument is a string
#   literal and whose second is a context (a value the run decides).
# related_resources:
#   - ref: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/evaluate-expressions-in-workflows-and-actions#contains
# custom:
#   id: PE-WF-018
#   severity: medium
#   kinds: [workflow, action]
#   source: "seed 003 (security)"
#   remediation: >-
#     Test membership in a list: `contains(fromJSON('["refs/heads/main",
#     "refs/heads/release"]'), github.ref)`, or compare with `==` joined by `||`.
package pe.workflow.unsound_contains

import data.pe.workflow.lib.steps.expressions
import rego.v1

deny contains {"msg": msg, "path": e.path, "snippet": e.text} if {
	some e in expressions
	some call in e.functions
	lower(call.name) == "contains"
	count(call.arguments) == 2
	call.arguments[0].type == "literal"
	is_string(call.arguments[0].value)
	call.arguments[1].type == "context"
	msg := sprintf(
		"`%s` is a substring test on a string, not a membership test: a value such as a prefix of one of its words passes it; use `contains(fromJSON('[...]'), %s)`",
		[call.text, call.arguments[1].path],
	)
}
