package pe.workflow.structural_rules_test

import data.pe.workflow.cache_poisoning
import data.pe.workflow.container_credentials
import data.pe.workflow.persisted_credentials
import data.pe.workflow.privileged_triggers
import data.pe.workflow.self_hosted_pull_requests
import data.pe.workflow.unpinned_images
import data.pe.workflow.unsecure_commands
import rego.v1

digest := "sha256:2c29a6d6bd7ab5f8b2b1d1b1f8c5e8a4d1c3e4c4b0b5a4e1b7a6c1d0e3f2a9b8"

# ------------------------------------------------------------------ PE-WF-013

test_container_tag_is_denied if {
	results := unpinned_images.deny with input as {"jobs": {"t": {"container": "node:20"}}}
	{r.path | some r in results} == {["jobs", "t", "container"]}
}

test_service_tag_is_denied_at_its_image if {
	results := unpinned_images.deny with input as {"jobs": {"t": {"services": {"db": {"image": "postgres:16"}}}}}
	{r.path | some r in results} == {["jobs", "t", "services", "db", "image"]}
}

test_digest_and_expression_images_are_allowed if {
	count(unpinned_images.deny) == 0 with input as {
		"jobs": {"t": {
			"container": {"image": concat("@", ["node:20", digest])},
			"services": {"db": {"image": "${{ matrix.db }}"}},
		}},
		"expressions": [{"path": ["jobs", "t", "services", "db", "image"], "text": "${{ matrix.db }}"}],
	}
}

# judged from where the loader parsed a `${{ }}`, not from the text: an image whose own
# string holds a parsed expression is known only at run time; an expression in another
# string (here a service's) does not exempt it
test_image_is_judged_unless_the_loader_parsed_an_expression_there if {
	count(unpinned_images.deny) == 0 with input as {"jobs": {"t": {"container": "ghcr.io/acme/${{ matrix.tool }}:1"}}, "expressions": [{"path": ["jobs", "t", "container"], "text": "${{ matrix.tool }}"}]}
	count(unpinned_images.deny) == 1 with input as {"jobs": {"t": {"container": "ghcr.io/acme/${{ matrix.tool }}:1"}}, "expressions": [{"path": ["jobs", "t", "services", "db", "image"]}]}
}

# ------------------------------------------------------------------ PE-WF-015

test_unsecure_commands_in_step_env_are_denied if {
	results := unsecure_commands.deny with input as {"jobs": {"t": {"steps": [{"run": "x", "env": {"ACTIONS_ALLOW_UNSECURE_COMMANDS": true}}]}}}
	{r.path | some r in results} == {["jobs", "t", "steps", 0, "env"]}
}

test_unsecure_commands_in_workflow_env_are_denied if {
	count(unsecure_commands.deny) == 1 with input as {"env": {"ACTIONS_ALLOW_UNSECURE_COMMANDS": "true"}, "jobs": {}}
}

test_unsecure_commands_false_is_allowed if {
	count(unsecure_commands.deny) == 0 with input as {"env": {"ACTIONS_ALLOW_UNSECURE_COMMANDS": "false"}, "jobs": {}}
}

# ------------------------------------------------------------------ PE-WF-016

test_literal_container_password_is_denied_without_its_value if {
	results := container_credentials.deny with input as {"jobs": {"t": {"container": {"image": "x", "credentials": {"username": "u", "password": "hunter2"}}}}}
	count(results) == 1
	some r in results
	r.path == ["jobs", "t", "container", "credentials"]
	not contains(r.msg, "hunter2")
}

test_secret_password_is_allowed if {
	count(container_credentials.deny) == 0 with input as {
		"jobs": {"t": {"services": {"db": {"image": "x", "credentials": {"username": "u", "password": "${{ secrets.P }}"}}}}},
		"expressions": [{"path": ["jobs", "t", "services", "db", "credentials", "password"], "text": "${{ secrets.P }}"}],
	}
}

# judged by where the loader parsed a `${{ }}`: one in the username does not make the
# password a secret
test_password_is_judged_by_its_own_expression if {
	count(container_credentials.deny) == 1 with input as {
		"jobs": {"t": {"container": {"image": "x", "credentials": {"username": "${{ github.actor }}", "password": "hunter2"}}}},
		"expressions": [{"path": ["jobs", "t", "container", "credentials", "username"], "text": "${{ github.actor }}"}],
	}
}

# ------------------------------------------------------------------ PE-WF-014

test_checkout_then_upload_is_denied if {
	results := persisted_credentials.deny with input as {"jobs": {"b": {"steps": [{"uses": "actions/checkout@v4"}, {"uses": "actions/upload-artifact@v4"}]}}}
	{r.path | some r in results} == {["jobs", "b", "steps", 0, "uses"]}
}

test_checkout_without_credentials_or_upload_is_allowed if {
	count(persisted_credentials.deny) == 0 with input as {"jobs": {
		"b": {"steps": [{"uses": "actions/checkout@v4", "with": {"persist-credentials": false}}, {"uses": "actions/upload-artifact@v4"}]},
		"c": {"steps": [{"uses": "actions/checkout@v4"}, {"run": "make"}]},
	}}
}

# ------------------------------------------------------------------ PE-WF-019

test_self_hosted_on_pull_request_is_denied if {
	results := self_hosted_pull_requests.deny with input as {"on": ["pull_request"], "jobs": {"t": {"runs-on": ["self-hosted", "linux"]}, "u": {"runs-on": "ubuntu-latest"}}}
	{r.path | some r in results} == {["jobs", "t", "runs-on"]}
}

test_self_hosted_on_push_is_allowed if {
	count(self_hosted_pull_requests.deny) == 0 with input as {"on": "push", "jobs": {"t": {"runs-on": {"labels": "self-hosted"}}}}
}

test_runner_group_on_pull_request_target_is_denied if {
	count(self_hosted_pull_requests.deny) == 1 with input as {"on": {"pull_request_target": {}}, "jobs": {"t": {"runs-on": {"group": "ci"}}}}
}

# ------------------------------------------------------------------ PE-WF-020

test_privileged_triggers_are_reported_each_at_its_key if {
	results := privileged_triggers.deny with input as {"on": {"workflow_run": {}, "issue_comment": {}, "push": {}}, "jobs": {}}
	{r.path | some r in results} == {["on", "workflow_run"], ["on", "issue_comment"]}
}

test_plain_triggers_are_not_reported if {
	count(privileged_triggers.deny) == 0 with input as {"on": ["push", "pull_request"], "jobs": {}}
}

# ------------------------------------------------------------------ PE-WF-011

test_cache_in_release_workflow_is_denied if {
	results := cache_poisoning.deny with input as {"on": {"release": {"types": ["published"]}}, "jobs": {"p": {"steps": [{"uses": "actions/setup-node@v4", "with": {"cache": "npm"}}]}}}
	{r.path | some r in results} == {["jobs", "p", "steps", 0, "uses"]}
}

test_cache_in_job_that_publishes_is_denied if {
	count(cache_poisoning.deny) == 1 with input as {"on": "push", "jobs": {"p": {"steps": [{"uses": "Swatinem/rust-cache@v2"}, {"uses": "softprops/action-gh-release@v2"}]}}}
}

test_cache_off_or_outside_releases_is_allowed if {
	count(cache_poisoning.deny) == 0 with input as {"on": {"push": {"tags": ["v*"]}}, "jobs": {"p": {"steps": [
		{"uses": "actions/setup-go@v5", "with": {"cache": false}},
		{"uses": "actions/setup-python@v5"},
		{"uses": "actions/cache@v4", "with": {"lookup-only": true}},
	]}}}
	count(cache_poisoning.deny) == 0 with input as {"on": "push", "jobs": {"t": {"steps": [{"uses": "actions/cache@v4"}]}}}
}
