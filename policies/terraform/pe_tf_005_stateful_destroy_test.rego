package pe.terraform.stateful_destroy_test

import data.pe.terraform.stateful_destroy
import rego.v1

params := {"stateful_resource_types": ["aws_db_instance", "aws_s3_bucket"]}

plan(type, actions, extra) := {"resource_changes": [object.union(
	{
		"address": concat(".", [type, "x"]), "mode": "managed",
		"type": type, "name": "x", "change": {"actions": actions, "before": {}, "after": null},
	},
	extra,
)]}

test_destroying_a_database if {
	results := stateful_destroy.deny with input as plan("aws_db_instance", ["delete"], {}) with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0]
	contains(r.msg, "destroys aws_db_instance.x")
}

test_replacement_points_at_the_forcing_attribute if {
	replacement := {"change": {"actions": ["delete", "create"], "before": {}, "after": {"identifier": "b"}, "replace_paths": [["identifier"]]}}
	results := stateful_destroy.deny with input as plan("aws_db_instance", [], replacement) with data.pe.params as params
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "identifier"]
	contains(r.msg, "replaces")
}

test_create_before_destroy_replacement if {
	count(stateful_destroy.deny) == 1 with input as plan("aws_s3_bucket", ["create", "delete"], {}) with data.pe.params as params
}

test_stateless_delete_is_fine if {
	count(stateful_destroy.deny) == 0 with input as plan("aws_security_group_rule", ["delete"], {}) with data.pe.params as params
}

test_update_is_fine if {
	count(stateful_destroy.deny) == 0 with input as plan("aws_db_instance", ["update"], {}) with data.pe.params as params
}

test_reason_is_explained if {
	results := stateful_destroy.deny with input as plan("aws_s3_bucket", ["delete"], {"action_reason": "delete_because_no_resource_config"})
		with data.pe.params as params
	some r in results
	contains(r.msg, "removed from the configuration")
}

numbered_change(i, type, actions) := {
	"address": sprintf("%s.r%d", [type, i]), "mode": "managed", "type": type,
	"name": sprintf("r%d", [i]), "change": {"actions": actions, "before": {}, "after": null},
}

test_only_deleted_stateful_resources_among_many if {
	changes := [
		numbered_change(0, "aws_instance", ["delete"]), numbered_change(1, "aws_s3_bucket", ["update"]),
		numbered_change(2, "aws_s3_bucket", ["delete"]), numbered_change(3, "aws_db_instance", ["delete"]),
	]
	results := stateful_destroy.deny with input as {"resource_changes": changes} with data.pe.params as params
	{r.path | some r in results} == {["resource_changes", 2], ["resource_changes", 3]}
}
