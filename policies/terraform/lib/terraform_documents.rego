# The IAM policy documents of a Terraform configuration, one statement shape for every
# resource type that embeds one (see terraform.rego for the resources they come from), and
# the defaults of a .tf module's variables, which stand for values taken from them whole.
#
# Its own package, beside pe.terraform.lib rather than in it or under it: regorus (as locked)
# mis-evaluated both (a package split over two files lost PE-TF-004's S3 finding once PE-TF-001
# had run; a package nested under pe.terraform.lib read as undefined once another package had
# iterated lib.tf_blocks).
package pe.terraform.documents

import data.pe.terraform.lib.as_list
import data.pe.terraform.lib.data_sources_of
import data.pe.terraform.lib.has_key
import data.pe.terraform.lib.resources_of
import rego.v1

# ------------------------------------------------------------- .tf variables

# The blocks of the module a .tf file belongs to: its own and its siblings'.
tf_module_blocks := array.concat(own_blocks, module_blocks)

default own_blocks := []

own_blocks := input.blocks if is_array(input.blocks)

default module_blocks := []

module_blocks := input.module.blocks if is_array(input.module.blocks)

# variable name -> its default, for the variables of the module that have one.
tf_variable_defaults[name] := block.values["default"] if {
	some block in tf_module_blocks
	block.block_type == "variable"
	name := block.name
	has_key(block.values, "default")
}

# The variable a value is taken from whole (`"${var.actions}"` -> "actions"); undefined otherwise.
variable_name(value) := regex.find_all_string_submatch_n(`^\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}$`, value, 1)[0][1] if {
	is_string(value)
	startswith(value, "${var.")
}

# A .tf value with a variable taken whole replaced by the variable's default (the value
# Terraform uses when nobody sets it); any other value as it is.  Lists are resolved item by
# item.  Cheap when there is nothing to resolve (a plan): every policy statement calls it.
resolved(value) := default_value if {
	is_string(value)
	startswith(value, "${var.")
	default_value := tf_variable_defaults[variable_name(value)]
} else := [item | some v in value; some item in as_list(resolved_item(v))] if {
	has_variable_defaults
	is_array(value)
} else := value

resolved_item(v) := default_value if {
	is_string(v)
	startswith(v, "${var.")
	default_value := tf_variable_defaults[variable_name(v)]
} else := v

has_variable_defaults if count(tf_variable_defaults) > 0

# The variables a value (or the items of a list) is taken from: for messages.
variables_in(value) := {name | name := variable_name(value)} | {name |
	is_array(value)
	some v in value
	name := variable_name(v)
}

# ------------------------------------------------------------- policy documents

# resource type -> the attributes that hold an IAM policy document (a JSON string in a plan;
# jsonencode, a heredoc or a JSON string in a .tf file).  The AWS provider's resources that
# embed one; aws_iam_role's `inline_policy` blocks and the aws_iam_policy_document data
# source are read below.  A trust policy (`assume_role_policy`) is read for its principals.
policy_attributes := {
	# identity policies
	"aws_iam_policy": ["policy"],
	"aws_iam_role_policy": ["policy"],
	"aws_iam_user_policy": ["policy"],
	"aws_iam_group_policy": ["policy"],
	"aws_ssoadmin_permission_set_inline_policy": ["inline_policy"],
	"aws_iam_role": ["assume_role_policy"],
	# resource policies
	"aws_s3_bucket_policy": ["policy"],
	"aws_s3_bucket": ["policy"], # provider < 4
	"aws_s3_access_point": ["policy"],
	"aws_s3control_access_point_policy": ["policy"],
	"aws_sqs_queue_policy": ["policy"],
	"aws_sqs_queue": ["policy"],
	"aws_sns_topic_policy": ["policy"],
	"aws_sns_topic": ["policy"],
	"aws_kms_key": ["policy"],
	"aws_kms_key_policy": ["policy"],
	"aws_ecr_repository_policy": ["policy"],
	"aws_ecr_registry_policy": ["policy"],
	"aws_secretsmanager_secret_policy": ["policy"],
	"aws_secretsmanager_secret": ["policy"],
	"aws_elasticsearch_domain": ["access_policies"],
	"aws_elasticsearch_domain_policy": ["access_policies"],
	"aws_opensearch_domain": ["access_policies"],
	"aws_opensearch_domain_policy": ["access_policies"],
	"aws_glacier_vault": ["access_policy"],
	"aws_efs_file_system_policy": ["policy"],
	"aws_backup_vault_policy": ["policy"],
	"aws_cloudwatch_event_bus_policy": ["policy"],
	"aws_cloudwatch_log_resource_policy": ["policy_document"],
	"aws_cloudwatch_log_destination_policy": ["access_policy"],
	"aws_codeartifact_domain_permissions_policy": ["policy_document"],
	"aws_codeartifact_repository_permissions_policy": ["policy_document"],
	"aws_dynamodb_resource_policy": ["policy"],
	"aws_glue_resource_policy": ["policy"],
	"aws_kinesis_resource_policy": ["policy"],
	"aws_media_store_container_policy": ["policy"],
	"aws_networkfirewall_resource_policy": ["policy"],
	"aws_schemas_registry_policy": ["policy"],
	"aws_api_gateway_rest_api_policy": ["policy"],
	"aws_api_gateway_rest_api": ["policy"],
	"aws_vpc_endpoint": ["policy"],
	"aws_vpc_endpoint_policy": ["policy"],
}

# Policy documents that grant nothing: an endpoint policy limits what passes through the endpoint.
grants_nothing_types := {"aws_vpc_endpoint", "aws_vpc_endpoint_policy"}

# Statements from every document above and from aws_iam_policy_document data sources.  Each is
# {resource, attribute, index, path, sid, effect, actions, raw_actions, resources, action_key,
# principal, condition}: actions and resources as lists of strings (a .tf variable taken whole
# stands for its default), effect as written (`allows(s)`: unset or null is Allow), principal and
# condition as written (`principals(s)`, `conditions(s)` normalise them, for the statements a
# rule looks at).  A statement with principals is part of a resource (or trust) policy; one
# without, of an identity policy.
policy_statements := array.concat(resource_statements, array.concat(inline_statements, document_statements))

resource_statements := [s |
	some r in resources_of(object.keys(policy_attributes))
	some attribute in policy_attributes[r.type]
	policy := r.values[attribute]
	some s in statements_of(r, [attribute], policy)
]

inline_statements := [s |
	some r in resources_of({"aws_iam_role"})
	inlines := as_list(object.get(r.values, "inline_policy", []))
	some n, inline in inlines
	some s in statements_of(r, ["inline_policy", n, "policy"], inline.policy)
]

document_statements := [s |
	some r in data_sources_of({"aws_iam_policy_document"})
	statements := as_list(object.get(r.values, "statement", []))
	some n, st in statements
	is_object(st)
	raw_actions := object.get(st, "actions", [])
	s := {
		"resource": r,
		"attribute": "statement",
		"index": n,
		"path": array.concat(r.path, ["statement", n]),
		"sid": object.get(st, "sid", null),
		"action_key": "actions",
		"effect": object.get(st, "effect", null),
		"actions": string_list(resolved(raw_actions)),
		"raw_actions": raw_actions,
		"resources": string_list(resolved(object.get(st, "resources", []))),
		"principal": object.get(st, "principals", null),
		"condition": object.get(st, "condition", null),
	}
]

statements_of(r, attribute_path, policy) := [s |
	document := policy_document(policy)
	path := array.concat(r.path, attribute_path)
	some [n, st, statement_path] in statement_entries(document.Statement)
	raw_actions := object.get(st, "Action", [])
	s := {
		"resource": r,
		"attribute": attribute_path[0],
		"index": n,
		"path": array.concat(path, statement_path),
		"sid": object.get(st, "Sid", null),
		"action_key": "Action",
		"effect": object.get(st, "Effect", null),
		"actions": string_list(resolved(raw_actions)),
		"raw_actions": raw_actions,
		"resources": string_list(resolved(object.get(st, "Resource", []))),
		"principal": object.get(st, "Principal", null),
		"condition": object.get(st, "Condition", null),
	}
]

# Unset or null is Allow: IAM's default for a JSON statement, Terraform's for a
# policy document's `effect` (a plan shows it as null when the data source is read at apply).
allows(s) if is_null(s.effect)

allows(s) if {
	is_string(s.effect)
	lower(s.effect) == "allow"
}

# Whether a statement names principals (a resource or trust policy statement), without a call
# per statement: `s.principal` is JSON's `Principal` or a policy document's `principals` blocks.
has_principal(s) if not s.principal in {null, []}

# [type, identifier] pairs: "*" -> [["*", "*"]]; {"AWS": ["arn:...", "*"]} -> pairs; a policy
# document's principals blocks -> their type and identifiers.
principals(s) := json_principals(s.principal) if {
	s.action_key == "Action"
} else := block_principals(s.principal)

# [operator, key, values] triples, from JSON's `Condition` or a document's `condition` blocks.
conditions(s) := json_conditions(s.condition) if {
	s.action_key == "Action"
} else := block_conditions(s.condition)

policy_document(policy) := policy if {
	is_object(policy)
} else := json.unmarshal(policy) if {
	is_string(policy)
	json.is_valid(policy)
}

# [index, statement, path in the document] for each statement: a list of them (the
# index counts only objects) or a single one.
statement_entries(statement) := [[n, st, ["Statement", n]] |
	statements := [st | some st in statement; is_object(st)]
	some n, st in statements
] if {
	is_array(statement)
} else := [[0, statement, ["Statement"]]] if {
	is_object(statement)
}

# "*" -> [["*", "*"]]; {"AWS": ["arn:...", "*"], "Service": "s3.amazonaws.com"} -> pairs
json_principals(principal) := [["*", principal]] if {
	is_string(principal)
} else := [[type, id] |
	some type, ids in principal
	some id in string_list(ids)
] if {
	is_object(principal)
} else := []

block_principals(blocks) := [[type, id] |
	some block in as_list(blocks)
	is_object(block)
	type := object.get(block, "type", "*")
	some id in string_list(resolved(object.get(block, "identifiers", [])))
]

# {"StringEquals": {"aws:SourceAccount": "1"}} -> [["StringEquals", "aws:SourceAccount", ["1"]]]
json_conditions(condition) := [[operator, key, string_list(values)] |
	some operator, tests in condition
	is_object(tests)
	some key, values in tests
] if {
	is_object(condition)
} else := []

block_conditions(blocks) := [[block.test, block.variable, string_list(resolved(object.get(block, "values", [])))] |
	some block in as_list(blocks)
	is_object(block)
	is_string(block.test)
	is_string(block.variable)
]

# The strings of a value that may be one string or a list (as_list, then strings only).
string_list(value) := [value] if {
	is_string(value)
} else := [v | some v in value; is_string(v)] if {
	is_array(value)
} else := []
