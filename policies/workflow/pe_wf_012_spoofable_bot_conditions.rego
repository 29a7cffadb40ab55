# METADATA
# title: No trust decisions on github.actor being a bot
# description: >-
#   `github.actor` is whoever caused the latest event, not who wrote the code: when a bot's
#   pull request is updated, re-run or commented on, or a fork names its branch after the
#   bot's, a condition such as `github.actor == 'dependabot[bot]'` can hold for a run whose
#   code an outsider controls, and the steps it guards (auto-merge, secrets, write
#   token) run for them. Reported: `==` between `github.actor` or
#   `github.triggering_actor` and a `...[bot]` name in any `if:` of a workflow that pull
#   requests, comments or `workflow_run` trigger.
# related_resources:
#   - ref: https://www.synacktiv.com/publications/github-actions-exploitation-dependabot
# custom:
#   id: PE-WF-012
#   severity: high
#   kinds: [workflow]
#   source: "seed 003 (security)"
#   remediation: >-
#     Test who opened the pull request, which the event records and nobody can change:
#     `github.event.pull_request.user.login == 'dependabot[bot]'` (and, for
#     auto-merge, use `dependabot/fetch-metadata` on a `pull_request` trigger).
package pe.workflow.spoofable_bot_conditions

import data.pe.workflow.lib.pipeline.triggers
import data.pe.workflow.lib.steps.expressions
import rego.v1

spoofable_actors := {"github.actor", "github.triggering_actor"}

# triggers on which the actor may be someone other than who wrote the code
outsider_triggers := {
	"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment",
	"issue_comment", "workflow_run", "check_run", "check_suite",
}

deny contains {"msg": msg, "path": e.path, "snippet": e.text} if {
	count(triggers & outsider_triggers) > 0
	some e in expressions
	e.where == "if"
	walk(e.ast, [_, node])
	node.type == "binary"
	node.op in {"==", "!="}
	[actor, bot] := actor_and_bot(node)
	msg := sprintf(
		"`%s` compared with '%s' can be satisfied by an outsider's run (the actor is whoever caused the latest event): test `github.event.pull_request.user.login` instead",
		[actor, bot],
	)
}

actor_and_bot(node) := [node.left.path, node.right.value] if {
	node.left.type == "context"
	node.left.path in spoofable_actors
	is_bot(node.right)
} else := [node.right.path, node.left.value] if {
	node.right.type == "context"
	node.right.path in spoofable_actors
	is_bot(node.left)
}

is_bot(node) if {
	node.type == "literal"
	endswith(lower(node.value), "[bot]")
}
