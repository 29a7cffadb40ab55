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
