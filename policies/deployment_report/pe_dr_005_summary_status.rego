# METADATA
# title: Summary status matches the front matter
# description: >-
#   Readers see the Summary; tools read the front matter. When they disagree
#   (`status: rolled_back` above, `**Status:** SUCCESS` below) one of them is
#   wrong and someone will act on it.
# custom:
#   id: PE-DR-005
#   severity: medium
#   kinds: [deployment_report]
#   source: "seed 003 (Phase 5: documentation and reporting)"
#   remediation: >-
#     Make `- **Status:**` in the Summary say the front matter's status in
#     capitals (success -> SUCCESS, rolled_back -> ROLLED_BACK).
package pe.deployment_report.summary_status

import rego.v1

normalise(value) := trim(regex.replace(lower(trim_space(value)), `[^a-z]+`, "_"), "_")

front_status := normalise(input.front_matter.status) if is_string(input.front_matter.status)

deny contains {"msg": msg, "path": ["summary", "status"]} if {
	is_string(input.summary.status)
	normalise(input.summary.status) != front_status
	msg := sprintf(
		"Summary says `Status: %s` but the front matter says `status: %s`: make them agree (the Summary should read `%s`)",
		[input.summary.status, input.front_matter.status, upper(front_status)],
	)
}

deny contains {"msg": msg, "path": ["summary"]} if {
	front_status
	input.summary
	not input.summary.status
	msg := sprintf("Summary has no `Status:` line: add `- **Status:** %s` to match the front matter", [upper(front_status)])
}

deny contains {"msg": msg, "path": []} if {
	front_status
	not input.summary
	msg := sprintf("report has no `## Summary` section: add it with `- **Status:** %s` and the environment, version and duration", [upper(front_status)])
}
