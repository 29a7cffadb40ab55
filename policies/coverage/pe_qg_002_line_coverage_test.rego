package pe.coverage.line_coverage_test

import data.pe.coverage.line_coverage
import rego.v1

report := {
	"line_percent": 66.0, "lines_covered": 196, "lines_valid": 297,
	"files": [
		{"path": "src/agent/__init__.py", "line_percent": 100},
		{"path": "src/agent/tools.py", "line_percent": 46.59},
		{"path": "src/agent/planner.py", "line_percent": 67.13},
		{"path": "src/agent/memory.py", "line_percent": 89.06},
	],
}

test_below_threshold_names_the_weakest_files if {
	results := line_coverage.deny with input as report with data.pe.params.coverage_threshold as 80
	count(results) == 1
	some r in results
	r.path == ["line_percent"]
	r.msg == "line coverage is 66% (196 of 297 lines), below the required 80%: add tests for the least-covered files: src/agent/tools.py 46.59%, src/agent/planner.py 67.13%"
}

test_at_threshold_passes if {
	count(line_coverage.deny) == 0 with input as object.union(report, {"line_percent": 80})
		with data.pe.params.coverage_threshold as 80
}

test_threshold_is_a_parameter if {
	count(line_coverage.deny) == 0 with input as report with data.pe.params.coverage_threshold as 60
}

test_totals_only_report if {
	some r in line_coverage.deny with input as {"line_percent": 12.5} with data.pe.params.coverage_threshold as 80
	r.msg == "line coverage is 12.5%, below the required 80%: add tests"
}
