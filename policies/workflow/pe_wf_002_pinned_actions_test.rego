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
