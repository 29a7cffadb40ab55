package pe.terraform.public_databases_test

import data.pe.terraform.public_databases
import rego.v1

db(type, values) := {"block_type": "resource", "type": type, "name": "db", "address": concat("", [type, ".db"]), "values": values}

test_public_rds_instance_in_a_plan if {
	plan := {"resource_changes": [{
		"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
		"change": {"actions": ["create"], "after": {"engine": "postgres", "publicly_accessible": true}},
	}]}
	results := public_databases.deny with input as plan
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "publicly_accessible"]
}

test_every_database_type if {
	some type in public_databases.database_types
	count(public_databases.deny) == 1 with input as {"blocks": [db(type, {"publicly_accessible": true})]}
}

test_private_unset_and_unknown_are_fine if {
	count(public_databases.deny) == 0 with input as {"blocks": [db("aws_redshift_cluster", {"publicly_accessible": false})]}
	count(public_databases.deny) == 0 with input as {"blocks": [db("aws_db_instance", {})]}
	count(public_databases.deny) == 0 with input as {"blocks": [db("aws_db_instance", {"publicly_accessible": "${var.public}"})]}
}

test_variable_default_true if {
	blocks := [
		db("aws_rds_cluster_instance", {"publicly_accessible": "${var.public}"}),
		{"block_type": "variable", "name": "public", "address": "var.public", "values": {"default": true}},
	]
	results := public_databases.deny with input as {"blocks": blocks}
	count(results) == 1
	some r in results
	contains(r.msg, "the default of var.public")
}

test_string_true_in_tf if {
	count(public_databases.deny) == 1 with input as {"blocks": [db("aws_dms_replication_instance", {"publicly_accessible": "true"})]}
}
