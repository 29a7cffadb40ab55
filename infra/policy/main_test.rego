package main_test

import data.main
import rego.v1

bucket_acl(acl) := {"resource_changes": [{
	"address": "aws_s3_bucket_acl.assets", "mode": "managed", "type": "aws_s3_bucket_acl",
	"change": {"actions": ["create"], "after": {"acl": acl}},
}]}

ssh_group(cidr, from, to) := {"resource_changes": [{
	"address": "aws_security_group.bastion", "mode": "managed", "type": "aws_security_group",
	"change": {"actions": ["create"], "after": {"ingress": [{"from_port": from, "to_port": to, "cidr_blocks": [cidr]}]}},
}]}

test_public_acl_is_denied if {
	results := main.deny_public_bucket with input as bucket_acl("public-read")
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "acl"]
	contains(r.msg, "aws_s3_bucket_acl.assets")
}

test_private_acl_is_allowed if {
	count(main.deny_public_bucket) == 0 with input as bucket_acl("private")
}

test_disabled_public_access_block_is_denied if {
	results := main.deny_public_bucket with input as {"resource_changes": [{
		"address": "aws_s3_bucket_public_access_block.a", "mode": "managed",
		"type": "aws_s3_bucket_public_access_block",
		"change": {"actions": ["update"], "after": {
			"block_public_acls": true, "block_public_policy": true,
			"ignore_public_acls": false, "restrict_public_buckets": true,
		}},
	}]}
	count(results) == 1
}

test_ssh_from_anywhere_is_denied if {
	count(main.deny_open_admin_port) == 1 with input as ssh_group("0.0.0.0/0", 22, 22)
}

test_port_range_covering_rdp_is_denied if {
	results := main.deny_open_admin_port with input as ssh_group("::/0", 3000, 4000)
	some r in results
	contains(r.msg, "RDP (port 3389)")
}

test_ssh_from_the_vpn_is_allowed if {
	count(main.deny_open_admin_port) == 0 with input as ssh_group("10.20.0.0/16", 22, 22)
}

test_deleted_resources_are_not_checked if {
	count(main.deny_public_bucket) == 0 with input as {"resource_changes": [{
		"address": "aws_s3_bucket_acl.old", "mode": "managed", "type": "aws_s3_bucket_acl",
		"change": {"actions": ["delete"], "before": {"acl": "public-read"}, "after": null},
	}]}
}

test_missing_tags_are_a_warning if {
	results := main.warn_missing_tags with input as {"resource_changes": [{
		"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket",
		"change": {"actions": ["create"], "after": {"tags": {"owner": "platform"}, "tags_all": {"owner": "platform", "environment": "prod"}}},
	}]}
	some r in results
	contains(r.msg, `["cost-center", "service"]`)
}

test_public_website_is_an_exception if {
	main.exception == {["public_bucket"]} with input as {"variables": {"public_website": {"value": true}}}
}

test_no_exception_by_default if {
	count(main.exception) == 0 with input as {"variables": {}}
}
