package pe.terraform.public_buckets_test

import data.pe.terraform.public_buckets
import rego.v1

resource(type, name, values) := {
	"block_type": "resource", "type": type, "name": name,
	"address": concat(".", [type, name]), "values": values,
}

full_block := {
	"bucket": "${aws_s3_bucket.b.id}", "block_public_acls": true, "block_public_policy": true,
	"ignore_public_acls": true, "restrict_public_buckets": true,
}

test_bucket_with_block_is_fine if {
	count(public_buckets.deny) == 0 with input as {"blocks": [
		resource("aws_s3_bucket", "b", {"bucket": "logs"}),
		resource("aws_s3_bucket_public_access_block", "b", full_block),
	]}
}

test_block_in_a_sibling_file_counts if {
	count(public_buckets.deny) == 0 with input as {
		"blocks": [resource("aws_s3_bucket", "b", {"bucket": "logs"})],
		"module": {"blocks": [resource("aws_s3_bucket_public_access_block", "b", full_block)]},
	}
}

test_bucket_without_block if {
	results := public_buckets.deny with input as {"blocks": [
		resource("aws_s3_bucket", "b", {"bucket": "logs"}),
		resource("aws_s3_bucket", "c", {"bucket": "other"}),
		resource("aws_s3_bucket_public_access_block", "b", full_block),
	]}
	count(results) == 1
	some r in results
	contains(r.msg, "aws_s3_bucket.c")
	r.path == ["blocks", 1, "values"]
}

test_public_acl if {
	results := public_buckets.deny with input as {"blocks": [resource("aws_s3_bucket_acl", "b", {"bucket": "${aws_s3_bucket.b.id}", "acl": "public-read-write"})]}
	some r in results
	r.path == ["blocks", 0, "values", "acl"]
}

test_flag_false_and_missing if {
	results := public_buckets.deny with input as {"blocks": [resource("aws_s3_bucket_public_access_block", "b", {"bucket": "x", "block_public_acls": false, "block_public_policy": true, "ignore_public_acls": true})]}
	count(results) == 2
	paths := {r.path | some r in results}
	paths == {["blocks", 0, "values", "block_public_acls"], ["blocks", 0, "values"]}
}

test_plan_reference_through_configuration if {
	plan := {
		"resource_changes": [
			{
				"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
				"change": {"actions": ["create"], "after": {"bucket": "logs"}},
			},
			{
				"address": "aws_s3_bucket_public_access_block.b", "mode": "managed", "type": "aws_s3_bucket_public_access_block", "name": "b",
				"change": {
					"actions": ["create"], "after": {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
					"after_unknown": {"bucket": true},
				},
			},
			{
				"address": "aws_s3_bucket.c", "mode": "managed", "type": "aws_s3_bucket", "name": "c",
				"change": {"actions": ["create"], "after": {"bucket": "other"}},
			},
		],
		"configuration": {"root_module": {"resources": [{"address": "aws_s3_bucket_public_access_block.b", "expressions": {"bucket": {"references": ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]}}}]}},
	}
	results := public_buckets.deny with input as plan
	count(results) == 1
	some r in results
	contains(r.msg, "aws_s3_bucket.c")
}

test_account_block_covers_buckets if {
	count(public_buckets.deny) == 0 with input as {"blocks": [
		resource("aws_s3_bucket", "b", {"bucket": "logs"}),
		resource("aws_s3_account_public_access_block", "all", {
			"block_public_acls": true, "block_public_policy": true,
			"ignore_public_acls": true, "restrict_public_buckets": true,
		}),
	]}
}

test_flags_written_as_strings if {
	flags := {
		"bucket": "x", "block_public_acls": "true", "block_public_policy": "true", "ignore_public_acls": "true",
		"restrict_public_buckets": "false",
	}
	results := public_buckets.deny with input as {"blocks": [resource("aws_s3_bucket_public_access_block", "b", flags)]}
	[r.path | some r in results] == [["blocks", 0, "values", "restrict_public_buckets"]]
}

module_call(name, values) := {"block_type": "module", "name": name, "address": concat(".", ["module", name]), "values": values}

child_block := object.union(full_block, {"bucket": "${var.bucket}"})

test_block_in_a_child_module_fed_the_bucket_counts if {
	count(public_buckets.deny) == 0 with input as {
		"blocks": [
			resource("aws_s3_bucket", "assets", {"bucket": "example-assets"}),
			module_call("pab", {"source": "./modules/pab", "bucket": "${aws_s3_bucket.assets.id}"}),
		],
		"module": {"blocks": [], "children": {"pab": {"source": "./modules/pab", "directory": "modules/pab", "blocks": [resource("aws_s3_bucket_public_access_block", "this", child_block)]}}},
	}
}

test_child_module_locking_down_another_bucket_does_not_count if {
	results := public_buckets.deny with input as {
		"blocks": [
			resource("aws_s3_bucket", "uploads", {"bucket": "example-uploads"}),
			resource("aws_s3_bucket", "assets", {"bucket": "example-assets"}),
			module_call("pab", {"source": "./modules/pab", "bucket": "${aws_s3_bucket.assets.id}"}),
			module_call("logs", {"source": "./modules/bucket", "name": "example-logs"}),
		],
		"module": {"blocks": [], "children": {
			"pab": {"source": "./modules/pab", "directory": "modules/pab", "blocks": [resource("aws_s3_bucket_public_access_block", "this", child_block)]},
			"logs": {"source": "./modules/bucket", "directory": "modules/bucket", "blocks": [
				resource("aws_s3_bucket", "this", {"bucket": "${var.name}"}),
				resource("aws_s3_bucket_public_access_block", "this", object.union(full_block, {"bucket": "${aws_s3_bucket.this.id}"})),
			]},
		}},
	}
	count(results) == 1
	some r in results
	r.address == "aws_s3_bucket.uploads"
}

test_account_block_in_a_child_module_counts if {
	count(public_buckets.deny) == 0 with input as {
		"blocks": [
			resource("aws_s3_bucket", "assets", {"bucket": "example-assets"}),
			module_call("account", {"source": "./modules/account"}),
		],
		"module": {"children": {"account": {"source": "./modules/account", "directory": "modules/account", "blocks": [resource("aws_s3_account_public_access_block", "this", full_block)]}}},
	}
}
