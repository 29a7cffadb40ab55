# METADATA
# title: Line coverage meets the threshold
# description: >-
#   The test stage's coverage report (Cobertura XML or coverage.py JSON) must
#   show line coverage of at least `coverage_threshold` percent (default 80).
#   Line coverage is covered lines over coverable lines; coverage.py's
#   combined statement-and-branch percentage is not used.
# related_resources:
#   - ref: https://coverage.readthedocs.io/en/latest/cmd.html#json-reporting-coverage-json
# custom:
#   id: PE-QG-002
#   severity: medium
#   kinds: [coverage]
#   source: "seed 002 (quality gates: minimum 80% test coverage), seed 003"
#   remediation: >-
#     Add tests for the least-covered files named in the finding until line
#     coverage reaches the threshold; lower `coverage_threshold` in
#     .pe-policy.yaml only as a recorded team decision.
package pe.coverage.line_coverage

import rego.v1

threshold := data.pe.params.coverage_threshold

deny contains {"msg": msg, "path": ["line_percent"]} if {
	input.line_percent < threshold
	msg := sprintf(
		"line coverage is %v%%%s, below the required %v%%: add tests%s",
		[input.line_percent, counted, threshold, weakest],
	)
}

default counted := ""

counted := sprintf(" (%v of %v lines)", [input.lines_covered, input.lines_valid]) if input.lines_valid

# Files below the threshold, worst first: where tests pay off most.
below := sort([[f.line_percent, f.path] | some f in input.files; f.line_percent < threshold])

default weakest := ""

weakest := sprintf(" for the least-covered files: %s", [concat(", ", shown)]) if {
	count(below) > 0
	shown := [sprintf("%s %v%%", [pair[1], pair[0]]) | some pair in array.slice(below, 0, 3)]
}
