package pe.workflow.security_scanner_test

import data.pe.workflow.security_scanner
import rego.v1

pipeline(jobs) := {"on": ["push"], "jobs": object.union({"test": {"steps": [{"run": "pytest"}]}}, jobs)}

test_security_job_with_scanner_is_clean if {
	count(security_scanner.deny) == 0 with input as pipeline({"security": {"steps": [{"uses": "aquasecurity/trivy-action@0123"}]}})
	count(security_scanner.deny) == 0 with input as pipeline({"sast": {"steps": [{"run": "semgrep ci"}]}})
	count(security_scanner.deny) == 0 with input as pipeline({"audit": {"steps": [{"run": "npm audit --audit-level=high"}]}})
}

test_security_job_without_scanner_is_denied if {
	results := security_scanner.deny with input as pipeline({"security": {"steps": [{"run": "echo TODO"}]}})
	count(results) == 1
	some r in results
	r.path == ["jobs", "security"]
}

test_reusable_call_and_local_scan_action_count if {
	count(security_scanner.deny) == 0 with input as pipeline({"security": {"uses": "org/x/.github/workflows/checks.yml@0123"}})
	count(security_scanner.deny) == 0 with input as pipeline({"security": {"steps": [{"uses": "./.github/actions/security-scan"}]}})
}

test_ignored_exit_status_points_at_the_line if {
	results := security_scanner.deny with input as pipeline({"audit": {"steps": [{"run": "npm ci\npip-audit || true\n"}]}})
	count(results) == 1
	some r in results
	r.snippet == "pip-audit || true"
	r.path == ["jobs", "audit", "steps", 0, "run"]
}

test_continue_on_error_scanner_is_denied if {
	results := security_scanner.deny with input as pipeline({"scan": {"steps": [{"uses": "anchore/scan-action@0123", "continue-on-error": true}]}})
	some r in results
	r.path == ["jobs", "scan", "steps", 0, "continue-on-error"]
}

test_only_pipelines_are_checked if {
	count(security_scanner.deny) == 0 with input as {"on": ["schedule"], "jobs": {"security": {"steps": [{"run": "echo"}]}}}
}
