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
# functions) by name, `import data.pe.terraform.documents.policy_statements`, or use
# their full path: regorus evaluates every rule of a package reached through an
# import alias (`documents.policy_statements` makes a large plan ~1.4x slower).
# IAM policy documents and .tf variable defaults are in terraform_documents.rego (package pe.terraform.documents,
# after this file: the OPA server compiles each module as it arrives, in path order).
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

# ------------------------------------------------------------- nested blocks

# [path, block] for each `name` block in `values`: written out (`root_block_device { ... }`,
# path [name, n]) or generated by a `dynamic "name"` block of a .tf file (its `content`,
# path ["dynamic", i, name, "content", 0]; see models/terraform.py).  A plan has only the first.
nested_blocks(values, name) := array.concat(
	[[[name, n], block] | some n, block in as_list(object.get(values, name, [])); is_object(block)],
	[[["dynamic", i, name, "content", 0], content] |
		some i, dynamic in as_list(object.get(values, "dynamic", []))
		is_object(dynamic)
		some content in as_list(object.get(object.get(dynamic, name, {}), "content", []))
		is_object(content)
	],
)

# ------------------------------------------------------- plan configuration

# plan: config key ("module.db.aws_instance.app") -> the resource's `expressions` in the
# plan's configuration (what the .tf files say, references included), root module and
# three levels of module calls.
config_expressions[key] := res.expressions if {
	some prefix, module in config_modules
	some res in resources_in(module)
	is_object(res.expressions)
	key := concat("", [prefix, res.address])
}

# A plan value known only after apply that the configuration computes from other values
# (`encrypted = var.x` is known at plan time; `encrypted = aws_kms_key.k.arn != ""` is not):
# `attribute` of the resource's `n`th `block` (a nested block such as root_block_device).
computed_in_configuration(r, block, n, attribute) if {
	r.source == "plan"
	expressions := config_expressions[config_key(r)]
	count(object.get(expressions[block][n][attribute], "references", [])) > 0
}

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

# ---------------------------------------------------------------- descriptions

port_names := {
	22: "SSH", 3389: "RDP", 3306: "MySQL", 5432: "PostgreSQL", 1433: "SQL Server",
	1521: "Oracle", 27017: "MongoDB", 6379: "Redis", 9200: "Elasticsearch", 5439: "Redshift",
}

port_label(port) := sprintf("%d (%s)", [port, port_names[port]])

port_label(port) := sprintf("%d", [port]) if not port_names[port]
