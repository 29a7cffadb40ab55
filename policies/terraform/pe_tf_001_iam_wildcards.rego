# METADATA
# title: No wildcard IAM permissions, no iam:PassRole on *, no admin-equivalent policy attachments
# description: >-
#   An IAM policy that allows every action (`*`) or every action of a service
#   (`s3:*`) on every resource (`*`) is administrator access in disguise;
#   `iam:PassRole` on `*` lets its holder hand any role, including an admin
#   role, to a service it controls; attaching the AWS-managed
#   AdministratorAccess policy (or IAMFullAccess, with which a principal
#   grants itself AdministratorAccess) grants everything outright. Checked in
#   every policy document the AWS provider embeds: identity policies
#   (aws_iam_policy, role/user/group policies, aws_iam_role inline policies,
#   aws_ssoadmin_permission_set_inline_policy, aws_iam_policy_document data
#   sources) and resource policies (S3, SQS, SNS, KMS, ECR, Secrets Manager,
#   OpenSearch, ..., where a statement granting a principal every action `*`
#   is reported; a VPC endpoint policy only limits what passes through the
#   endpoint and grants nothing). Actions and policy ARNs taken from a
#   variable count with the variable's default; a statement whose effect is
#   unset or null is an Allow. Admin-equivalent policies are found in policy
#   attachments, managed_policy_arns, SSO permission sets, through an
#   aws_iam_policy data source, and in the inputs of module calls
#   (`policies = { admin = "arn:aws:iam::aws:policy/AdministratorAccess" }`).
# related_resources:
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
# custom:
#   id: PE-TF-001
#   severity: critical
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security: least privilege)"
#   remediation: >-
#     List the actions the workload calls and the ARNs it calls them on (and
#     give an action variable a narrow default, or none); restrict
#     iam:PassRole to the specific role ARNs (and an iam:PassedToService
#     condition); attach a scoped customer-managed policy instead of
#     AdministratorAccess or IAMFullAccess.
package pe.terraform.iam_wildcards

import data.pe.terraform.documents
import data.pe.terraform.documents.grants_nothing_types
import data.pe.terraform.documents.policy_statements
import data.pe.terraform.documents.tf_module_blocks
import data.pe.terraform.lib
import data.pe.terraform.lib.tf_blocks
import rego.v1

deny contains {"msg": msg, "address": s.resource.address, "path": array.concat(s.path, [s.action_key])} if {
	some s in open_statements
	some action in s.actions
	wildcard_action(action)
	msg := sprintf(
		"%s: IAM statement %s allows Action %q%s on Resource \"*\": grant only the actions the workload calls, on specific ARNs",
		[s.resource.address, statement_label(s), action, from_variables(s)],
	)
}

deny contains {"msg": msg, "address": s.resource.address, "path": array.concat(s.path, [s.action_key])} if {
	some s in open_statements
	not any_wildcard(s.actions)
	some action in s.actions
	glob.match(lower(action), [], "iam:passrole")
	msg := sprintf(
		"%s: IAM statement %s allows %q on Resource \"*\": any role, including admin roles, can be passed to a service; name the role ARNs",
		[s.resource.address, statement_label(s), action],
	)
}

# a resource policy statement granting its principals every action of every service
deny contains {"msg": msg, "address": s.resource.address, "path": array.concat(s.path, [s.action_key])} if {
	some s in policy_statements
	"*" in s.actions
	documents.has_principal(s)
	documents.allows(s)
	not s.resource.type in grants_nothing_types
	msg := sprintf(
		"%s: %s statement %s grants %s every action (\"*\")%s: name the actions they need",
		[s.resource.address, policy_label(s), statement_label(s), principal_label(s), from_variables(s)],
	)
}

# aws_iam_{role,user,group}_policy_attachment and aws_iam_policy_attachment
deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["policy_arn"])} if {
	some r in lib.resources_of(attachment_types)
	name := admin_policy(r.values.policy_arn)
	msg := sprintf(
		"%s attaches the %s policy (%s): attach a policy scoped to what the principal needs",
		[r.address, name, admin_reason[name]],
	)
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, [attribute, n])} if {
	some r in lib.resources_of(object.keys(managed_policy_lists))
	some attribute in managed_policy_lists[r.type]
	some n, arn in lib.as_list(documents.resolved(object.get(r.values, attribute, [])))
	name := admin_policy(arn)
	msg := sprintf(
		"%s attaches the %s policy via %s (%s): attach a policy scoped to what the principal needs",
		[r.address, name, attribute, admin_reason[name]],
	)
}

# an admin-equivalent policy ARN handed to a module (.tf files: in a plan, the module's
# resources carry it and are judged above)
deny contains {"msg": msg, "address": block.address, "path": array.concat(["blocks", i, "values"], path)} if {
	some i, block in tf_blocks # imported by name: `lib.x` evaluates every rule of lib on regorus
	block.block_type == "module"
	walk(block.values, [path, value]) # regorus: the two-argument form (`:= walk(x)` finds nothing)
	is_string(value)
	name := admin_policy(value)
	msg := sprintf(
		"%s passes the %s policy to the module in %s (%s): pass a policy scoped to what the principal needs",
		[block.address, name, concat(".", [sprintf("%v", [step]) | some step in path]), admin_reason[name]],
	)
}

attachment_types := {
	"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
	"aws_iam_group_policy_attachment", "aws_iam_policy_attachment",
}

managed_policy_lists := {
	"aws_iam_role": ["managed_policy_arns"],
	"aws_iam_role_policy_attachments_exclusive": ["policy_arns"],
	"aws_iam_user_policy_attachments_exclusive": ["policy_arns"],
	"aws_iam_group_policy_attachments_exclusive": ["policy_arns"],
	"aws_ssoadmin_managed_policy_attachment": ["managed_policy_arn"],
}

# AWS-managed policies that are administrator access, or let the principal grant it to itself.
admin_reason := {
	"AdministratorAccess": "every action on every resource",
	"IAMFullAccess": "it can attach AdministratorAccess to itself",
}

# The identity statements that allow something on Resource "*", for the first two rules
# (computed once).  A statement with principals belongs to a resource or trust policy, where
# Resource "*" means the resource itself.
open_statements := [s |
	some s in policy_statements # imported by name, not read through a package alias: see lib/terraform.rego
	"*" in s.resources
	not documents.has_principal(s)
	documents.allows(s)
]

wildcard_action("*") := true

wildcard_action(action) if regex.match(`^[A-Za-z0-9-]+:\*$`, action)

any_wildcard(actions) if {
	some action in actions
	wildcard_action(action)
}

# The admin-equivalent AWS-managed policy an ARN names: literally, through a variable's
# default, or through an `aws_iam_policy` data source (by name or ARN) in the module.
admin_policy(arn) := name if {
	value := documents.resolved(arn)
	is_string(value)
	name := policy_name(value)
} else := name if {
	is_string(arn)
	some ref in regex.find_all_string_submatch_n(`^\$\{data\.aws_iam_policy\.([A-Za-z0-9_-]+)\.arn\}$`, arn, 1)
	some block in tf_module_blocks
	block.block_type == "data"
	block.type == "aws_iam_policy"
	block.name == ref[1]
	name := data_policy_name(block.values)
}

policy_name(arn) := name if {
	some match in regex.find_all_string_submatch_n(`:policy/([A-Za-z-]+)$`, arn, 1)
	name := match[1]
	admin_reason[name]
}

data_policy_name(values) := values.name if {
	admin_reason[values.name]
} else := policy_name(values.arn)

statement_label(s) := sprintf("%d (%q)", [s.index, sid]) if {
	sid := statement_sid(s)
}

statement_label(s) := sprintf("%d", [s.index]) if not statement_sid(s)

statement_sid(s) := s.sid if is_string(s.sid)

policy_label(s) := "trust policy" if {
	s.attribute == "assume_role_policy"
} else := "resource policy"

principal_label(s) := "everyone" if {
	some [_, id] in documents.principals(s)
	id == "*"
} else := concat(", ", sort({id | some [_, id] in documents.principals(s)}))

from_variables(s) := sprintf(" (the default of %s)", [concat(", ", sort({concat("", ["var.", v]) | some v in variables}))]) if {
	variables := documents.variables_in(s.raw_actions)
	count(variables) > 0
} else := ""
