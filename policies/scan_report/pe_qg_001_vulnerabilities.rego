# METADATA
# title: Security scans report no critical or high vulnerabilities
# description: >-
#   The security quality gate blocks the pipeline while a scanner (Trivy,
#   pip-audit, npm audit, or any SARIF-producing tool) reports a vulnerability
#   at or above `scan_severity_threshold` (default high). A vulnerability the
#   scanner does not grade (pip-audit grades none) counts as
#   `scan_unknown_severity` (default high): the gate fails closed. Results
#   suppressed in the SARIF file itself are not counted.
# related_resources:
#   - ref: https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
# custom:
#   id: PE-QG-001
#   severity: critical
#   kinds: [scan_report]
#   source: "seed 003 (quality gates: security scan 0 critical/high), seed 002"
#   remediation: >-
#     Upgrade each package to the fixed version named in the finding and
#     re-run the scan. Where no fix exists, remove or replace the package, or
#     record a waiver with an owner, a reason and an expiry date.
package pe.scan_report.vulnerabilities

import rego.v1

rank := {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

threshold := rank[lower(data.pe.params.scan_severity_threshold)]

# The severity a vulnerability counts as for the gate.
counted(v) := lower(data.pe.params.scan_unknown_severity) if v.severity == "unknown"

counted(v) := v.severity if v.severity != "unknown"

deny contains {"msg": msg, "path": ["vulnerabilities", i], "snippet": v.id} if {
	some i, v in input.vulnerabilities
	not v.suppressed
	rank[counted(v)] >= threshold
	msg := sprintf("%s in %s (%s, %s): %s", [label(v), subject(v), graded(v), v.tool, remedy(v)])
}

label(v) := sprintf("%s (%s)", [v.id, v.cve]) if {
	v.cve != false # as a bare `v.cve` would: a false cve gives the bare id
	v.cve != v.id
} else := v.id

subject(v) := sprintf("%s %s", [v.package, v.installed_version]) if {
	v.package
	v.installed_version
} else := v.package if {
	v.package
} else := v.target if {
	v.target
} else := "the scanned artifact"

graded(v) := sprintf("severity not reported, counted as %s", [counted(v)]) if {
	v.severity == "unknown"
} else := v.severity

remedy(v) := sprintf("upgrade %s to %s", [v.package, v.fixed_version]) if {
	v.package
	v.fixed_version
} else := sprintf("upgrade to %s", [v.fixed_version]) if {
	v.fixed_version
} else := "the report names no fixed version: upgrade, replace or remove it, or record a waiver with an expiry" if {
	v.package
} else := "fix the code the scanner points at, or suppress the result with a justification"
