package pe.terraform.public_resource_policies_test

import data.pe.terraform.public_resource_policies
import rego.v1

queue_policy(statement) := {"resource_changes": [{
	"address": "aws_sqs_queue_policy.q", "mode": "managed", "type": "aws_sqs_queue_policy", "name": "q",
	"change": {"actions": ["create"], "after": {"policy": json.marshal({"Version": "2012-10-17", "Statement": [statement]})}},
}]}

block(type, values) := {"block_type": "resource", "type": type, "name": "x", "address": concat("", [type, ".x"]), "values": values}

test_plan_queue_policy_open_to_everyone if {
	results := public_resource_policies.deny with input as queue_policy({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:1:q"})
	count(results) == 1
	some r in results
	r.path == ["resource_changes", 0, "change", "after", "policy", "Statement", 0, "Principal"]
}

test_source_arn_narrows if {
	statement := {
		"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com", "AWS": "*"}, "Action": "sqs:SendMessage",
		"Resource": "arn:aws:sqs:eu-west-1:1:q", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:1:t"}},
	}
	count(public_resource_policies.deny) == 0 with input as queue_policy(statement)
}

test_negated_or_wildcard_conditions_do_not_narrow if {
	negated := {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:*", "Condition": {"StringNotEquals": {"aws:SourceAccount": "1"}}}
	count(public_resource_policies.deny) == 1 with input as queue_policy(negated)
	wildcard := {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sqs:*", "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}}}
	count(public_resource_policies.deny) == 1 with input as queue_policy(wildcard)
	transport := {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
	count(public_resource_policies.deny) == 1 with input as queue_policy(transport)
}

test_deny_and_named_principals_are_fine if {
	count(public_resource_policies.deny) == 0 with input as queue_policy({"Effect": "Deny", "Principal": "*", "Action": "sqs:*"})
	count(public_resource_policies.deny) == 0 with input as queue_policy({"Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sqs:*"})
}

test_policy_document_principals_block if {
	doc := {"block_type": "data", "type": "aws_iam_policy_document", "name": "d", "address": "data.aws_iam_policy_document.d", "values": {"statement": [{
		"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"],
		"principals": [{"type": "AWS", "identifiers": ["*"]}],
	}]}}
	results := public_resource_policies.deny with input as {"blocks": [doc]}
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "statement", 0, "principals"]
	endpoint := block("aws_vpc_endpoint", {"policy": "${data.aws_iam_policy_document.d.json}"})
	count(public_resource_policies.deny) == 0 with input as {"blocks": [doc], "module": {"blocks": [endpoint]}}
}

test_opensearch_domain_in_a_vpc_is_left_out if {
	policy := {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "*"}]}
	public := block("aws_opensearch_domain", {"domain_name": "s", "access_policies": policy})
	count(public_resource_policies.deny) == 1 with input as {"blocks": [public]}
	in_vpc := block("aws_opensearch_domain", {"domain_name": "s", "access_policies": policy, "vpc_options": [{"subnet_ids": ["${aws_subnet.a.id}"]}]})
	count(public_resource_policies.deny) == 0 with input as {"blocks": [in_vpc]}
	separate := block("aws_opensearch_domain_policy", {"domain_name": "${aws_opensearch_domain.x.domain_name}", "access_policies": policy})
	count(public_resource_policies.deny) == 0 with input as {"blocks": [separate, block("aws_opensearch_domain", {"domain_name": "s", "vpc_options": [{}]})]}
}

test_lambda_permission if {
	open := block("aws_lambda_permission", {"action": "lambda:InvokeFunction", "function_name": "f", "principal": "*"})
	count(public_resource_policies.deny) == 1 with input as {"blocks": [open]}
	pinned := block("aws_lambda_permission", {"action": "lambda:InvokeFunction", "function_name": "f", "principal": "*", "source_account": "123456789012"})
	count(public_resource_policies.deny) == 0 with input as {"blocks": [pinned]}
	service := block("aws_lambda_permission", {"action": "lambda:InvokeFunction", "function_name": "f", "principal": "s3.amazonaws.com"})
	count(public_resource_policies.deny) == 0 with input as {"blocks": [service]}
}

test_api_gateway_policies_are_left_out if {
	policy := {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]}
	count(public_resource_policies.deny) == 0 with input as {"blocks": [block("aws_api_gateway_rest_api_policy", {"policy": policy})]}
}
