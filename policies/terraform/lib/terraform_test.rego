package pe.terraform.lib_test

import data.pe.terraform.documents
import data.pe.terraform.lib
import rego.v1

plan := {"resource_changes": [
	{
		"address": "module.s[0].aws_s3_bucket.b", "module_address": "module.s[0]", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
		"change": {"actions": ["create"], "after": {"bucket": "x"}, "after_unknown": {"arn": true}},
	},
	{
		"address": "aws_s3_bucket.gone", "mode": "managed", "type": "aws_s3_bucket", "name": "gone",
		"change": {"actions": ["delete"], "after": null},
	},
	{
		"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d",
		"change": {"actions": ["read"], "after": {"statement": []}},
	},
]}

tf := {
	"blocks": [
		{"block_type": "resource", "type": "aws_s3_bucket", "name": "b", "address": "aws_s3_bucket.b", "values": {"bucket": "${var.name}"}},
		{"block_type": "variable", "name": "name", "address": "var.name", "values": {}},
	],
	"module": {"blocks": [{"block_type": "resource", "type": "aws_s3_bucket_public_access_block", "name": "b", "address": "aws_s3_bucket_public_access_block.b", "values": {"bucket": "${aws_s3_bucket.b.id}"}}]},
}

test_plan_resources_skip_deleted_and_data if {
	rs := lib.resources with input as plan
	count(rs) == 1
	rs[0].address == "module.s[0].aws_s3_bucket.b"
	lib.config_key(rs[0]) == "module.s.aws_s3_bucket.b"
	rs[0].path == ["resource_changes", 0, "change", "after"]
	count(lib.data_sources_of({"aws_iam_policy_document"})) == 1 with input as plan
	count(lib.resources_of({"aws_instance"})) == 0 with input as plan
}

test_tf_resources_and_module_context if {
	rs := lib.resources with input as tf
	count(rs) == 1
	rs[0].path == ["blocks", 0, "values"]
	count(lib.config_resources_of({"aws_s3_bucket", "aws_s3_bucket_public_access_block"})) == 2 with input as tf
	count(lib.resources_of({"aws_s3_bucket_public_access_block"})) == 0 with input as tf
}

test_expressions_are_unknown if {
	r := lib.resources[0] with input as tf
	lib.unknown(r, "bucket")
}

test_plan_unknown if {
	r := lib.resources[0] with input as plan
	lib.unknown(r, "arn")
	not lib.unknown(r, "bucket")
}

test_companion_by_reference if {
	bucket := lib.resources[0] with input as tf
	lib.has_bucket_companion("aws_s3_bucket_public_access_block", bucket) with input as tf
	not lib.has_bucket_companion("aws_s3_bucket_server_side_encryption_configuration", bucket) with input as tf
}

test_number_of if {
	lib.number_of(22) == 22
	lib.number_of("22") == 22
	not lib.number_of("${var.port}")
}

test_policy_string_is_decoded if {
	input_plan := {"resource_changes": [{
		"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p",
		"change": {"actions": ["create"], "after": {"policy": "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"}},
	}]}
	statements := documents.policy_statements with input as input_plan
	count(statements) == 1
	statements[0].actions == ["s3:*"]
	statements[0].path == ["resource_changes", 0, "change", "after", "policy", "Statement"]
}

test_buckets_without_companion if {
	count(lib.buckets_without_companion.aws_s3_bucket_public_access_block) == 0 with input as tf
	missing := lib.buckets_without_companion.aws_s3_bucket_server_side_encryption_configuration with input as tf
	[r.address | some r in missing] == ["aws_s3_bucket.b"]
}

test_companion_by_name_and_unresolved_companion if {
	blocks := [
		{"block_type": "resource", "type": "aws_s3_bucket", "name": "a", "address": "aws_s3_bucket.a", "values": {"bucket": "logs"}},
		{"block_type": "resource", "type": "aws_s3_bucket", "name": "b", "address": "aws_s3_bucket.b", "values": {"bucket": "data"}},
		{"block_type": "resource", "type": "aws_s3_bucket_public_access_block", "name": "a", "address": "aws_s3_bucket_public_access_block.a", "values": {"bucket": "logs"}},
		{"block_type": "resource", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "x", "address": "aws_s3_bucket_server_side_encryption_configuration.x", "values": {"bucket": "${var.bucket}"}},
	]
	uncovered := lib.buckets_without_companion.aws_s3_bucket_public_access_block with input as {"blocks": blocks}
	[r.address | some r in uncovered] == ["aws_s3_bucket.b"]
	count(lib.buckets_without_companion.aws_s3_bucket_server_side_encryption_configuration) == 0 with input as {"blocks": blocks}
}

test_resources_keep_the_order_of_the_plan if {
	changes := [
		{"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket", "name": "a", "change": {"after": {}}},
		{"address": "aws_instance.b", "mode": "managed", "type": "aws_instance", "name": "b", "change": {"after": {}}},
		{"address": "data.aws_s3_bucket.d", "mode": "data", "type": "aws_s3_bucket", "name": "d", "change": {"after": {}}},
		{"address": "aws_s3_bucket.c", "mode": "managed", "type": "aws_s3_bucket", "name": "c", "change": {"after": {}}},
	]
	every_resource := lib.resources with input as {"resource_changes": changes}
	[r.address | some r in every_resource] == ["aws_s3_bucket.a", "aws_instance.b", "aws_s3_bucket.c"]
	[r.path[1] | some r in every_resource] == [0, 1, 3]
	buckets := lib.resources_of({"aws_s3_bucket"}) with input as {"resource_changes": changes}
	[r.address | some r in buckets] == ["aws_s3_bucket.a", "aws_s3_bucket.c"]
}

test_statement_shapes if {
	policy := `{"Statement":[{"Sid":"s","Effect":"Allow","Action":["s3:GetObject",1,"s3:PutObject"],"Resource":"*"},{"Action":"iam:*"}]}`
	input_plan := {"resource_changes": [{
		"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p",
		"change": {"actions": ["create"], "after": {"policy": policy}},
	}]}
	statements := documents.policy_statements with input as input_plan
	[[s.index, s.sid, s.effect, s.actions, s.resources] | some s in statements] == [
		[0, "s", "Allow", ["s3:GetObject", "s3:PutObject"], ["*"]],
		[1, null, null, ["iam:*"], []],
	]
	documents.allows(statements[1]) # unset is Allow
	statements[1].path == ["resource_changes", 0, "change", "after", "policy", "Statement", 1]
}
