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

test_bucket_without_sse if {
	results := encryption_at_rest.deny with input as {"blocks": [resource("aws_s3_bucket", "b", {"bucket": "logs"})]}
	some r in results
	contains(r.msg, "aws_s3_bucket.b")
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
