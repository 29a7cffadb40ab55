package pe.pull_request.labels_test

import data.pe.pull_request.labels
import rego.v1

services := ["gateway", "research", "brand", "content", "agent", "shared", "infra"]

params := {"phase_label_pattern": `^phase-\d+$`, "service_labels": services}

pr(names) := {"labels": names, "unknown": {}}

test_phase_and_service_pass if {
	count(labels.deny) == 0 with input as pr(["phase-1", "gateway", "needs-review"]) with data.pe.params as params
}

test_missing_phase_is_denied if {
	results := labels.deny with input as pr(["gateway"]) with data.pe.params as params
	count(results) == 1
	some r in results
	contains(r.msg, "no phase label")
	r.path == ["labels"]
}

test_missing_service_is_denied if {
	results := labels.deny with input as pr(["phase-2"]) with data.pe.params as params
	count(results) == 1
	some r in results
	contains(r.msg, "no service label")
}

test_no_labels_gives_both_findings if {
	results := labels.deny with input as pr([]) with data.pe.params as params
	count(results) == 2
	every r in results {
		contains(r.msg, "(it has none)")
	}
}

test_phase_label_must_match_whole_name if {
	count(labels.deny) == 1 with input as pr(["phase-one", "gateway"]) with data.pe.params as params
}

test_unknown_labels_is_info if {
	results := labels.deny with input as {"unknown": {"labels": "no labels in a git range"}}
		with data.pe.params.phase_label_pattern as `^phase-\d+$`
		with data.pe.params.service_labels as services
	count(results) == 1
}
