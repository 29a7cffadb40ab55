package pe.terraform.iam_wildcards_test

import data.pe.terraform.iam_wildcards
import rego.v1

policy_change(policy) := {"resource_changes": [{
	"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy",
	"name": "p", "change": {"actions": ["create"], "after": {"policy": policy}},
}]}

tf_policy(document) := {"blocks": [{
	"block_type": "resource", "type": "aws_iam_role_policy", "name": "p",
	"address": "aws_iam_role_policy.p", "values": {"policy": document},
}]}

test_plan_action_star_resource_star if {
	results := iam_wildcards.deny with input as policy_change(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "policy", "Statement", 0, "Action"]
	contains(r.msg, "aws_iam_policy.p")
}

test_service_wildcard_in_jsonencode if {
	doc := {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": ["*"]}]}
	count(iam_wildcards.deny) == 1 with input as tf_policy(doc)
}

test_deny_statement_is_fine if {
	doc := {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
	count(iam_wildcards.deny) == 0 with input as tf_policy(doc)
}

test_wildcard_on_specific_resource_is_fine if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*"}]}
	count(iam_wildcards.deny) == 0 with input as tf_policy(doc)
}

test_pass_role_on_star if {
	data_doc := {"blocks": [{
		"block_type": "data", "type": "aws_iam_policy_document", "name": "d", "address": "data.aws_iam_policy_document.d",
		"values": {"statement": [{"actions": ["iam:PassRole"], "resources": ["*"]}]},
	}]}
	results := iam_wildcards.deny with input as data_doc
	count(results) == 1
	some r in results
	contains(r.msg, "iam:PassRole")
	r.path == ["blocks", 0, "values", "statement", 0, "actions"]
}

test_pass_role_on_arn_is_fine if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/app"}]}
	count(iam_wildcards.deny) == 0 with input as tf_policy(doc)
}

test_administrator_access_attachment if {
	attach := {"resource_changes": [{
		"address": "aws_iam_role_policy_attachment.a", "mode": "managed", "type": "aws_iam_role_policy_attachment",
		"name": "a", "change": {"actions": ["create"], "after": {"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "x"}},
	}]}
	results := iam_wildcards.deny with input as attach
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "policy_arn"]
}

test_readonly_attachment_is_fine if {
	attach := {"blocks": [{
		"block_type": "resource", "type": "aws_iam_role_policy_attachment", "name": "a", "address": "aws_iam_role_policy_attachment.a",
		"values": {"policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
	}]}
	count(iam_wildcards.deny) == 0 with input as attach
}

test_invalid_policy_json_is_ignored if {
	count(iam_wildcards.deny) == 0 with input as policy_change("{not json")
}

resource_block(type, values) := {"block_type": "resource", "type": type, "name": "x", "address": concat("", [type, ".x"]), "values": values}

test_sso_permission_set_inline_policy if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
	results := iam_wildcards.deny with input as {"blocks": [resource_block("aws_ssoadmin_permission_set_inline_policy", {"inline_policy": doc})]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "inline_policy", "Statement", 0, "Action"]
}

test_action_from_a_variable_default if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "${var.actions}", "Resource": ["${var.arns}"]}]}
	blocks := [
		resource_block("aws_iam_role_policy", {"policy": doc}),
		{"block_type": "variable", "name": "actions", "address": "var.actions", "values": {"default": ["*"]}},
	]
	module := {"blocks": [{"block_type": "variable", "name": "arns", "address": "var.arns", "values": {"default": "*"}}]}
	results := iam_wildcards.deny with input as {"blocks": blocks, "module": module}
	count(results) == 1
	some r in results
	contains(r.msg, `Action "*" (the default of var.actions)`)
}

test_variable_without_default_is_unknown if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "${var.actions}", "Resource": "*"}]}
	blocks := [
		resource_block("aws_iam_role_policy", {"policy": doc}),
		{"block_type": "variable", "name": "actions", "address": "var.actions", "values": {"type": "${list(string)}"}},
	]
	count(iam_wildcards.deny) == 0 with input as {"blocks": blocks}
}

test_null_effect_in_a_plan_is_allow if {
	plan := {"resource_changes": [{
		"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d",
		"change": {"actions": ["read"], "after": {"statement": [{"effect": null, "actions": ["s3:*"], "resources": ["*"], "sid": null, "principals": [], "condition": []}]}},
	}]}
	count(iam_wildcards.deny) == 1 with input as plan
}

test_resource_policy_granting_every_action if {
	doc := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"*","Resource":"arn:aws:sqs:eu-west-1:1:q"}]}`
	plan := {"resource_changes": [{
		"address": "aws_sqs_queue_policy.q", "mode": "managed", "type": "aws_sqs_queue_policy", "name": "q",
		"change": {"actions": ["create"], "after": {"policy": doc}},
	}]}
	results := iam_wildcards.deny with input as plan
	count(results) == 1
	some r in results
	contains(r.msg, "grants arn:aws:iam::210987654321:root every action")
}

test_default_kms_key_policy_is_fine if {
	doc := {"Statement": [{
		"Sid": "Enable IAM User Permissions", "Effect": "Allow",
		"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*",
	}]}
	count(iam_wildcards.deny) == 0 with input as {"blocks": [resource_block("aws_kms_key", {"policy": doc})]}
}

test_vpc_endpoint_policy_grants_nothing if {
	doc := {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
	count(iam_wildcards.deny) == 0 with input as {"blocks": [resource_block("aws_vpc_endpoint", {"policy": doc})]}
}

test_admin_policy_through_a_module_input if {
	module_block := {"block_type": "module", "name": "role", "address": "module.role", "values": {
		"source": "terraform-aws-modules/iam/aws//modules/iam-role",
		"policies": {"admin": "arn:aws:iam::aws:policy/AdministratorAccess", "ro": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
	}}
	results := iam_wildcards.deny with input as {"blocks": [module_block]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "policies", "admin"]
}

test_admin_policy_through_a_data_source_and_a_variable if {
	blocks := [
		resource_block("aws_iam_role_policy_attachment", {"policy_arn": "${data.aws_iam_policy.admin.arn}"}),
		{"block_type": "data", "type": "aws_iam_policy", "name": "admin", "address": "data.aws_iam_policy.admin", "values": {"name": "AdministratorAccess"}},
		{"block_type": "resource", "type": "aws_iam_user_policy_attachment", "name": "y", "address": "aws_iam_user_policy_attachment.y", "values": {"policy_arn": "${var.policy}"}},
		{"block_type": "variable", "name": "policy", "address": "var.policy", "values": {"default": "arn:aws-us-gov:iam::aws:policy/IAMFullAccess"}},
	]
	results := iam_wildcards.deny with input as {"blocks": blocks}
	count(results) == 2
	some r in results
	contains(r.msg, "IAMFullAccess")
}
