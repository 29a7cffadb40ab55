# METADATA
# title: Deployment report front matter complete and valid
# description: >-
#   The front matter is what dashboards, searches and the other rules read: it
#   must name the unit (`unit_id`), the outcome (`status`: success, failed or
#   rolled_back), when it happened (`deployed: YYYY-MM-DD HH:MM`) and the QA
#   report that approved it (`links.qa_report`).
# custom:
#   id: PE-DR-001
#   severity: high
#   kinds: [deployment_report]
#   source: "seed 003 (Phase 5: documentation and reporting)"
#   remediation: >-
#     Start the report with the seed's front matter: `unit_id: "PE-12"`,
#     `status: "success"`, `deployed: "2025-03-14 14:30"` and
#     `links: {qa_report: "[[QA/QA-Report-PE-12]]"}`.
package pe.deployment_report.front_matter

import rego.v1

statuses := ["success", "failed", "rolled_back"]

fm := input.front_matter

expected := {
	"unit_id": "add the unit's ID, e.g. `unit_id: \"PE-12\"`",
	"status": sprintf("add `status:` with one of %s", [concat(", ", statuses)]),
	"deployed": "add when it was deployed as `deployed: \"YYYY-MM-DD HH:MM\"`",
}

present(obj, key) if {
	value := obj[key]
	value != null
}

deny contains {"msg": msg, "path": []} if {
	not input.front_matter
	msg := "deployment report has no YAML front matter: start the file with a `---` block giving unit_id, status, deployed and links.qa_report"
}

deny contains {"msg": msg, "path": ["front_matter"]} if {
	is_object(fm)
	some key in ["unit_id", "status", "deployed"]
	not present(fm, key)
	msg := sprintf("front matter has no `%s`: %s", [key, expected[key]])
}

deny contains {"msg": msg, "path": ["front_matter", "unit_id"]} if {
	present(fm, "unit_id")
	not non_blank_string(fm.unit_id)
	msg := sprintf("`unit_id` must be a non-empty string, found %s: write it quoted, e.g. `unit_id: \"PE-12\"`", [json.marshal(fm.unit_id)])
}

deny contains {"msg": msg, "path": ["front_matter", "status"]} if {
	present(fm, "status")
	not fm.status in statuses
	msg := sprintf("`status: %s` is not one of %s: use exactly one of them", [json.marshal(fm.status), concat(", ", statuses)])
}

deny contains {"msg": msg, "path": ["front_matter", "deployed"]} if {
	present(fm, "deployed")
	not valid_timestamp(fm.deployed)
	msg := sprintf("`deployed: %s` is not a `YYYY-MM-DD HH:MM` time: write it like `deployed: \"2025-03-14 14:30\"`", [json.marshal(fm.deployed)])
}

deny contains {"msg": msg, "path": link_parent} if {
	is_object(fm)
	not present(object.get(fm, "links", {}), "qa_report")
	msg := "front matter has no `links.qa_report`: link the QA report that approved this deployment, e.g. `qa_report: \"[[QA/QA-Report-<UNIT_ID>]]\"` under `links:`"
}

deny contains {"msg": msg, "path": ["front_matter", "links", "qa_report"]} if {
	value := fm.links.qa_report
	value != null
	not non_blank_string(value)
	msg := sprintf("`links.qa_report` must be a quoted link, found %s: write `qa_report: \"[[QA/QA-Report-<UNIT_ID>]]\"` (unquoted `[[...]]` is a YAML list)", [json.marshal(value)])
}

# (a default, not `if not is_object(fm.links)`: OPA fails a negated call whose
# argument is undefined, a front matter without `links`; regorus does not)
default link_parent := ["front_matter"]

link_parent := ["front_matter", "links"] if is_object(fm.links)

non_blank_string(value) if {
	is_string(value)
	trim_space(value) != ""
}

# a real date and time: 2025-03-14 14:30 (month 01-12, day 01-31, hour 00-23)
valid_timestamp(value) if {
	is_string(value)
	regex.match(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]$`, value)
}
