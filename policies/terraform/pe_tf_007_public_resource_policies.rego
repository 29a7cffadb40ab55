# METADATA
# title: No resource policy grants access to everyone
# description: >-
#   A resource policy statement that allows `Principal: "*"` (or
#   `{"AWS": "*"}`) lets every AWS account, and for most services anyone on
#   the internet, use the resource: read the bucket, send to the queue,
#   publish to the topic, decrypt with the key, query the search domain,
#   assume the role. Such a statement is only safe with a condition that
#   narrows who the caller is (aws:SourceArn, aws:SourceAccount,
#   aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalAccount,
#   aws:PrincipalArn, aws:SourceVpc(e), aws:SourceIp, kms:CallerAccount,
#   s3:DataAccessPointAccount, ...); a negated condition (StringNotEquals)
#   does not narrow. Checked in S3 bucket and access point, SQS, SNS, KMS,
#   ECR, Secrets Manager, Elasticsearch/OpenSearch (a domain in a VPC is
#   reached through its security groups and is left out), EFS, Glacier,
#   Backup, EventBridge, CloudWatch Logs and other resource policies, role
#   trust policies, aws_iam_policy_document data sources (unless only a VPC
#   endpoint uses them: an endpoint policy grants nothing), and
#   aws_lambda_permission with principal "*" and no source_arn,
#   source_account or principal_org_id. API Gateway resource policies are
#   left out: a public API is reached through its own authorisation.
# related_resources:
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
# custom:
#   id: PE-TF-007
#   severity: high
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security: least privilege)"
#   remediation: >-
#     Name the principals (account, role or service ARNs) instead of "*", or
#     keep "*" and add a condition that pins the caller: aws:SourceArn and
#     aws:SourceAccount for a service delivering to the resource,
#     aws:PrincipalOrgID for your organisation, kms:CallerAccount with
#     kms:ViaService for a key. For aws_lambda_permission set source_arn and
#     source_account (or principal_org_id).
package pe.terraform.public_resource_policies

import data.pe.terraform.documents
import data.pe.terraform.documents.grants_nothing_types
import data.pe.terraform.documents.policy_statements
import data.pe.terraform.documents.tf_module_blocks
import data.pe.terraform.lib
import rego.v1

deny contains {"msg": msg, "address": s.resource.address, "path": array.concat(s.path, [principal_key(s)])} if {
	some s in policy_statements
	documents.has_principal(s)
	documents.allows(s)
	some [type, id] in documents.principals(s)
	id == "*"
	type in {"*", "AWS"}
	not s.resource.type in left_out
	not narrowed(s)
	not vpc_domain(s.resource)
	not only_endpoints_use(s.resource)
	msg := sprintf(
		"%s: %s statement %s allows %s to everyone (Principal %s) with no condition that narrows the caller: name the principals or add aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID",
		[s.resource.address, policy_kind(s), label(s), action_label(s), principal_shown(type)],
	)
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["principal"])} if {
	some r in lib.resources_of({"aws_lambda_permission"})
	documents.resolved(object.get(r.values, "principal", "")) == "*"
	not lambda_narrowed(r.values)
	msg := sprintf(
		"%s lets any AWS account call %s on %v (principal \"*\", no source_arn, source_account or principal_org_id): name the principal and set source_arn and source_account",
		[r.address, object.get(r.values, "action", "the function"), object.get(r.values, "function_name", "the function")],
	)
}

# API Gateway: a public API is public by design, reached through its own authorisation.
left_out := grants_nothing_types | {"aws_api_gateway_rest_api_policy", "aws_api_gateway_rest_api"}

# Condition keys that pin who (or from where) the caller is; compared in lower case.
narrowing_keys := {
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
	"aws:userid", "aws:username", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:vpcsourceip",
	"kms:calleraccount", "s3:dataaccesspointaccount", "s3:dataaccesspointarn",
	"elasticfilesystem:accessedviamounttarget",
}

narrowed(s) if {
	some [operator, key, values] in documents.conditions(s)
	lower(key) in narrowing_keys
	not contains(lower(operator), "not")
	lower(operator) != "null"
	count(values) > 0
	not "*" in values
}

lambda_narrowed(values) if {
	some attribute in ["source_arn", "source_account", "principal_org_id"]
	value := object.get(values, attribute, null)
	is_string(value)
	value != ""
}

# An Elasticsearch/OpenSearch domain inside a VPC is reached only through its security groups.
vpc_domain(r) if {
	r.type in {"aws_elasticsearch_domain", "aws_opensearch_domain"}
	count(lib.as_list(object.get(r.values, "vpc_options", []))) > 0
}

vpc_domain(r) if {
	r.type in {"aws_elasticsearch_domain_policy", "aws_opensearch_domain_policy"}
	domain_type := trim_suffix(r.type, "_policy")
	some domain in lib.config_resources_of({domain_type})
	domain_named(domain, r.values.domain_name)
	count(lib.as_list(object.get(domain.values, "vpc_options", []))) > 0
}

domain_named(domain, name) if domain.values.domain_name == name

domain_named(domain, name) if {
	is_string(name)
	contains(name, concat("", [domain.type, ".", domain.name, ".domain_name"]))
}

# A policy document data source that only VPC endpoints use (in .tf files: its users are the
# module's resources that mention it).
only_endpoints_use(doc) if {
	doc.type == "aws_iam_policy_document"
	users := users_of(concat("", ["data.aws_iam_policy_document.", doc.name, "."]))
	count(users) > 0
	count(users - grants_nothing_types) == 0
}

# The types of the module's resources that mention `reference` in any of their values.
users_of(reference) := {block.type |
	some block in tf_module_blocks
	block.block_type == "resource"
	walk(block.values, [_, value])
	is_string(value)
	contains(value, reference)
}

principal_key(s) := "Principal" if {
	s.action_key == "Action"
} else := "principals"

principal_shown("*") := `"*"`

principal_shown("AWS") := `{"AWS": "*"}`

policy_kind(s) := "trust policy" if {
	s.attribute == "assume_role_policy"
} else := "resource policy"

label(s) := sprintf("%d (%q)", [s.index, s.sid]) if {
	is_string(s.sid)
} else := sprintf("%d", [s.index])

action_label(s) := sprintf("%q", [s.actions[0]]) if {
	count(s.actions) == 1
} else := sprintf("%d actions (%s)", [count(s.actions), concat(", ", s.actions)]) if {
	count(s.actions) > 1
} else := "its actions"
