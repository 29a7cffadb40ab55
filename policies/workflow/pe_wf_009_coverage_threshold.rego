# METADATA
# title: The test stage enforces the coverage threshold
# description: >-
#   In a pipeline (see PE-WF-003), coverage is enforced in the workflow at or
#   above the `coverage_threshold` parameter (80 by default). Recognised gates:
#   pytest-cov `--cov-fail-under=N`, coverage.py `coverage report
#   --fail-under=N` and `fail_under`, diff-cover `--fail-under`, jest
#   `--coverageThreshold`, vitest `--coverage.thresholds.*`, nyc/c8
#   `check-coverage --lines N`, and `with:`/`env:` entries such as
#   `coverage-threshold: 80`, `fail_under`, `minimum_coverage`. A gate set
#   from a variable (`--cov-fail-under=$MIN`) counts but is not compared. A
#   number below the threshold is reported where it is written. When no gate
#   is visible, each test job that runs a test runner directly (pytest,
#   coverage run, jest, vitest, go test, cargo test ...) is reported at that
#   command; test runs delegated to make/tox/nox/npm scripts or to reusable
#   workflows are not visible here and are not reported. A gate kept only in
#   pyproject.toml or .coveragerc is not visible either: state it on the
#   command line so the CI gate is explicit.
# custom:
#   id: PE-WF-009
#   severity: medium
#   kinds: [workflow]
#   source: "seed 002 (quality gates: minimum 80% coverage enforced via CI), seed 003 (coverage ≥80%)"
#   remediation: >-
#     Fail the test job below the threshold: `pytest --cov=src --cov-fail-under=80`,
#     `coverage report --fail-under=80`, or jest
#     `--coverageThreshold='{"global":{"lines":80}}'`.
package pe.workflow.coverage_threshold

import data.pe.workflow.lib.pipeline
import rego.v1

threshold := data.pe.params.coverage_threshold

number := `['"]?([0-9]+(?:\.[0-9]+)?)`

# each captures (the gate as written, its number)
gate_patterns := [
	concat("", [`(?i)(--cov-fail-under[= ]+`, number, `)`]),
	concat("", [`(?i)(--fail-under[= ]+`, number, `)`]),
	concat("", [`(?i)(fail_under\s*[=:]\s*`, number, `)`]),
	concat("", [`(?i)(--coverage\.thresholds?\.(?:lines|statements|branches|functions)[= ]+`, number, `)`]),
	concat("", [`(?i)(check-coverage[^\n]*?--(?:lines|statements|branches|functions)[= ]+`, number, `)`]),
	concat("", [`(?i)(--coverageThreshold[= ]+['"]?\{[^\n]*?"?(?:lines|statements|branches|functions)"?\s*:\s*`, number, `)`]),
	concat("", [`(?i)(--(?:min-coverage|coverage-min|minimum-coverage|coverage-threshold)[= ]+`, number, `)`]),
]

# a gate whatever its value (`--cov-fail-under=${{ env.MIN }}` included)
any_gate := `(?i)(--cov-fail-under|--fail-under|fail_under|--coverageThreshold|check-coverage|--coverage\.thresholds?\.|--(min-coverage|coverage-min|minimum-coverage|coverage-threshold))`

gate_key := `(?i)^(.*cov.*(threshold|min|fail|under|target).*|.*(threshold|minimum|min)[-_]?cov.*|fail[-_]?under|threshold[-_]total)$`

runner := `(?i)(pytest|python3? -m (pytest|unittest)|coverage run|(^|[\s;&|(])(jest|vitest|mocha|nyc|c8)(\s|$)|go test|cargo (test|tarpaulin|llvm-cov)|dotnet test)`

installs := `(?i)(pip3?|uv pip|uv add|poetry add|pipx|npm|pnpm|yarn|go) (install|add|get)\b`

# ------------------------------------------------------------------ findings

deny contains {"msg": msg, "path": gate.path, "snippet": gate.text} if {
	pipeline.is_pipeline
	some gate in run_gates
	gate.value < threshold
	msg := sprintf(
		"coverage gate `%s` allows %v%%, below the required %v%%: raise it to %v",
		[gate.text, gate.value, threshold, threshold],
	)
}

deny contains {"msg": msg, "path": gate.path} if {
	pipeline.is_pipeline
	some gate in keyed_gates
	is_number(gate.value)
	gate.value < threshold
	msg := sprintf(
		"coverage threshold `%s: %v` is below the required %v%%: raise it to %v",
		[gate.key, gate.value, threshold, threshold],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", first[0], "run"], "snippet": first[1]} if {
	pipeline.is_pipeline
	not has_gate
	some job_id in pipeline.jobs_in("test")
	runs := [[i, line] |
		some i, step in pipeline.steps_of(pipeline.jobs[job_id])
		some line in split(pipeline.text(step.run), "\n")
		regex.match(runner, line)
		not regex.match(installs, line)
	]
	count(runs) > 0
	first := [runs[0][0], trim_space(runs[0][1])]
	msg := sprintf(
		"test job '%s' runs the tests without enforcing coverage >= %v%%: add `--cov-fail-under=%v` (pytest-cov), `coverage report --fail-under=%v` or jest `--coverageThreshold`",
		[job_id, threshold, threshold, threshold],
	)
}

# ------------------------------------------------------------------- gates

has_gate if {
	some job in pipeline.jobs
	some step in pipeline.steps_of(job)
	regex.match(any_gate, pipeline.text(step.run))
}

has_gate if count(keyed_gates) > 0

run_gates contains {"path": ["jobs", job_id, "steps", i, "run"], "text": match[1], "value": value} if {
	some job_id, job in pipeline.jobs
	some i, step in pipeline.steps_of(job)
	is_string(step.run)
	some pattern in gate_patterns
	some match in regex.find_all_string_submatch_n(pattern, step.run, -1)
	value := to_number(match[2])
}

keyed_gates contains {"path": array.concat(scope.path, [key]), "key": key, "value": number} if {
	some scope in scopes
	is_object(scope.entries)
	some key, value in scope.entries
	regex.match(gate_key, key)
	number := numeric(value)
}

# `with:`/`env:` mappings and their paths
# (values are computed in rule bodies: regorus 0.13 fails on an undefined value in a head)
scopes contains {"path": ["env"], "entries": entries} if entries := input.env

scopes contains {"path": ["jobs", job_id, section], "entries": entries} if {
	some job_id, job in pipeline.jobs
	some section in ["env", "with"]
	entries := job[section]
}

scopes contains {"path": ["jobs", job_id, "steps", i, section], "entries": entries} if {
	some job_id, job in pipeline.jobs
	some i, step in pipeline.steps_of(job)
	some section in ["env", "with"]
	entries := step[section]
}

numeric(value) := value if is_number(value)

numeric(value) := to_number(trim_suffix(trim_space(value), "%")) if {
	is_string(value)
	regex.match(`^\s*[0-9]+(\.[0-9]+)?\s*%?\s*$`, value)
}

numeric(value) := value if {
	is_string(value)
	not regex.match(`^\s*[0-9]+(\.[0-9]+)?\s*%?\s*$`, value)
}
