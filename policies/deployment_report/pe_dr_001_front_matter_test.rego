package pe.deployment_report.front_matter_test

import data.pe.deployment_report.front_matter
import rego.v1

good := {
	"unit_id": "PE-12",
	"status": "success",
	"deployed": "2025-03-14 14:30",
	"links": {"qa_report": "[[QA/QA-Report-PE-12]]"},
}

with_fm(changes) := {"front_matter": object.union(good, changes)}

test_complete_front_matter_is_allowed if {
	count(front_matter.deny) == 0 with input as {"front_matter": good}
}

test_no_front_matter if {
	results := front_matter.deny with input as {"title": "Deployment Report"}
	count(results) == 1
	some r in results
	r.path == []
}

test_unknown_status_is_denied_at_the_status if {
	results := front_matter.deny with input as with_fm({"status": "done"})
	count(results) == 1
	some r in results
	r.path == ["front_matter", "status"]
}

test_bad_timestamp_is_denied if {
	results := front_matter.deny with input as with_fm({"deployed": "14/03/2025 2pm"})
	count(results) == 1
	some r in results
	r.path == ["front_matter", "deployed"]
}

test_impossible_month_is_denied if {
	count(front_matter.deny) == 1 with input as with_fm({"deployed": "2025-13-01 10:00"})
}

test_missing_unit_id_is_denied_at_the_front_matter if {
	results := front_matter.deny with input as {"front_matter": object.remove(good, ["unit_id"])}
	count(results) == 1
	some r in results
	r.path == ["front_matter"]
	contains(r.msg, "unit_id")
}

test_null_unit_id_counts_as_missing if {
	count(front_matter.deny) == 1 with input as with_fm({"unit_id": null})
}

test_missing_qa_link_is_denied_at_links if {
	no_link := object.union(object.remove(good, ["links"]), {"links": {"artifacts": "ghcr.io/acme/gw:1.4.3"}})
	results := front_matter.deny with input as {"front_matter": no_link}
	count(results) == 1
	some r in results
	r.path == ["front_matter", "links"]
}

test_unquoted_wiki_link_is_denied if {
	unquoted := object.union(object.remove(good, ["links"]), {"links": {"qa_report": [["QA/QA-Report-PE-12"]]}})
	results := front_matter.deny with input as {"front_matter": unquoted}
	count(results) == 1
	some r in results
	r.path == ["front_matter", "links", "qa_report"]
}
