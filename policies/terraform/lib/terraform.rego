# One view of Terraform resources for the PE-TF rules, whatever the input is:
#
#   - a plan from `terraform show -json` (the JSON as Terraform wrote it, as OPA
#     and conftest receive it): `input.resource_changes[i].change.after`;
#   - a `.tf` file as pe-policy loads it (`pe-policy parse main.tf`):
#     `input.blocks[i].values`, the module's other files in `input.module.blocks`.
#
# Each resource is {address, type, name, module, values, path, unknown, source}:
# `values` is the plan's `after` or the block's attributes (nested blocks are
# lists of objects in both), `path` is the JSON path of `values` in the input,
# so a rule returns array.concat(r.path, ["ingress", 0]) and pe-policy turns it
# into the line of that `ingress` block.  `unknown` marks plan values known only
# after apply; in `.tf` files an unevaluated expression ("${var.x}") is unknown.
#
# Plans run to tens of thousands of resources: rules ask for the types they
# judge (`resources_of({"aws_s3_bucket"})`), which visits only those, through an
# index of the changes by type built once per evaluation (`plan_changes`), and
# builds objects only for them.  Rules import this package's rules (not its
# functions) by name, `import data.pe.terraform.lib.policy_statements`, or use
# their full path: regorus evaluates every rule of a package reached through an
# import alias (`lib.policy_statements` makes a large plan ~1.4x slower).
# In regorus a function call costs more than a comparison or a built-in: the
# common, compliant case of a rule is best decided before any call is made.
package pe.terraform.lib

import rego.v1

# ------------------------------------------------------------------ resources

is_plan if is_array(input.resource_changes)

# Managed resources of `types` that exist after the change (plan) or are declared (.tf).
# A plan's come type by type, in plan order within a type (`resources` keeps plan order).
resources_of(types) := array.concat(plan_resources_of(types, "managed"), tf_resources_of(types, "resource"))

# Data sources of `types`, in the same shape (a plan lists only those read during apply).
data_sources_of(types) := array.concat(plan_resources_of(types, "data"), tf_resources_of(types, "data"))

# type -> the indexes of its resource changes: built once per evaluation, so a rule
# asking for a few types visits only theirs, not every change of a large plan.
plan_changes[type] contains i if {
	some i, rc in input.resource_changes
	type := rc.type
}

# The object is built here, not by a function: it is the one place, and a call per
# resource is a cost a large plan feels.
plan_resources_of(types, mode) := [r |
	some type in types
	some i in plan_changes[type]
	rc := input.resource_changes[i]
	rc.mode == mode
	change := rc.change
	is_object(change.after)
	r := {
		"address": rc.address,
		"type": rc.type,
		"name": object.get(rc, "name", ""),
		"module": object.get(rc, "module_address", ""),
		"values": change.after,
		"path": ["resource_changes", i, "change", "after"],
		"unknown": object.get(change, "after_unknown", {}),
		"source": "plan",
	}
]

tf_resources_of(types, block_type) := [r |
	some i, block in tf_blocks
	block.type in types
	block.block_type == block_type
	r := tf_resource(block, ["blocks", i, "values"])
]

# Resources of `types` anywhere in the configuration, for rules that look for a
# companion resource: in a .tf file, the module's other files count too.
config_resources_of(types) := array.concat(resources_of(types), [r |
	blocks := object.get(input, ["module", "blocks"], [])
	is_array(blocks) # `some .. in` a string or number is an error on regorus (OPA: no iteration)
	some i, block in blocks
	block.type in types
	block.block_type == "resource"
	r := tf_resource(block, ["module", "blocks", i, "values"])
])

# Every managed resource (for policies of your own; the built-in rules name their types),
# in the order of the input: plan resources are sorted back by their index.
resources := array.concat(
	[pair[1] | some pair in sort([[r.path[1], r] | some r in plan_resources_of(object.keys(plan_changes), "managed")])],
	[r |
		some i, block in tf_blocks
		block.block_type == "resource"
		r := tf_resource(block, ["blocks", i, "values"])
	],
)

# The blocks of a .tf file (none in a plan).  Guarded: `some .. in` a value that is
# not a collection is an error on regorus, where OPA iterates nothing.
default tf_blocks := []

tf_blocks := input.blocks if is_array(input.blocks)

tf_resource(block, path) := {
	"address": block.address,
	"type": block.type,
	"name": block.name,
	"module": "",
	"values": block.values,
	"path": path,
	"unknown": {},
	"source": "tf",
}

# "module.net[0].module.db" -> "module.net.module.db." (config addresses carry no instance keys)
module_prefix(address) := "" if {
	address == ""
} else := concat("", [regex.replace(address, `\[[^\]]*\]`, ""), "."])

# ------------------------------------------------------------------- values

# The value is not known yet: computed during apply, or an expression in a .tf file.
unknown(r, attribute) if {
	r.unknown[attribute] == true
} else if {
	is_expression(r.values[attribute])
}

is_expression(value) if {
	is_string(value)
	contains(value, "${")
}

# The object has the key, whatever its value (null and false included).
has_key(obj, key) if {
	_ := obj[key]
}

# The attribute has a value pe-policy can judge (absent or null counts as unset).
known(r, attribute) if not unknown(r, attribute)

is_true(value) if value in {true, "true"}

# A literal number, or a numeric string (`"22"` in a .tf file).
number_of(value) := value if {
	is_number(value)
} else := to_number(value) if {
	is_string(value)
	regex.match(`^-?[0-9]+$`, value)
}

as_list(value) := value if {
	is_array(value)
} else := [] if {
	is_null(value)
} else := [value]

# The config address of a resource: module path + type.name, without instance keys.
config_key(r) := concat("", [r.type, ".", r.name]) if {
	r.module == ""
} else := concat("", [module_prefix(r.module), r.type, ".", r.name])

# --------------------------------------------------------- companion resources

# What an `aws_s3_bucket_*` companion resource (public access block, encryption
# configuration) points at: "name:<bucket>" for a literal bucket name, or the
# config key of the bucket resource it references.  Empty when unknowable
# (a module output, a variable): such a companion may cover any bucket.
# One `else` chain (the cases exclude each other): a companion stops at its first.
bucket_targets(r) := {name_key(r.values.bucket)} if {
	is_string(r.values.bucket)
	not is_expression(r.values.bucket)
} else := {concat("", [module_prefix(r.module), found]) |
	some found in regex.find_n(`aws_s3_bucket\.[A-Za-z0-9_-]+`, r.values.bucket, -1)
} if {
	is_expression(r.values.bucket)
} else := {concat("", [module_prefix(r.module), found]) |
	some reference in references
	some found in regex.find_n(`^aws_s3_bucket\.[A-Za-z0-9_-]+`, reference, 1)
} if {
	r.source == "plan"
	references := object.get(companion_bucket_references, config_key(r), [])
} else := set() if {
	r.source == "tf"
}

# The keys under which companions can name a bucket resource: its config
# address and its name (an expression never matches: targets are literal names).
bucket_keys(r) := {config_key(r), name_key(object.get(r.values, "bucket", ""))}

name_key(bucket) := concat("", ["name:", bucket]) if {
	is_string(bucket)
} else := sprintf("name:%v", [bucket])

# Whether the configuration has a companion of `type` (a public access block,
# an encryption configuration) for bucket `r`: one naming it, or one whose
# bucket cannot be told (it may be this one).
has_bucket_companion(type, r) if {
	unresolved_companion[type]
} else if {
	some key in bucket_keys(r)
	companion_targets[type][key]
}

companion_types := {"aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration"}

# companion type -> the S3 buckets with no companion of that type: the rules' fast
# form of `not has_bucket_companion(type, r)`.  A rule, not a function: computed once
# per evaluation (with the buckets and their keys) and shared by the rules, which
# import it by name and read `buckets_without_companion[type]`.  The bodies exclude
# each other: an unresolved companion may cover any bucket; no companion at all
# leaves every bucket uncovered (no need to compare keys).
buckets_without_companion[type] := [] if {
	some type in companion_types
	unresolved_companion[type]
}

buckets_without_companion[type] := s3_buckets if {
	some type in companion_types
	not unresolved_companion[type]
	count(companion_targets[type]) == 0
}

buckets_without_companion[type] := uncovered if {
	some type in companion_types
	not unresolved_companion[type]
	targets := companion_targets[type]
	count(targets) > 0
	uncovered := [bucket |
		some n, keys in s3_bucket_keys
		count(keys & targets) == 0
		bucket := s3_buckets[n]
	]
}

s3_buckets := resources_of({"aws_s3_bucket"})

s3_bucket_keys := [bucket_keys(r) | some r in s3_buckets]

# type -> the targets of each of its companions (built once per evaluation, for both below)
companion_target_sets[type] := [bucket_targets(c) | some c in config_resources_of({type})] if some type in companion_types

# type -> every bucket key its companions name
companion_targets[type] := targets if {
	some type in companion_types
	targets := {target |
		some found in companion_target_sets[type]
		some target in found
	}
}

unresolved_companion[type] if {
	some type in companion_types
	some targets in companion_target_sets[type]
	count(targets) == 0
}

# plan: config key -> attribute -> the references of its expression, for values
# unknown until apply (`bucket = aws_s3_bucket.logs.id`); root module and three
# levels of module calls.
plan_references[key] := refs if {
	some prefix, module in config_modules
	some res in resources_in(module)
	key := concat("", [prefix, res.address])
	refs := {attribute: expression.references |
		some attribute
		expression := res.expressions[attribute]
		is_array(expression.references)
	}
}

# plan_references narrowed to what bucket_targets reads, the `bucket` references
# (building every attribute's for every resource of a large plan is slow).
companion_bucket_references[key] := refs if {
	some prefix, module in config_modules
	some res in resources_in(module)
	refs := res.expressions.bucket.references
	is_array(refs)
	key := concat("", [prefix, res.address])
}

config_modules[""] := input.configuration.root_module

config_modules[prefix] := module if {
	some name, call in calls_in(input.configuration.root_module)
	module := call.module
	prefix := sprintf("module.%s.", [name])
}

config_modules[prefix] := module if {
	some a, call_a in calls_in(input.configuration.root_module)
	some b, call_b in calls_in(call_a.module)
	module := call_b.module
	prefix := sprintf("module.%s.module.%s.", [a, b])
}

config_modules[prefix] := module if {
	some a, call_a in calls_in(input.configuration.root_module)
	some b, call_b in calls_in(call_a.module)
	some c, call_c in calls_in(call_b.module)
	module := call_c.module
	prefix := sprintf("module.%s.module.%s.module.%s.", [a, b, c])
}

# A configuration module's resources (a list) and module calls (an object), or none
# when the plan has something else there: `some .. in` a string or a number is an
# error on regorus, where OPA iterates nothing.
resources_in(module) := module.resources if {
	is_array(module.resources)
} else := []

calls_in(module) := module.module_calls if {
	is_object(module.module_calls)
} else := {}

# ------------------------------------------------------------- .tf variables

# The blocks of the module a .tf file belongs to: its own and its siblings'.
tf_module_blocks := array.concat(tf_blocks, module_blocks)

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
# Terraform uses when nobody sets it); any other value as it is.  Lists are resolved item by item.
resolved(value) := default_value if {
	default_value := tf_variable_defaults[variable_name(value)]
} else := [item | some v in value; some item in as_list(resolved_item(v))] if {
	is_array(value)
} else := value

resolved_item(v) := default_value if {
	default_value := tf_variable_defaults[variable_name(v)]
} else := v

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
# {resource, attribute, index, path, sid, effect, actions, resources, action_key,
# action_variables, principals, conditions}: actions and resources as lists of strings (a .tf
# variable taken whole stands for its default), effect "Allow" when unset or null (Terraform's
# and IAM's default), principals as [type, identifier] pairs ("*" is the JSON `"Principal": "*"`),
# conditions as [operator, key, values] triples.  A statement with principals is part of a
# resource (or trust) policy; one without, of an identity policy.
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
		"effect": effect_of(object.get(st, "effect", null)),
		"actions": string_list(resolved(raw_actions)),
		"action_variables": variables_in(raw_actions),
		"resources": string_list(resolved(object.get(st, "resources", []))),
		"principals": block_principals(object.get(st, "principals", [])),
		"conditions": block_conditions(object.get(st, "condition", [])),
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
		"effect": effect_of(object.get(st, "Effect", null)),
		"actions": string_list(resolved(raw_actions)),
		"action_variables": variables_in(raw_actions),
		"resources": string_list(resolved(object.get(st, "Resource", []))),
		"principals": json_principals(object.get(st, "Principal", null)),
		"conditions": json_conditions(object.get(st, "Condition", null)),
	}
]

# Unset or null is Allow: IAM's default for a JSON statement, Terraform's for a
# policy document's `effect` (a plan shows it as null when the data source is read at apply).
effect_of(effect) := "Allow" if {
	is_null(effect)
} else := effect if {
	is_string(effect)
} else := sprintf("%v", [effect])

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

# ---------------------------------------------------------------- descriptions

port_names := {
	22: "SSH", 3389: "RDP", 3306: "MySQL", 5432: "PostgreSQL", 1433: "SQL Server",
	1521: "Oracle", 27017: "MongoDB", 6379: "Redis", 9200: "Elasticsearch", 5439: "Redshift",
}

port_label(port) := sprintf("%d (%s)", [port, port_names[port]])

port_label(port) := sprintf("%d", [port]) if not port_names[port]
