package pe.pull_request.labels_test

import data.pe.pull_request.labels
import rego.v1

services := ["gateway", "research", "brand", "content", "agent", "shared", "infra"]

deny_for(names) := results if {
	results := labels.deny with input as {"labels": names, "unknown": {}}
		with data.pe.params.phase_label_pattern as `^phase-\d+$`
		with data.pe.params.service_labels as services
}

test_phase_and_service_pass if {
	count(deny_for(["phase-1", "gateway", "needs-review"])) == 0
}

test_missing_phase_is_denied if {
	results := deny_for(["gateway"])
	count(results) == 1
	some r in results
	contains(r.msg, "no phase label")
	r.path == ["labels"]
}

test_missing_service_is_denied if {
	results := deny_for(["phase-2"])
	count(results) == 1
	some r in results
	contains(r.msg, "no service label")
}

test_no_labels_gives_both_findings if {
	results := deny_for([])
	count(results) == 2
	every r in results {
		contains(r.msg, "(it has none)")
	}
}

test_phase_label_must_match_whole_name if {
	count(deny_for(["phase-one", "gateway"])) == 1
}

test_unknown_labels_is_info if {
	results := labels.deny with input as {"unknown": {"labels": "no labels in a git range"}}
		with data.pe.params.phase_label_pattern as `^phase-\d+$`
		with data.pe.params.service_labels as services
	count(results) == 1
}
