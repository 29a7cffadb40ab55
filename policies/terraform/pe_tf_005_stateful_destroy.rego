# METADATA
# title: Destroying or replacing a stateful resource needs an explicit approval
# description: >-
#   A plan whose actions include "delete" (a destroy, or a replace:
#   delete-then-create or create-then-delete) on a resource that holds data
#   (databases, buckets, tables, volumes, keys: the `stateful_resource_types`
#   parameter) loses that data irreversibly. Such a plan is applied only with
#   an explicit, recorded approval: a waiver for this rule in
#   .pe-policy.yaml, with owner, reason and expiry.
# related_resources:
#   - ref: https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy
# custom:
#   id: PE-TF-005
#   severity: high
#   kinds: [terraform_plan]
#   source: "seed 003 (reversibility), seed 002 (terraform plans gated)"
#   remediation: >-
#     If the destroy is unintended, find the change that forces it (the
#     attribute named in the finding) and make it in place, or add a `moved`
#     block for a rename; set lifecycle { prevent_destroy = true } on the
#     resource. If it is intended, take a backup or snapshot and record the
#     approval as a waiver for PE-TF-005 (owner, reason, expiry).
package pe.terraform.stateful_destroy

import rego.v1

deny contains {"msg": msg, "address": rc.address, "path": location(i, rc)} if {
	some type in data.pe.params.stateful_resource_types # through the index of changes by type: a plan is large
	some i in data.pe.terraform.lib.plan_changes[type]
	rc := input.resource_changes[i]
	rc.mode == "managed"
	"delete" in rc.change.actions
	msg := sprintf(
		"plan %s %s, a stateful %s (%s): apply it only with an explicit approval, a PE-TF-005 waiver with owner, reason and expiry",
		[verb(rc.change.actions), rc.address, rc.type, cause(rc)],
	)
}

verb(actions) := "replaces" if "create" in actions

verb(actions) := "destroys" if not "create" in actions

# the attribute that forces the replacement, located in the .tf file when it is beside the plan
location(i, rc) := array.concat(["resource_changes", i, "change", "after"], forcing_path(rc)) if forcing_path(rc)

location(i, rc) := ["resource_changes", i] if not forcing_path(rc)

forcing_path(rc) := rc.change.replace_paths[0] if {
	"create" in rc.change.actions
	is_array(rc.change.replace_paths[0])
	count(rc.change.replace_paths[0]) > 0
}

# (an `else` chain, not `not is_string(rc.action_reason)`: OPA fails a negated call
# whose argument is undefined, and a plan may carry no action_reason)
cause(rc) := sprintf("%s forces replacement", [concat(".", [sprintf("%v", [p]) | some p in forcing_path(rc)])]) if {
	forcing_path(rc)
} else := object.get(reasons, rc.action_reason, rc.action_reason) if {
	is_string(rc.action_reason)
} else := "its data is lost"

# https://developer.hashicorp.com/terraform/internals/json-format (action_reason)
reasons := {
	"replace_because_tainted": "it is tainted",
	"replace_because_cannot_update": "a change forces replacement",
	"replace_by_request": "replacement was requested with -replace",
	"replace_by_triggers": "replace_triggered_by fired",
	"delete_because_no_resource_config": "it was removed from the configuration",
	"delete_because_no_module": "its module was removed",
	"delete_because_wrong_repetition": "count/for_each was added or removed",
	"delete_because_count_index": "count was lowered",
	"delete_because_each_key": "its for_each key was removed",
	"delete_because_no_move_target": "its moved target does not exist",
}
