# METADATA
# title: A successful deployment passed every check
# description: >-
#   A report may say `success` only when every verification check passed and
#   every timeline step succeeded; a failed health check or smoke test in a
#   "successful" deployment is exactly what the rollback triggers exist for.
#   Timeline steps that record no outcome (`-`) are accepted.
# custom:
#   id: PE-DR-003
#   severity: high
#   kinds: [deployment_report]
#   source: "seed 003 (Phase 4: post-deployment verification; success criteria)"
#   remediation: >-
#     Fix the failing check and record the new result, or change the report's
#     status to `failed` or `rolled_back` and describe the rollback.
package pe.deployment_report.success_verified

import rego.v1

normalise(value) := trim(regex.replace(lower(trim_space(value)), `[^a-z]+`, "_"), "_")

# the front matter's status, else the summary's (an `else`, not `not is_string(...)`:
# OPA fails a negated call whose argument is undefined, regorus does not)
report_status := normalise(input.front_matter.status) if {
	is_string(input.front_matter.status)
} else := normalise(input.summary.status) if {
	is_string(input.summary.status)
}

success if report_status == "success"

shown(status) := status if status != ""

shown("") := "blank"

deny contains {"msg": msg, "path": ["verification", i, "status"]} if {
	success
	some i, row in input.verification
	status := object.get(row, "status", "")
	status != "PASS"
	msg := sprintf(
		"verification check %q is %s in a report with status success: every check must PASS; fix it and re-verify, or report the deployment as failed/rolled_back",
		[row.name, shown(status)],
	)
}

deny contains {"msg": msg, "path": ["timeline", i, "status"]} if {
	success
	some i, row in input.timeline
	status := object.get(row, "status", "")
	not status in {"SUCCESS", "PASS", ""}
	msg := sprintf(
		"timeline step %q is %s in a report with status success: every step must be SUCCESS or PASS; report the deployment as failed/rolled_back if it did not complete",
		[row.name, status],
	)
}

deny contains {"msg": msg, "path": no_rows_path} if {
	success
	count(object.get(input, "verification", [])) == 0
	msg := "report says success but has no Verification Results rows: add the table of checks (health endpoint, error rate, latency) with Expected, Actual and Status"
}

# where the missing rows are reported: the Verification section, else the report
verification_section := min({j | contains(input.sections[j].key, "verification")})

no_rows_path := ["sections", verification_section] if verification_section

no_rows_path := [] if not verification_section
