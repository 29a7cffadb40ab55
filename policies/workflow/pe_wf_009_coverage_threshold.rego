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
import data.pe.workflow.lib.pipeline.is_pipeline
import data.pe.workflow.lib.pipeline.job_tools
import data.pe.workflow.lib.pipeline.stage_jobs
import rego.v1

# Evaluation cost (regorus, once per workflow) shapes this rule, see lib/pipeline.rego:
# the library's rules are imported by name (read through the package, `pipeline.jobs`,
# regorus evaluates every rule of the library first), jobs and steps are read from the
# input directly (a call per job costs more than the loop), and big regexes only run
# where a cheap test passes.

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

# a gate whatever its value (`--cov-fail-under=${{ env.MIN }}` included); lowercase, as
# it is matched against lowered text (without `(?i)` a match costs half on regorus)
any_gate := `(--cov-fail-under|--fail-under|fail_under|--coveragethreshold|check-coverage|--coverage\.thresholds?\.|--(min-coverage|coverage-min|minimum-coverage|coverage-threshold))`

# every any_gate form names one of these
gate_hint := `cov|fail`

gate_key := `(?i)^(.*cov.*(threshold|min|fail|under|target).*|.*(threshold|minimum|min)[-_]?cov.*|fail[-_]?under|threshold[-_]total)$`

# every gate_key names one of these
gate_key_word := `(?i)(cov|fail|total)`

# lowercase, as any_gate
runner := `(pytest|python3? -m (pytest|unittest)|coverage run|(^|[\s;&|(])(jest|vitest|mocha|nyc|c8)(\s|$)|go test|cargo (test|tarpaulin|llvm-cov)|dotnet test)`

installs := `(?i)(pip3?|uv pip|uv add|poetry add|pipx|npm|pnpm|yarn|go) (install|add|get)\b`

# ------------------------------------------------------------------ findings

deny contains {"msg": msg, "path": gate.path, "snippet": gate.text} if {
	is_pipeline
	some gate in run_gates
	gate.value < threshold
	msg := sprintf(
		"coverage gate `%s` allows %v%%, below the required %v%%: raise it to %v",
		[gate.text, gate.value, threshold, threshold],
	)
}

deny contains {"msg": msg, "path": gate.path} if {
	is_pipeline
	some gate in keyed_gates
	is_number(gate.value)
	gate.value < threshold
	msg := sprintf(
		"coverage threshold `%s: %v` is below the required %v%%: raise it to %v",
		[gate.key, gate.value, threshold, threshold],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", first[0], "run"], "snippet": first[1]} if {
	is_pipeline
	not has_gate
	some job_id in stage_jobs.test
	regex.match(runner, job_tools[job_id]) # see gated_steps
	runs := [[i, line] |
		some i, step in input.jobs[job_id].steps
		regex.match(runner, lower(pipeline.text(step.run)))
		some line in split(step.run, "\n")
		regex.match(runner, lower(line))
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

has_gate if count(gated_steps) > 0

has_gate if count(keyed_gates) > 0

# the steps whose script sets a gate, as [job id, step index]. Regex calls are the cost
# of this rule (on regorus), so scripts are only matched one by one in jobs where a
# match over the library's job text (every `uses:` and `run:`, lowered, a line each)
# finds something (any_gate and runner never match across a line break), and any_gate
# only where the much shorter gate_hint finds something.
gated_steps contains [job_id, i] if {
	some job_id, tools in job_tools
	regex.match(gate_hint, tools)
	regex.match(any_gate, tools)
	some i, step in input.jobs[job_id].steps
	is_string(step.run)
	regex.match(any_gate, lower(step.run))
}

run_gates contains {"path": ["jobs", job_id, "steps", i, "run"], "text": match[1], "value": value} if {
	some [job_id, i] in gated_steps # every gate pattern starts with one of any_gate's words
	step := input.jobs[job_id].steps[i]
	some pattern in gate_patterns
	some match in regex.find_all_string_submatch_n(pattern, step.run, -1)
	value := to_number(match[2])
}

keyed_gates contains gate if {
	some [path, entries] in gate_mappings
	some key, value in entries
	regex.match(gate_key_word, key)
	gate := keyed_gate(path, key, value)
}

# the `with:`/`env:` mappings, at every level, with their paths: only those with a key
# that may be a gate (their keys tested at once, as most mappings hold none)
gate_mappings contains [["env"], entries] if {
	entries := input.env
	may_hold_gate(entries)
}

gate_mappings contains [["jobs", job_id, section], entries] if {
	some job_id, job in input.jobs
	some section in ["env", "with"]
	entries := job[section]
	may_hold_gate(entries)
}

gate_mappings contains [["jobs", job_id, "steps", i, section], entries] if {
	some job_id, job in input.jobs
	is_array(job.steps)
	some i, step in job.steps
	some section in ["env", "with"]
	entries := step[section]
	may_hold_gate(entries)
}

may_hold_gate(entries) if {
	is_object(entries)
	regex.match(gate_key_word, concat("\n", object.keys(entries)))
}

# (computed in the body: regorus 0.13 fails on an undefined value in a head)
keyed_gate(path, key, value) := gate if {
	regex.match(gate_key, key)
	number := numeric(value)
	gate := {"path": array.concat(path, [key]), "key": key, "value": number}
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
