# METADATA
# title: Databases are not publicly accessible
# description: >-
#   `publicly_accessible = true` gives a database a public DNS name that
#   resolves to a public IP address: with a permissive security group (or one
#   opened later) it is one step from the internet. Checked on RDS instances
#   and cluster instances (aws_db_instance, aws_rds_cluster_instance,
#   aws_rds_cluster for Multi-AZ DB clusters), Neptune cluster instances,
#   Redshift clusters and Redshift Serverless workgroups, DMS replication
#   instances and Lightsail databases; a value taken from a variable counts
#   with the variable's default. Unset is private for all of them in current
#   providers (before AWS provider 5, aws_redshift_cluster defaulted to
#   public: set it to false explicitly there).
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding
# custom:
#   id: PE-TF-008
#   severity: high
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (network security)"
#   remediation: >-
#     Set publicly_accessible = false and place the database in private
#     subnets (a DB subnet group without a route to an internet gateway);
#     reach it from the application's security group, or through a bastion,
#     VPN or SSM port forwarding for people.
package pe.terraform.public_databases

import data.pe.terraform.documents
import data.pe.terraform.lib
import rego.v1

database_types := {
	"aws_db_instance", "aws_rds_cluster_instance", "aws_rds_cluster", "aws_neptune_cluster_instance",
	"aws_redshift_cluster", "aws_redshiftserverless_workgroup", "aws_dms_replication_instance",
	"aws_lightsail_database",
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["publicly_accessible"])} if {
	some r in lib.resources_of(database_types)
	value := object.get(r.values, "publicly_accessible", null)
	value != null # the common case (unset, or false), decided before any call
	value != false
	lib.is_true(documents.resolved(value))
	msg := sprintf(
		"%s is publicly accessible (publicly_accessible = true%s): a database gets a public address; set it to false and reach it from inside the VPC",
		[r.address, from_variable(value)],
	)
}

from_variable(value) := sprintf(", the default of var.%s", [documents.variable_name(value)]) if {
	documents.variable_name(value)
} else := ""
