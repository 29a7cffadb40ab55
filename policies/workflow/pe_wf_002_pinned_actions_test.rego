package pe.workflow.pinned_actions_test

import data.pe.workflow.pinned_actions
import rego.v1

sha := "11bd71901bbe5b1630ceea73d27597364c9af683"

test_tag_is_denied if {
	results := pinned_actions.deny with input as {"jobs": {"b": {"steps": [{"uses": "actions/checkout@v4"}]}}}
	count(results) == 1
	some r in results
	r.path == ["jobs", "b", "steps", 0, "uses"]
}

test_sha_is_allowed if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"b": {"steps": [{"uses": concat("@", ["actions/checkout", sha])}]}}}
}

test_local_action_is_allowed if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"b": {"steps": [{"uses": "./.github/actions/setup"}]}}}
}

test_reusable_workflow_branch_is_denied if {
	count(pinned_actions.deny) == 1 with input as {"jobs": {"call": {"uses": "org/repo/.github/workflows/ci.yml@main"}}}
}

test_composite_action_step_is_denied if {
	count(pinned_actions.deny) == 1 with input as {"runs": {"using": "composite", "steps": [{"uses": "actions/setup-python@v5"}]}}
}

test_docker_image_with_digest_is_allowed if {
	image := concat("", ["docker://alpine:3.20@sha256:", concat("", [sha, "0123456789abcdef01234567"])])
	count(pinned_actions.deny) == 0 with input as {"jobs": {"b": {"steps": [{"uses": image}]}}}
}

test_docker_image_tag_is_denied_with_a_digest_hint if {
	results := pinned_actions.deny with input as {"jobs": {"b": {"steps": [{"uses": "docker://alpine:3.20"}]}}}
	some r in results
	contains(r.msg, "docker://alpine:3.20@sha256:<digest>")
}

test_docker_image_short_digest_is_denied if {
	count(pinned_actions.deny) == 1 with input as {"jobs": {"b": {"steps": [{"uses": "docker://alpine@sha256:abc123"}]}}}
}

test_reusable_workflow_pinned_by_sha_is_allowed if {
	uses := concat("@", ["org/repo/.github/workflows/ci.yml", sha])
	count(pinned_actions.deny) == 0 with input as {"jobs": {"call": {"uses": uses}}}
}

test_local_reusable_workflow_is_allowed if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"call": {"uses": "./.github/workflows/deploy.yml"}}}
}

test_short_and_uppercase_shas_are_denied if {
	count(pinned_actions.deny) == 2 with input as {"jobs": {"b": {"steps": [
		{"uses": "actions/checkout@11bd719"},
		{"uses": concat("@", ["actions/checkout", upper(sha)])},
	]}}}
}

test_docker_action_image_is_checked if {
	results := pinned_actions.deny with input as {"runs": {"using": "docker", "image": "docker://aquasec/trivy:0.58.1"}}
	some r in results
	r.path == ["runs", "image"]
}

test_dockerfile_action_image_is_allowed if {
	count(pinned_actions.deny) == 0 with input as {"runs": {"using": "docker", "image": "Dockerfile"}}
}

test_run_steps_are_ignored if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"b": {"steps": [{"run": "make"}]}}}
}

test_sha_in_a_block_scalar_is_allowed if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"b": {"steps": [{"uses": concat("", ["actions/checkout@", sha, "\n"])}]}}}
}

test_same_repository_reusable_workflow_needs_no_sha if {
	count(pinned_actions.deny) == 0 with input as {"jobs": {"call": {"uses": "./.github/workflows/build.yml"}}}
}
