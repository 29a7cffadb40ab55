# METADATA
# title: Encryption at rest on databases, volumes and buckets
# description: >-
#   Data at rest is encrypted: RDS instances and clusters (and DocumentDB,
#   Neptune) set storage_encrypted, EBS volumes and EFS file systems set
#   encrypted, ElastiCache replication groups set at_rest_encryption_enabled,
#   instance block devices set encrypted, and every S3 bucket has a
#   server-side encryption configuration in the same configuration. Unset
#   means the provider's default, which is unencrypted for all of these.
#   An account-wide aws_ebs_encryption_by_default covers EBS volumes.
# related_resources:
#   - ref: https://docs.aws.amazon.com/prescriptive-guidance/latest/encryption-best-practices/welcome.html
# custom:
#   id: PE-TF-004
#   severity: high
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security)"
#   remediation: >-
#     Set the encryption attribute to true (with kms_key_id for a
#     customer-managed key); for S3 add
#     aws_s3_bucket_server_side_encryption_configuration with SSE-KMS or AES256.
#     Existing unencrypted databases and volumes are re-created from an
#     encrypted snapshot.
package pe.terraform.encryption_at_rest

import data.pe.terraform.lib
import data.pe.terraform.lib.buckets_without_companion
import rego.v1

# resource type -> the attribute that turns encryption at rest on
encryption_attribute := {
	"aws_db_instance": "storage_encrypted",
	"aws_rds_cluster": "storage_encrypted",
	"aws_docdb_cluster": "storage_encrypted",
	"aws_neptune_cluster": "storage_encrypted",
	"aws_ebs_volume": "encrypted",
	"aws_efs_file_system": "encrypted",
	"aws_elasticache_replication_group": "at_rest_encryption_enabled",
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, [attribute])} if {
	some [r, attribute, value] in judged_attributes
	not is_null(value)
	msg := sprintf("%s sets %s = %v: data at rest must be encrypted; set it to true", [r.address, attribute, value])
}

deny contains {"msg": msg, "address": r.address, "path": r.path} if {
	some [r, attribute, value] in judged_attributes
	is_null(value)
	msg := sprintf("%s does not set %s (it defaults to false): data at rest must be encrypted", [r.address, attribute])
}

# aws_instance root_block_device / ebs_block_device declared without encryption
deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, [device, n])} if {
	not ebs_default_encryption
	some r in lib.resources_of({"aws_instance"})
	some device in ["root_block_device", "ebs_block_device"]
	blocks := object.get(r.values, device, [])
	blocks != [] # often empty (ebs_block_device): skip the call
	some n, block in lib.as_list(blocks)
	is_object(block)
	encrypted := object.get(block, "encrypted", false)
	encrypted != true # the common case, without a call
	not lib.is_true(encrypted)
	not lib.is_expression(encrypted)
	msg := sprintf("%s: %s %d is not encrypted: set encrypted = true", [r.address, device, n])
}

deny contains {"msg": msg, "address": r.address, "path": r.path} if {
	some r in buckets_without_companion.aws_s3_bucket_server_side_encryption_configuration
	object.get(r.values, "server_side_encryption_configuration", []) in {[], null} # none inline (provider < 4)
	msg := sprintf(
		"S3 bucket %s has no server-side encryption configuration in this configuration: add aws_s3_bucket_server_side_encryption_configuration (SSE-KMS or AES256)",
		[r.address],
	)
}

# Computed once for the two rules above (a function call is not memoised).
encryptable_resources := lib.resources_of(object.keys(encryption_attribute))

# [resource, attribute, value or null] for each resource that must encrypt itself, does
# not set its attribute to true, and whose attribute is known (computed once for both
# rules; an encrypted resource, the common case, is not looked at further)
judged_attributes := [[r, attribute, value] |
	some r in encryptable_resources
	attribute := encryption_attribute[r.type]
	value := object.get(r.values, attribute, null)
	value != true # the common case, without a call
	not lib.is_true(value)
	needs_own_encryption(r)
	lib.known(r, attribute)
]

needs_own_encryption(r) if {
	r.type == "aws_db_instance"
	not replica(r)
}

needs_own_encryption(r) if {
	r.type in {"aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"}
	object.get(r.values, "engine_mode", "") != "serverless" # Aurora Serverless v1 is always encrypted
}

needs_own_encryption(r) if {
	r.type == "aws_ebs_volume"
	not ebs_default_encryption
}

needs_own_encryption(r) if r.type in {"aws_efs_file_system", "aws_elasticache_replication_group"}

# a read replica inherits its source's encryption
replica(r) if {
	source := object.get(r.values, "replicate_source_db", null)
	not is_null(source)
	source != ""
}

ebs_default_encryption if {
	some r in lib.config_resources_of({"aws_ebs_encryption_by_default"})
	not object.get(r.values, "enabled", true) in {false, "false"}
}
