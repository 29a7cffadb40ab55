# METADATA
# title: Stateful infrastructure is never destroyed by accident
# description: >-
#   Deleting or replacing a database, bucket, table, volume or key loses data.
#   Such a plan needs the approval of the data owner before apply.
package destroy

import rego.v1

stateful_types := {
	"aws_db_instance", "aws_rds_cluster", "aws_s3_bucket", "aws_dynamodb_table",
	"aws_ebs_volume", "aws_kms_key", "aws_efs_file_system",
}

deny_stateful_delete contains {"msg": msg, "path": ["resource_changes", i]} if {
	some i, rc in input.resource_changes
	rc.type in stateful_types
	"delete" in rc.change.actions
	verb := replace_or_delete(rc.change.actions)
	msg := sprintf("%s (%s) would be %s: get the data owner's approval, or add lifecycle { prevent_destroy = true }", [rc.address, rc.type, verb])
}

replace_or_delete(actions) := "replaced" if "create" in actions

replace_or_delete(actions) := "deleted" if not "create" in actions

warn_force_destroy contains {"msg": msg, "path": ["resource_changes", i, "change", "after", "force_destroy"]} if {
	some i, rc in input.resource_changes
	rc.type == "aws_s3_bucket"
	rc.change.after.force_destroy == true
	msg := sprintf("%s sets force_destroy = true: destroying the bucket would silently delete every object in it", [rc.address])
}
