package pe.terraform.encryption_at_rest_test

import data.pe.terraform.encryption_at_rest
import rego.v1

resource(type, name, values) := {
	"block_type": "resource", "type": type, "name": name,
	"address": concat(".", [type, name]), "values": values,
}

change(type, after, unknown) := {"resource_changes": [{
	"address": concat(".", [type, "x"]), "mode": "managed", "type": type,
	"name": "x", "change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}]}

test_db_not_encrypted if {
	results := encryption_at_rest.deny with input as change("aws_db_instance", {"storage_encrypted": false}, {})
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "storage_encrypted"]
}

test_db_encrypted_is_fine if {
	count(encryption_at_rest.deny) == 0 with input as change("aws_db_instance", {"storage_encrypted": true}, {})
}

test_unknown_is_not_judged if {
	count(encryption_at_rest.deny) == 0 with input as change("aws_rds_cluster", {}, {"storage_encrypted": true})
}

test_read_replica_inherits if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_db_instance", "r", {"replicate_source_db": "${aws_db_instance.main.identifier}"})]}
}

test_volume_unset if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_ebs_volume", "v", {"size": 10})]}
	some r in results
	r.path == ["blocks", 0, "values"]
	contains(r.msg, "does not set encrypted")
}

test_default_ebs_encryption_covers_volumes if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [
		resource("aws_ebs_volume", "v", {"size": 10}),
		resource("aws_ebs_encryption_by_default", "on", {"enabled": true}),
	]}
}

test_bucket_without_sse_gets_sse_s3_by_default if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_s3_bucket", "b", {"bucket": "logs"})]}
		with data.pe.params as {"s3_require_kms": false}
}

test_bucket_without_sse_when_kms_is_required if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_s3_bucket", "b", {"bucket": "logs"})]}
		with data.pe.params as {"s3_require_kms": true}
	count(results) == 1
	some r in results
	contains(r.msg, "S3 bucket aws_s3_bucket.b has no server-side encryption configuration")
}

test_aes256_when_kms_is_required if {
	sse := resource("aws_s3_bucket_server_side_encryption_configuration", "b", {
		"bucket": "${aws_s3_bucket.b.id}",
		"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}],
	})
	blocks := [resource("aws_s3_bucket", "b", {"bucket": "logs"}), sse]
	count(encryption_at_rest.deny) == 0 with input as {"blocks": blocks} with data.pe.params as {"s3_require_kms": false}
	results := encryption_at_rest.deny with input as {"blocks": blocks} with data.pe.params as {"s3_require_kms": true}
	count(results) == 1
	kms := json.patch(sse, [{"op": "replace", "path": "/values/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm", "value": "aws:kms"}])
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [blocks[0], kms]} with data.pe.params as {"s3_require_kms": true}
	some r in results
	r.path == ["blocks", 1, "values", "rule", 0, "apply_server_side_encryption_by_default", 0, "sse_algorithm"]
}

test_bucket_with_sse_resource_is_fine if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [
		resource("aws_s3_bucket", "b", {"bucket": "logs"}),
		resource("aws_s3_bucket_server_side_encryption_configuration", "b", {"bucket": "${aws_s3_bucket.b.bucket}"}),
	]}
}

test_bucket_with_inline_sse_is_fine if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_s3_bucket", "b", {"bucket": "logs", "server_side_encryption_configuration": [{"rule": [{}]}]})]}
}

test_instance_block_device if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_instance", "i", {"root_block_device": [{"encrypted": true}], "ebs_block_device": [{"volume_size": 10}]})]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "ebs_block_device", 0]
}

test_attribute_written_as_a_string if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_ebs_volume", "v", {"encrypted": "true"})]}
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_ebs_volume", "v", {"encrypted": "false"})]}
	[r.path | some r in results] == [["blocks", 0, "values", "encrypted"]]
}

test_instance_device_string_or_expression_is_fine if {
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_instance", "i", {"root_block_device": [{"encrypted": "true"}], "ebs_block_device": [{"encrypted": "${var.encrypted}"}]})]}
}

test_instance_without_root_block_device if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_instance", "i", {"ami": "ami-1"})]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values"]
	contains(r.msg, "declares no root_block_device")
	from_template := resource("aws_instance", "i", {"launch_template": [{"id": "${aws_launch_template.t.id}"}]})
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [from_template]}
}

test_empty_root_block_device if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_launch_configuration", "c", {"root_block_device": [{}]})]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "root_block_device", 0]
}

test_dynamic_block_device if {
	dynamic := {"dynamic": [{"root_block_device": {"for_each": "${[var.root]}", "content": [{"volume_size": "${root_block_device.value}", "encrypted": false}]}}]}
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_instance", "i", dynamic)]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "dynamic", 0, "root_block_device", "content", 0]
	contains(r.msg, `dynamic "root_block_device" sets encrypted = false`)
	encrypted := {"dynamic": [{"root_block_device": {"for_each": "${[1]}", "content": [{"encrypted": "${var.encrypt}"}]}}]}
	count(encryption_at_rest.deny) == 0 with input as {"blocks": [resource("aws_instance", "i", encrypted)]}
}

test_variable_default_false if {
	blocks := [
		resource("aws_instance", "i", {"root_block_device": [{"encrypted": "${var.encrypt_root}"}]}),
		{"block_type": "variable", "name": "encrypt_root", "address": "var.encrypt_root", "values": {"default": false}},
	]
	results := encryption_at_rest.deny with input as {"blocks": blocks}
	count(results) == 1
	some r in results
	contains(r.msg, "sets encrypted = false (the default of var.encrypt_root)")
}

plan_instance(root, configuration) := {
	"resource_changes": [{
		"address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
		"change": {
			"actions": ["create"], "after": {"ami": "ami-1", "root_block_device": root},
			"after_unknown": {"root_block_device": [{"encrypted": true, "volume_id": true}]},
		},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
		"expressions": configuration,
	}]}},
}

test_plan_unknown_encrypted_judged_from_the_configuration if {
	unset := plan_instance([{"volume_size": 50}], {"root_block_device": [{"volume_size": {"constant_value": 50}}]})
	results := encryption_at_rest.deny with input as unset
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "root_block_device", 0]
	computed := plan_instance([{"volume_size": 50}], {"root_block_device": [{"encrypted": {"references": ["local.encrypt"]}}]})
	count(encryption_at_rest.deny) == 0 with input as computed
}

test_plan_root_block_device_known_after_apply if {
	plan := plan_instance([], {"root_block_device": [{"encrypted": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}]})
	count(encryption_at_rest.deny) == 0 with input as plan
	undeclared := plan_instance([], {"ami": {"constant_value": "ami-1"}})
	results := encryption_at_rest.deny with input as undeclared
	count(results) == 1
	some r in results
	contains(r.msg, "declares no root_block_device")
}

test_launch_template if {
	count(encryption_at_rest.deny) == 1 with input as {"blocks": [resource("aws_launch_template", "t", {"image_id": "ami-1"})]}
	mappings := {"block_device_mappings": [
		{"device_name": "/dev/xvda", "ebs": [{"volume_size": 20, "encrypted": "false"}]},
		{"device_name": "/dev/sdb", "ebs": [{"volume_size": 100, "encrypted": "true"}]},
		{"device_name": "/dev/sdc", "virtual_name": "ephemeral0"},
	]}
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_launch_template", "t", mappings)]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "block_device_mappings", 0, "ebs", 0]
}
