# METADATA
# title: Required tags on taggable resources
# description: >-
#   Every taggable resource carries the tags in the `required_tags` parameter
#   (default owner, service, environment), with a non-empty value, either in
#   its `tags` or through the AWS provider's default_tags. Keys match without
#   regard to case (Owner counts as owner). In a plan the provider schema
#   decides what is taggable (the resource has a `tags` attribute) and
#   `tags_all` holds the merged tags; in a .tf file a resource is checked when
#   it sets `tags` or its type is in the list of taggable AWS types below.
#   Tags that are expressions (merge(local.tags, ...)) are not judged, nor are
#   .tf files of a module without a provider "aws" block (a child module gets
#   its provider, and its default_tags, from the caller).
# related_resources:
#   - ref: https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
# custom:
#   id: PE-TF-006
#   severity: low
#   kinds: [terraform_plan, terraform]
#   source: "seed 001 (service ownership and cost allocation)"
#   remediation: >-
#     Add the missing keys to the resource's tags, or once for every resource
#     in provider "aws" { default_tags { tags = { owner = ..., service = ...,
#     environment = ... } } }.
package pe.terraform.required_tags

import data.pe.terraform.lib
import rego.v1

# A plan: judge `change.after` directly (no resource object per change: plans are large).
deny contains {"msg": msg, "address": rc.address, "path": location(["resource_changes", i, "change", "after"], after)} if {
	some i, rc in input.resource_changes
	rc.mode == "managed"
	after := rc.change.after
	is_object(after)

	# the common case, cheaply: tags_all is what plan_tags reads first (object.get: OPA
	# fails `not all_tagged(after.tags_all)` outright when the plan has no tags_all)
	not all_tagged(object.get(after, "tags_all", null))
	plan_taggable(rc.change)
	_ := rc.type
	tags := plan_tags(rc.change)
	missing := missing_tags(tags)
	count(missing) > 0
	msg := message(rc.address, missing)
}

# A .tf file: resources that set tags or whose type takes them, with the provider's default_tags.
deny contains {"msg": msg, "address": block.address, "path": location(["blocks", i, "values"], block.values)} if {
	count(aws_providers) > 0
	known_default_tags
	some i, block in input.blocks
	block.block_type == "resource"
	tf_taggable(block)
	_ := [block.type, block.name]
	r := lib.tf_resource(block, ["blocks", i, "values"])
	not lib.unknown(r, "tags")
	missing := missing_tags(object.union(default_tags, own_tags(block.values)))
	count(missing) > 0
	msg := message(block.address, missing)
}

message(address, missing) := sprintf(
	"%s is missing required tags: %s (add them to tags or to the provider's default_tags)",
	[address, concat(", ", missing)],
)

# Every required tag has a value under its exact key (undefined when `tags` is not an
# object): a resource passes without a tag-by-tag look.
all_tagged(tags) if {
	is_object(tags)
	present := object.filter(tags, required) # one built-in call, not a loop over the required tags
	count(present) == required_count
	not "" in present
	not null in present
}

# The required tags `tags` lacks (those under their exact key need no has_tag call).
missing_tags(tags) := [tag | some tag in required; not exact[tag]; not has_tag(tags, tag)] if {
	exact := {tag | some tag in required; value := tags[tag]; value != ""; not is_null(value)}
}

required := data.pe.params.required_tags

required_count := count(required)

# Keys compare case-insensitively; an empty or null value is missing.  The exact key
# first: lowering every key of every resource is what made this rule slow.
has_tag(tags, wanted) if {
	value := tags[wanted]
	value != ""
	not is_null(value)
} else if {
	some key, value in tags
	lower(key) == lower(wanted)
	value != ""
	not is_null(value)
}

# The taggable resources: in a plan the provider schema decides (the values
# have a `tags` key, maybe null); in a .tf file, resources that set `tags` and
# untagged resources of a type known to take tags.
plan_taggable(change) if {
	_ := change.after.tags
} else if {
	change.after_unknown.tags == true
}

tf_taggable(block) if lib.has_key(block.values, "tags")

tf_taggable(block) if taggable_types[block.type]

location(path, values) := array.concat(path, ["tags"]) if {
	is_object(values.tags)
} else := path

# What a plan says the resource will carry: tags_all (tags + default_tags), or tags when
# the provider does not report tags_all.  Undefined while either is unknown.
plan_tags(change) := change.after.tags_all if {
	is_object(change.after.tags_all)
} else := own_tags(values) if {
	values := change.after
	unknown := object.get(change, "after_unknown", {})
	not lib.has_key(values, "tags_all")
	not unknown.tags_all
	not unknown.tags
	tags_object_or_null(values)
}

tags_object_or_null(values) if is_object(object.get(values, "tags", null))

tags_object_or_null(values) if is_null(object.get(values, "tags", null))

own_tags(values) := values.tags if {
	is_object(values.tags)
} else := {}

# .tf: the module's unaliased aws provider(s) and their default_tags
aws_providers := [block |
	some block in array.concat(object.get(input, "blocks", []), object.get(input, ["module", "blocks"], []))
	block.block_type == "provider"
	block.name == "aws"
	not block.values.alias
]

default_tag_values := [tags |
	some provider in aws_providers
	some block in lib.as_list(object.get(provider.values, "default_tags", []))
	tags := object.get(block, "tags", {})
]

known_default_tags if {
	every tags in default_tag_values {
		is_object(tags)
	}
}

# (only read when every default_tags is an object, see known_default_tags; the guard
# keeps `some .. in` off a string, an error on regorus)
default_tags[key] := value if {
	some tags in default_tag_values
	is_object(tags)
	some key, value in tags
}

# AWS resource types that take tags, for .tf files that do not set any: the
# commonly used ones, so an untagged resource is noticed; types not listed are
# checked only when they set `tags`.
taggable_types := {
	"aws_instance", "aws_launch_template", "aws_autoscaling_group", "aws_ebs_volume",
	"aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_eip",
	"aws_route_table", "aws_security_group", "aws_network_acl", "aws_vpc_endpoint",
	"aws_lb", "aws_lb_target_group", "aws_alb", "aws_alb_target_group",
	"aws_s3_bucket", "aws_db_instance", "aws_rds_cluster", "aws_db_subnet_group",
	"aws_dynamodb_table", "aws_elasticache_cluster", "aws_elasticache_replication_group",
	"aws_efs_file_system", "aws_kms_key", "aws_secretsmanager_secret",
	"aws_iam_role", "aws_iam_policy", "aws_iam_user",
	"aws_lambda_function", "aws_ecs_cluster", "aws_ecs_service", "aws_ecs_task_definition",
	"aws_eks_cluster", "aws_eks_node_group", "aws_ecr_repository",
	"aws_sqs_queue", "aws_sns_topic", "aws_cloudwatch_log_group",
	"aws_cloudfront_distribution", "aws_acm_certificate", "aws_route53_zone",
	"aws_apigatewayv2_api", "aws_kinesis_stream", "aws_opensearch_domain",
	"aws_redshift_cluster", "aws_docdb_cluster", "aws_neptune_cluster", "aws_sfn_state_machine",
}
