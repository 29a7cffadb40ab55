package pe.scan_report.vulnerabilities_test

import data.pe.scan_report.vulnerabilities
import rego.v1

params := {"scan_severity_threshold": "high", "scan_unknown_severity": "high"}

vuln(severity) := {
	"id": "CVE-2023-43804", "cve": "CVE-2023-43804", "package": "urllib3",
	"installed_version": "1.26.5", "fixed_version": "1.26.17", "severity": severity, "tool": "Trivy",
}

test_high_is_denied_at_its_entry if {
	results := vulnerabilities.deny with input as {"vulnerabilities": [vuln("low"), vuln("high")]}
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["vulnerabilities", 1]
	r.msg == "CVE-2023-43804 in urllib3 1.26.5 (high, Trivy): upgrade urllib3 to 1.26.17"
}

test_medium_passes if {
	count(vulnerabilities.deny) == 0 with input as {"vulnerabilities": [vuln("medium")]}
		with data.pe.params as params
}

test_threshold_is_a_parameter if {
	count(vulnerabilities.deny) == 1 with input as {"vulnerabilities": [vuln("medium")]}
		with data.pe.params as {"scan_severity_threshold": "medium", "scan_unknown_severity": "high"}
	count(vulnerabilities.deny) == 0 with input as {"vulnerabilities": [vuln("high")]}
		with data.pe.params as {"scan_severity_threshold": "critical", "scan_unknown_severity": "high"}
}

test_unknown_counts_as_configured if {
	pip := object.union(vuln("unknown"), {"id": "PYSEC-2023-135", "cve": "CVE-2023-37920", "tool": "pip-audit"})
	count(vulnerabilities.deny) == 0 with input as {"vulnerabilities": [pip]}
		with data.pe.params as {"scan_severity_threshold": "high", "scan_unknown_severity": "low"}
	results := vulnerabilities.deny with input as {"vulnerabilities": [pip]} with data.pe.params as params
	some r in results
	contains(r.msg, "PYSEC-2023-135 (CVE-2023-37920)")
	contains(r.msg, "severity not reported, counted as high")
}

test_suppressed_and_unfixed if {
	suppressed := object.union(vuln("critical"), {"suppressed": true})
	count(vulnerabilities.deny) == 0 with input as {"vulnerabilities": [suppressed]} with data.pe.params as params
	unfixed := object.remove(vuln("critical"), ["fixed_version"])
	some r in vulnerabilities.deny with input as {"vulnerabilities": [unfixed]} with data.pe.params as params
	contains(r.msg, "the report names no fixed version")
}
