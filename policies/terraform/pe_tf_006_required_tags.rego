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

deny contains {"msg": msg, "address": r.address, "path": location(r)} if {
	some r in candidates
	tags := effective_tags(r)
	missing := [tag | some tag in data.pe.params.required_tags; not has_tag(tags, tag)]
	count(missing) > 0
	msg := sprintf(
		"%s is missing required tags: %s (add them to tags or to the provider's default_tags)",
		[r.address, concat(", ", missing)],
	)
}

# The taggable resources: in a plan the provider schema decides (the values
# have a `tags` key, maybe null); in a .tf file, resources that set `tags` and
# untagged resources of a type known to take tags.
candidates := array.concat(
	[r |
		some i
		rc := input.resource_changes[i]
		rc.mode == "managed"
		plan_taggable(rc.change)
		r := lib.plan_resource(i, rc)
	],
	[r |
		some i
		block := input.blocks[i]
		block.block_type == "resource"
		tf_taggable(block)
		r := lib.tf_resource(block, ["blocks", i, "values"])
	],
)

plan_taggable(change) if lib.has_key(change.after, "tags")

plan_taggable(change) if change.after_unknown.tags == true

tf_taggable(block) if lib.has_key(block.values, "tags")

tf_taggable(block) if taggable_types[block.type]

location(r) := array.concat(r.path, ["tags"]) if is_object(r.values.tags)

location(r) := r.path if not is_object(r.values.tags)

has_tag(tags, wanted) if {
	some key, value in tags
	lower(key) == lower(wanted)
	value != ""
	not is_null(value)
}

# plan: tags_all is tags merged with the provider's default_tags
effective_tags(r) := r.values.tags_all if {
	r.source == "plan"
	is_object(r.values.tags_all)
}

effective_tags(r) := object.get(r.values, "tags", {}) if {
	r.source == "plan"
	not lib.has_key(r.values, "tags_all")
	not r.unknown.tags_all
	not r.unknown.tags
	tags_object_or_null(r.values)
}

effective_tags(r) := object.union(default_tags, own_tags(r)) if {
	r.source == "tf"
	not lib.unknown(r, "tags")
	count(providers) > 0
	known_default_tags
}

tags_object_or_null(values) if is_object(object.get(values, "tags", null))

tags_object_or_null(values) if is_null(object.get(values, "tags", null))

own_tags(r) := r.values.tags if is_object(r.values.tags)

own_tags(r) := {} if not is_object(r.values.tags)

# .tf: the module's unaliased aws provider(s) and their default_tags
providers := [block |
	some block in array.concat(object.get(input, "blocks", []), object.get(input, ["module", "blocks"], []))
	block.block_type == "provider"
	block.name == "aws"
	not block.values.alias
]

default_tag_values := [tags |
	some provider in providers
	some block in lib.as_list(object.get(provider.values, "default_tags", []))
	tags := object.get(block, "tags", {})
]

known_default_tags if {
	every tags in default_tag_values {
		is_object(tags)
	}
}

default_tags := {key: value |
	some tags in default_tag_values
	some key
	value := tags[key]
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
