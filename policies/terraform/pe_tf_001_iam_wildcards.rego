# METADATA
# title: No wildcard IAM permissions, no iam:PassRole on *, no AdministratorAccess
# description: >-
#   An IAM policy that allows every action (`*`) or every action of a service
#   (`s3:*`) on every resource (`*`) is administrator access in disguise;
#   `iam:PassRole` on `*` lets its holder hand any role, including an admin
#   role, to a service it controls; attaching the AWS-managed
#   AdministratorAccess policy grants everything outright. Checked in
#   aws_iam_policy / role_policy / user_policy / group_policy documents,
#   aws_iam_role inline policies and aws_iam_policy_document data sources, in
#   plans (the JSON policy string) and in .tf files (jsonencode, heredocs).
# related_resources:
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
# custom:
#   id: PE-TF-001
#   severity: critical
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security: least privilege)"
#   remediation: >-
#     List the actions the workload calls and the ARNs it calls them on;
#     restrict iam:PassRole to the specific role ARNs (and an
#     iam:PassedToService condition); attach a scoped customer-managed policy
#     instead of AdministratorAccess.
package pe.terraform.iam_wildcards

import data.pe.terraform.lib
import data.pe.terraform.lib.policy_statements
import rego.v1

deny contains {"msg": msg, "address": s.resource.address, "path": array.concat(s.path, [s.action_key])} if {
	some s in open_statements
	some action in s.actions
	wildcard_action(action)
	msg := sprintf(
		"%s: IAM statement %s allows Action %q on Resource \"*\": grant only the actions the workload calls, on specific ARNs",
		[s.resource.address, statement_label(s), action],
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

# aws_iam_{role,user,group}_policy_attachment and aws_iam_policy_attachment
deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, ["policy_arn"])} if {
	some r in lib.resources_of(attachment_types)
	administrator_access(r.values.policy_arn)
	msg := sprintf(
		"%s attaches the AdministratorAccess policy (%s): attach a policy scoped to what the principal needs",
		[r.address, r.values.policy_arn],
	)
}

deny contains {"msg": msg, "address": r.address, "path": array.concat(r.path, [attribute, n])} if {
	some r in lib.resources_of(object.keys(managed_policy_lists))
	some attribute in managed_policy_lists[r.type]
	some n, arn in lib.as_list(object.get(r.values, attribute, []))
	administrator_access(arn)
	msg := sprintf(
		"%s attaches the AdministratorAccess policy via %s: attach a policy scoped to what the principal needs",
		[r.address, attribute],
	)
}

attachment_types := {
	"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
	"aws_iam_group_policy_attachment", "aws_iam_policy_attachment",
}

managed_policy_lists := {
	"aws_iam_role": ["managed_policy_arns"],
	"aws_iam_role_policy_attachments_exclusive": ["policy_arns"],
	"aws_ssoadmin_managed_policy_attachment": ["managed_policy_arn"],
}

# The statements that allow something on Resource "*", for both rules above (computed once).
open_statements := [s |
	some s in policy_statements # imported by name, not read as `lib.policy_statements`: see lib/terraform.rego
	allows(s)
	"*" in s.resources
]

allows(s) if lower(s.effect) == "allow"

wildcard_action("*") := true

wildcard_action(action) if regex.match(`^[A-Za-z0-9-]+:\*$`, action)

any_wildcard(actions) if {
	some action in actions
	wildcard_action(action)
}

administrator_access(arn) if {
	is_string(arn)
	regex.match(`:policy/AdministratorAccess$`, arn)
}

statement_label(s) := sprintf("%d (%q)", [s.index, sid]) if {
	sid := statement_sid(s)
}

statement_label(s) := sprintf("%d", [s.index]) if not statement_sid(s)

statement_sid(s) := s.sid if is_string(s.sid)
