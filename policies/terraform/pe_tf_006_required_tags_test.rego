package pe.terraform.required_tags_test

import data.pe.terraform.required_tags
import rego.v1

params := {"required_tags": ["owner", "service", "environment"]}

all_tags := {"Owner": "team", "service": "s", "environment": "prod"}

change(after, unknown) := {"resource_changes": [{
	"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue",
	"name": "q", "change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}]}

provider(default_tags) := {"block_type": "provider", "name": "aws", "address": "provider.aws", "values": {"default_tags": [{"tags": default_tags}]}}

queue(values) := {"block_type": "resource", "type": "aws_sqs_queue", "name": "q", "address": "aws_sqs_queue.q", "values": values}

test_plan_tags_all_complete if {
	count(required_tags.deny) == 0 with input as change({"tags": null, "tags_all": all_tags}, {}) with data.pe.params as params
}

test_plan_missing_tag if {
	results := required_tags.deny with input as change({"tags": {"owner": "x"}, "tags_all": {"owner": "x"}}, {}) with data.pe.params as params
	some r in results
	r.msg == "aws_sqs_queue.q is missing required tags: service, environment (add them to tags or to the provider's default_tags)"
	r.path == ["resource_changes", 0, "change", "after", "tags"]
}

# older AWS providers write `"tags": null` and no tags_all: every required tag is missing
test_plan_null_tags_without_tags_all if {
	results := required_tags.deny with input as change({"tags": null}, {}) with data.pe.params as params
	some r in results
	r.msg == "aws_sqs_queue.q is missing required tags: owner, service, environment (add them to tags or to the provider's default_tags)"
	r.path == ["resource_changes", 0, "change", "after"]
}

test_plan_untaggable_type_is_skipped if {
	count(required_tags.deny) == 0 with input as change({"role": "r"}, {}) with data.pe.params as params
}

test_plan_unknown_tags_all_is_skipped if {
	count(required_tags.deny) == 0 with input as change({"tags": {}}, {"tags_all": true}) with data.pe.params as params
}

test_tf_default_tags_count if {
	count(required_tags.deny) == 0 with input as {"blocks": [provider(all_tags), queue({"name": "q"})]} with data.pe.params as params
}

test_tf_empty_value_overrides_default if {
	defaults := {"owner": "team", "service": "s", "environment": "prod"}
	results := required_tags.deny with input as {"blocks": [provider(defaults), queue({"tags": {"owner": ""}})]} with data.pe.params as params
	count(results) == 1
}

test_tf_without_provider_is_not_judged if {
	count(required_tags.deny) == 0 with input as {"blocks": [queue({"name": "q"})]} with data.pe.params as params
}

test_tf_expression_tags_are_not_judged if {
	plain := {"block_type": "provider", "name": "aws", "address": "provider.aws", "values": {}}
	count(required_tags.deny) == 0 with input as {"blocks": [plain, queue({"tags": "${local.tags}"})]} with data.pe.params as params
}

test_tf_untagged_taggable_type if {
	plain := {"block_type": "provider", "name": "aws", "address": "provider.aws", "values": {}}
	results := required_tags.deny with input as {"blocks": [plain, queue({"name": "q"})]} with data.pe.params as params
	some r in results
	r.path == ["blocks", 1, "values"]
}

test_plan_empty_value_in_tags_all if {
	tags := {"owner": "", "service": "s", "environment": "prod"}
	results := required_tags.deny with input as change({"tags": tags, "tags_all": tags}, {}) with data.pe.params as params
	[r.msg | some r in results] == ["aws_sqs_queue.q is missing required tags: owner (add them to tags or to the provider's default_tags)"]
}

test_plan_keys_in_other_case if {
	tags := {"Owner": "team", "Service": "s", "ENVIRONMENT": "prod"}
	count(required_tags.deny) == 0 with input as change({"tags": tags, "tags_all": tags}, {}) with data.pe.params as params
}

test_plan_without_tags_all_reads_tags if {
	count(required_tags.deny) == 0 with input as change({"tags": all_tags}, {}) with data.pe.params as params
	count(required_tags.deny) == 1 with input as change({"tags": {"owner": "x"}}, {}) with data.pe.params as params
}
