# METADATA
# title: No public S3 buckets
# description: >-
#   A bucket with a public canned ACL (public-read, public-read-write,
#   authenticated-read) or a grant to AllUsers/AuthenticatedUsers is readable
#   by anyone. Every bucket needs an aws_s3_bucket_public_access_block in the
#   same configuration with all four flags true (block_public_acls,
#   block_public_policy, ignore_public_acls, restrict_public_buckets), unless
#   the configuration sets an account-wide aws_s3_account_public_access_block.
#   A block in a local child module counts when the call passes it the bucket.
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
# custom:
#   id: PE-TF-003
#   severity: high
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security)"
#   remediation: >-
#     Remove the public ACL (use acl = "private" or BucketOwnerEnforced
#     ownership), serve public content through CloudFront with an origin
#     access control, and add aws_s3_bucket_public_access_block with all four
#     flags set to true.
package pe.terraform.public_buckets

import data.pe.terraform.lib
import data.pe.terraform.lib.buckets_without_companion
import data.pe.terraform.lib.s3_buckets
import data.pe.terraform.lib.tf_blocks
import rego.v1

public_acls := {"public-read", "public-read-write", "authenticated-read"}

public_groups := {
	"http://acs.amazonaws.com/groups/global/AllUsers",
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

block_flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

all_flags_true[flag] := true if some flag in block_flags

# acl = "public-read" on aws_s3_bucket (provider < 4) or aws_s3_bucket_acl
deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["acl"])} if {
	some r in array.concat(s3_buckets, acl_resources) # the buckets are shared with other rules
	r.values.acl in public_acls
	msg := sprintf("%s sets the public ACL %q: use acl = \"private\" and keep the public access block on", [r.address, r.values.acl])
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["access_control_policy", i, "grant", j])} if {
	some r in acl_resources
	some i, policy in lib.as_list(object.get(r.values, "access_control_policy", []))
	some j, grant in lib.as_list(object.get(policy, "grant", []))
	some grantee in lib.as_list(object.get(grant, "grantee", []))
	grantee.uri in public_groups
	msg := sprintf("%s grants %s to %s: remove the grant", [r.address, object.get(grant, "permission", "access"), grantee.uri])
}

# a public access block with a flag off
deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, [flag])} if {
	some [r, flag, value] in flags_not_true
	not is_null(value)
	msg := sprintf("%s sets %s = %v: set all four public access block flags to true", [r.address, flag, value])
}

deny contains {"msg": msg, "address": r.address, "path": r.path} if {
	some [r, flag, value] in flags_not_true
	is_null(value)
	msg := sprintf("%s does not set %s (it defaults to false): set all four flags to true", [r.address, flag])
}

# a bucket with no public access block anywhere in its configuration
deny contains {"msg": msg, "address": r.address, "path": r.path} if {
	not account_block
	some r in buckets_without_companion.aws_s3_bucket_public_access_block
	not covered_by_child_module(r)
	msg := sprintf(
		"S3 bucket %s has no aws_s3_bucket_public_access_block in this configuration: add one for it with all four flags true",
		[r.address],
	)
}

account_block if count(lib.config_resources_of({"aws_s3_account_public_access_block"})) > 0

account_block if {
	some call in module_calls
	some block in call.child.blocks
	block.block_type == "resource"
	block.type == "aws_s3_account_public_access_block"
}

# The local modules this configuration calls (module "x" { source = "./modules/y" }), each
# with the blocks of its directory (`input.module.children`, read by the .tf loader).
module_calls := [{"values": block.values, "child": child} |
	some block in array.concat(tf_blocks, object.get(input, ["module", "blocks"], []))
	block.block_type == "module"
	child := input.module.children[block.name]
]

# Bucket `r` is locked down by a child module: the module's public access block takes its
# bucket from a variable, and the call passes `r` (or its name) in that variable.  A child
# whose block names its own bucket covers that one, not ours.
covered_by_child_module(r) if {
	some call in module_calls
	some block in call.child.blocks
	block.block_type == "resource"
	block.type == "aws_s3_bucket_public_access_block"
	bucket := object.get(block.values, "bucket", "")
	is_string(bucket)
	some variable in regex.find_n(`var\.[A-Za-z0-9_-]+`, bucket, -1)
	passes_bucket(object.get(call.values, substring(variable, 4, -1), null), r)
}

passes_bucket(argument, r) if {
	is_string(argument)
	regex.match(sprintf(`aws_s3_bucket\.%s([^A-Za-z0-9_-]|$)`, [r.name]), argument)
} else if {
	is_string(argument)
	argument == object.get(r.values, "bucket", null)
}

access_blocks := {"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"}

# Computed once for the rules that read them (a function call is not memoised).
access_block_resources := lib.resources_of(access_blocks)

acl_resources := lib.resources_of({"aws_s3_bucket_acl"})

# [block, flag, value or null] for each flag not set to true whose value is known
# (computed once for both rules; a flag set to true, the common case, is not looked at further)
flags_not_true := [[r, flag, value] |
	some r in access_block_resources
	object.filter(r.values, block_flags) != all_flags_true # the common case: no flag to look at
	some flag in block_flags
	value := object.get(r.values, flag, null)
	value != true # the common case, without a call
	not lib.is_true(value)
	lib.known(r, flag)
]
