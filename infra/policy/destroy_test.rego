package destroy_test

import data.destroy
import rego.v1

change(type, actions) := {"resource_changes": [{
	"address": concat(".", [type, "main"]), "mode": "managed", "type": type,
	"change": {"actions": actions, "before": {}, "after": {}},
}]}

test_replacing_a_database_is_denied if {
	results := destroy.deny_stateful_delete with input as change("aws_db_instance", ["delete", "create"])
	some r in results
	contains(r.msg, "would be replaced")
}

test_deleting_a_bucket_is_denied if {
	results := destroy.deny_stateful_delete with input as change("aws_s3_bucket", ["delete"])
	some r in results
	contains(r.msg, "would be deleted")
}

test_deleting_a_stateless_resource_is_allowed if {
	count(destroy.deny_stateful_delete) == 0 with input as change("aws_security_group", ["delete"])
}

test_updating_a_database_is_allowed if {
	count(destroy.deny_stateful_delete) == 0 with input as change("aws_db_instance", ["update"])
}

test_force_destroy_is_a_warning if {
	count(destroy.warn_force_destroy) == 1 with input as {"resource_changes": [{
		"address": "aws_s3_bucket.assets", "type": "aws_s3_bucket",
		"change": {"actions": ["create"], "after": {"force_destroy": true}},
	}]}
}
