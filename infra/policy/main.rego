# METADATA
# title: Infra repository guardrails for Terraform plans
# description: >-
#   Checks `terraform show -json` plans of the infra repository before apply:
#   no public S3 buckets, no SSH or RDP open to the internet, and the tags the
#   cost and ownership reports rely on. Runs unchanged under conftest and OPA.
# related_resources:
#   - ref: https://developer.hashicorp.com/terraform/internals/json-format
package main

import rego.v1

# Tags every taggable resource carries (owner and service feed the on-call
# routing, environment and cost-center the monthly cost report).
required_tags := {"owner", "service", "environment", "cost-center"}

public_acls := {"public-read", "public-read-write", "authenticated-read"}

admin_ports := {22: "SSH", 3389: "RDP"}

open_cidrs := {"0.0.0.0/0", "::/0"}

# Resources the plan creates or changes (deletes have no `after`).
changes contains [i, rc] if {
	some i, rc in input.resource_changes
	rc.mode == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
}

# METADATA
# scope: document
# title: S3 buckets are never public
# description: A public ACL or a disabled public access block exposes every object in the bucket.
# custom:
#   severity: high
deny_public_bucket contains {"msg": msg, "path": ["resource_changes", i, "change", "after", "acl"]} if {
	some [i, rc] in changes
	rc.type in {"aws_s3_bucket_acl", "aws_s3_bucket"}
	rc.change.after.acl in public_acls
	msg := sprintf("%s sets acl %q: S3 buckets must not be public; use a private ACL and serve through CloudFront", [rc.address, rc.change.after.acl])
}

deny_public_bucket contains {"msg": msg, "path": ["resource_changes", i, "change", "after", flag]} if {
	some [i, rc] in changes
	rc.type == "aws_s3_bucket_public_access_block"
	some flag in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	rc.change.after[flag] == false
	msg := sprintf("%s sets %s = false: keep all four public access block settings true", [rc.address, flag])
}

# METADATA
# scope: document
# title: No SSH or RDP from the internet
# description: Administrative ports open to 0.0.0.0/0 are scanned and brute-forced within minutes.
# custom:
#   severity: critical
deny_open_admin_port contains {"msg": msg, "path": ["resource_changes", i, "change", "after", "ingress", j]} if {
	some [i, rc] in changes
	rc.type == "aws_security_group"
	some j, rule in rc.change.after.ingress
	some cidr in array.concat(object.get(rule, "cidr_blocks", []), object.get(rule, "ipv6_cidr_blocks", []))
	cidr in open_cidrs
	some port, name in admin_ports
	rule.from_port <= port
	port <= rule.to_port
	msg := sprintf("%s allows %s (port %d) from %s: reach hosts through SSM Session Manager or the VPN range instead", [rc.address, name, port, cidr])
}

deny_open_admin_port contains {"msg": msg, "path": ["resource_changes", i, "change", "after", "cidr_blocks"]} if {
	some [i, rc] in changes
	rc.type == "aws_security_group_rule"
	rc.change.after.type == "ingress"
	some cidr in rc.change.after.cidr_blocks
	cidr in open_cidrs
	some port, name in admin_ports
	rc.change.after.from_port <= port
	port <= rc.change.after.to_port
	msg := sprintf("%s allows %s (port %d) from %s: reach hosts through SSM Session Manager or the VPN range instead", [rc.address, name, port, cidr])
}

# METADATA
# title: Taggable resources carry the required tags
# description: Owner, service, environment and cost-center drive on-call routing and cost reports.
# custom:
#   severity: low
warn_missing_tags contains {"msg": msg, "path": ["resource_changes", i, "change", "after", "tags"]} if {
	some [i, rc] in changes
	"tags" in object.keys(rc.change.after)
	tags := object.get(rc.change.after, "tags", {})
	present := {key | some key, _ in object.union(object.get(rc.change.after, "tags_all", {}), tags)}
	missing := required_tags - present
	count(missing) > 0
	msg := sprintf("%s is missing tags %v: add them to the resource or the provider's default_tags", [rc.address, sort(missing)])
}

# The public website bucket is public by design; its workspace says so.
exception contains ["public_bucket"] if {
	input.variables.public_website.value == true
}
