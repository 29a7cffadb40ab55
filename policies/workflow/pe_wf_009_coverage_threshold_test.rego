package pe.workflow.coverage_threshold_test

import data.pe.workflow.coverage_threshold
import rego.v1

params := {"coverage_threshold": 80}

workflow(run) := {"on": ["push"], "jobs": {"test": {"steps": [{"run": run}]}}}

test_gate_at_threshold_is_clean if {
	count(coverage_threshold.deny) == 0 with input as workflow("pytest --cov=src --cov-fail-under=80") with data.pe.params as params
	count(coverage_threshold.deny) == 0 with input as workflow("coverage run -m pytest\ncoverage report --fail-under 90") with data.pe.params as params
	count(coverage_threshold.deny) == 0 with input as workflow("npx jest --coverageThreshold='{\"global\":{\"lines\":85}}'") with data.pe.params as params
	count(coverage_threshold.deny) == 0 with input as workflow("npx vitest run --coverage.thresholds.lines=80") with data.pe.params as params
}

test_low_gate_is_denied_with_snippet if {
	results := coverage_threshold.deny with input as workflow("pip install pytest-cov\npytest --cov=src --cov-fail-under=70 -q") with data.pe.params as params
	count(results) == 1
	some r in results
	r.snippet == "--cov-fail-under=70"
}

test_low_jest_and_nyc_gates_are_denied if {
	count(coverage_threshold.deny) == 1 with input as workflow("npx jest --coverageThreshold='{\"global\":{\"lines\":60}}'") with data.pe.params as params
	count(coverage_threshold.deny) == 1 with input as workflow("npx nyc check-coverage --lines 75") with data.pe.params as params
}

test_variable_gate_counts_without_comparison if {
	count(coverage_threshold.deny) == 0 with input as workflow("pytest --cov-fail-under=${{ env.MIN_COVERAGE }}") with data.pe.params as params
}

test_missing_gate_reported_at_the_runner_line if {
	results := coverage_threshold.deny with input as workflow("pip install pytest\npython -m pytest tests/") with data.pe.params as params
	count(results) == 1
	some r in results
	r.snippet == "python -m pytest tests/"
}

test_delegated_runners_are_not_reported if {
	count(coverage_threshold.deny) == 0 with input as workflow("tox -e py312") with data.pe.params as params
}

test_keyed_threshold_in_with_is_compared if {
	results := coverage_threshold.deny with input as {"on": ["push"], "jobs": {"test": {"uses": "org/x/.github/workflows/python-tests.yml@0123", "with": {"coverage-threshold": "75"}}}}
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["jobs", "test", "with", "coverage-threshold"]
}

# gate_hint lets names_gate be skipped: every gate form must be found through it
test_every_gate_form_is_recognised if {
	every gate in [
		"--cov-fail-under=90", "coverage report --fail-under=90", "echo fail_under=90 >> setup.cfg",
		"npx jest --coverageThreshold='{\"global\":{\"lines\":90}}'", "npx nyc check-coverage --lines 90",
		"npx vitest run --coverage.thresholds.lines=90", "x --min-coverage 90", "x --coverage-min 90",
		"x --minimum-coverage 90", "x --coverage-threshold 90", "x --cov-fail-under=${{ env.MIN }}",
	] {
		count(coverage_threshold.deny) == 0 with input as workflow(concat("\n", ["pytest", gate])) with data.pe.params as params
	}
}
