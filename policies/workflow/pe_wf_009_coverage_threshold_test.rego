package pe.workflow.coverage_threshold_test

import data.pe.workflow.coverage_threshold
import rego.v1

params := {"coverage_threshold": 80}

deny_for(run) := results if {
	results := coverage_threshold.deny with input as {"on": ["push"], "jobs": {"test": {"steps": [{"run": run}]}}}
		with data.pe.params as params
}

test_gate_at_threshold_is_clean if {
	count(deny_for("pytest --cov=src --cov-fail-under=80")) == 0
	count(deny_for("coverage run -m pytest\ncoverage report --fail-under 90")) == 0
	count(deny_for("npx jest --coverageThreshold='{\"global\":{\"lines\":85}}'")) == 0
	count(deny_for("npx vitest run --coverage.thresholds.lines=80")) == 0
}

test_low_gate_is_denied_with_snippet if {
	results := deny_for("pip install pytest-cov\npytest --cov=src --cov-fail-under=70 -q")
	count(results) == 1
	some r in results
	r.snippet == "--cov-fail-under=70"
}

test_low_jest_and_nyc_gates_are_denied if {
	count(deny_for("npx jest --coverageThreshold='{\"global\":{\"lines\":60}}'")) == 1
	count(deny_for("npx nyc check-coverage --lines 75")) == 1
}

test_variable_gate_counts_without_comparison if {
	count(deny_for("pytest --cov-fail-under=${{ env.MIN_COVERAGE }}")) == 0
}

test_missing_gate_reported_at_the_runner_line if {
	results := deny_for("pip install pytest\npython -m pytest tests/")
	count(results) == 1
	some r in results
	r.snippet == "python -m pytest tests/"
}

test_delegated_runners_are_not_reported if {
	count(deny_for("tox -e py312")) == 0
}

test_keyed_threshold_in_with_is_compared if {
	results := coverage_threshold.deny with input as {"on": ["push"], "jobs": {"test": {"uses": "org/x/.github/workflows/python-tests.yml@0123", "with": {"coverage-threshold": "75"}}}}
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["jobs", "test", "with", "coverage-threshold"]
}

# gate_hint lets any_gate be skipped: every gate form must be found through it
test_every_gate_form_is_recognised if {
	every gate in [
		"--cov-fail-under=90", "coverage report --fail-under=90", "echo fail_under=90 >> setup.cfg",
		"npx jest --coverageThreshold='{\"global\":{\"lines\":90}}'", "npx nyc check-coverage --lines 90",
		"npx vitest run --coverage.thresholds.lines=90", "x --min-coverage 90", "x --coverage-min 90",
		"x --minimum-coverage 90", "x --coverage-threshold 90", "x --cov-fail-under=${{ env.MIN }}",
	] {
		count(deny_for(concat("\n", ["pytest", gate]))) == 0
	}
}
