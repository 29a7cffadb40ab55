# METADATA
# title: Privileged triggers (context for the other rules)
# description: >-
#   `pull_request_target`, `workflow_run` and `issue_comment` run in the base repository,
#   with its secrets and a token that can write, on events that anyone who can open a pull
#   request or comment sets off. They are not wrong in themselves, but every other
#   finding in such a workflow is worse, and a reviewer should know the workflow is one.
#   Reported once per trigger, as information.
# related_resources:
#   - ref: https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   id: PE-WF-020
#   severity: info
#   kinds: [workflow]
#   source: "seed 003 (security)"
#   remediation: >-
#     Prefer `pull_request` (no secrets, read-only token). If the privileged trigger is
#     needed, never check out or run the pull request's code in it, keep `permissions`
#     minimal, and treat every field of the event as attacker-controlled.
package pe.workflow.privileged_triggers

import data.pe.workflow.lib.pipeline.on_value
import data.pe.workflow.lib.pipeline.triggers
import rego.v1

why := {
	"pull_request_target": "runs with this repository's secrets and a write token on pull requests from forks",
	"workflow_run": "runs with this repository's secrets and a write token after workflows that pull requests from forks can trigger",
	"issue_comment": "runs with this repository's secrets and a write token on comments anyone can post",
}

deny contains {"msg": msg, "path": path(trigger)} if {
	some trigger in triggers
	reason := why[trigger]
	msg := sprintf("`%s` %s: treat every event field as untrusted and never run pull request code here", [trigger, reason])
}

path(trigger) := ["on", trigger] if is_object(on_value)

else := ["on"]
