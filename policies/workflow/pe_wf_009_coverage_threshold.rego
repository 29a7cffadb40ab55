# METADATA
# title: The test stage enforces the coverage threshold
# description: >-
#   A repository's pipeline (its workflows that run on pull requests and
#   pushes, with the reusable workflows they call, judged together, see
#   PE-WF-003) enforces test coverage at or above the `coverage_threshold`
#   parameter (80 by default). Recognised gates: pytest-cov
#   `--cov-fail-under=N`, coverage.py `coverage report --fail-under=N` and
#   `fail_under`, diff-cover `--fail-under`, jest `--coverageThreshold`,
#   vitest `--coverage.thresholds.*`, nyc/c8 `check-coverage --lines N`,
#   cargo tarpaulin `--fail-under N`, cargo llvm-cov `--fail-under-lines N`,
#   dotnet coverlet `/p:Threshold=N`, JaCoCo's check (`jacoco:check`,
#   `jacocoTestCoverageVerification`), `go test -coverprofile` checked by
#   `go tool cover -func` and a comparison or by vladopajic/go-test-coverage,
#   and `with:`/`env:` entries such as `coverage-threshold: 80`,
#   `fail_under`, `minimum_coverage`. A gate set from a variable
#   (`--cov-fail-under=$MIN`) or kept in a build file (JaCoCo) counts but is
#   not compared. A number below the threshold is reported where it is
#   written. When no workflow of the pipeline has a gate, one finding per
#   repository is reported at a test job's runner command (in the workflow
#   that deploys, or the main CI file), naming the gate for that runner
#   (pytest, coverage.py, jest, vitest, nyc/c8, go test, cargo, dotnet,
#   Maven, Gradle). Jobs that run no tests are not asked for a gate; test runs
#   delegated to make/tox/nox/npm scripts or to other repositories' reusable
#   workflows are not visible here and are not reported. A gate kept only in
#   pyproject.toml or .coveragerc is not visible either: state it on the
#   command line so the CI gate is explicit.
# custom:
#   id: PE-WF-009
#   severity: medium
#   kinds: [workflow]
#   source: "seed 002 (quality gates: minimum 80% coverage enforced via CI), seed 003 (coverage ≥80%)"
#   remediation: >-
#     Fail the test job below the threshold with the gate of its runner:
#     `pytest --cov=src --cov-fail-under=80`, `coverage report --fail-under=80`,
#     jest `--coverageThreshold='{"global":{"lines":80}}'`, vitest
#     `--coverage.thresholds.lines=80`, `cargo llvm-cov --fail-under-lines 80`,
#     `cargo tarpaulin --fail-under 80`, `dotnet test /p:CollectCoverage=true
#     /p:Threshold=80`, JaCoCo's `check` goal, or go-test-coverage's
#     `threshold-total: 80`.
package pe.workflow.coverage_threshold

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.pipeline.job_tools
import data.pe.workflow.lib.pipeline.stage_jobs
import data.pe.workflow.lib.pipeline.workflow_facts
import data.pe.workflow.lib.repository
import rego.v1

# A repository-level rule (see lib/repository.rego): `document_facts` is what it needs of
# each workflow, `deny` judges the repository's workflows at once.
#
# Evaluation cost (regorus, once per workflow) shapes the facts, see lib/pipeline.rego: the
# library's rules are imported by name, jobs and steps are read from the input directly, and
# big regexes only run where a cheap test passes.

threshold := data.pe.params.coverage_threshold

number := `['"]?([0-9]+(?:\.[0-9]+)?)`

# each captures (the gate as written, its number)
gate_patterns := [
	concat("", [`(?i)(--cov-fail-under[= ]+`, number, `)`]),
	concat("", [`(?i)(--fail-under(?:-(?:lines|regions|functions))?[= ]+`, number, `)`]),
	concat("", [`(?i)(fail_under\s*[=:]\s*`, number, `)`]),
	concat("", [`(?i)(--coverage\.thresholds?\.(?:lines|statements|branches|functions)[= ]+`, number, `)`]),
	concat("", [`(?i)(check-coverage[^\n]*?--(?:lines|statements|branches|functions)[= ]+`, number, `)`]),
	concat("", [`(?i)(--coverageThreshold[= ]+['"]?\{[^\n]*?"?(?:lines|statements|branches|functions)"?\s*:\s*`, number, `)`]),
	concat("", [`(?i)(--(?:min-coverage|coverage-min|minimum-coverage|coverage-threshold)[= ]+`, number, `)`]),
	concat("", [`(?i)([/-]p:Threshold=`, number, `)`]),
]

# A gate whatever its value (`--cov-fail-under=${{ env.MIN }}` included, and gates whose
# number lives in a build or config file: JaCoCo's check, go-test-coverage), in lowered
# text. One pattern would be `(--cov-fail-under|...|go tool cover -func[^\n]*(-lt|...|>))`
# (~8 us a match on regorus, and it ran on most test jobs: `codecov` and `pipefail` name
# gate_hint's words); short lists of plain words cost a fraction of that, and the one form
# with `[^\n]*` is matched only where its command appears. The same matches.
names_gate(lowered) if {
	regex.match(`--cov-fail-under|--fail-under|fail_under|--coveragethreshold|check-coverage|--coverage\.thresholds?\.`, lowered)
} else if {
	regex.match(`--(?:min-coverage|coverage-min|minimum-coverage|coverage-threshold)|(?:/|-)p:threshold=|jacoco:check|jacocotestcoverageverification|go-test-coverage`, lowered)
} else if {
	contains(lowered, "go tool cover -func")
	regex.match(`go tool cover -func[^\n]*(?:-lt|-le|-gt|-ge|<|>)`, lowered)
}

# every names_gate form names one of these
gate_hint := `cov|fail|threshold|jacoco`

gate_key := `(?i)^(.*cov.*(threshold|min|fail|under|target).*|.*(threshold|minimum|min)[-_]?cov.*|fail[-_]?under|threshold[-_]total)$`

# every gate_key names one of these
gate_key_word := `(?i)(cov|fail|total)`

# A test runner's command, in lowered text (as names_gate). One pattern would be
# `(pytest|...|(^|[\s;&|(])(jest|vitest|mocha|nyc|c8)(\s|$)|...)`; on regorus a match costs
# with the pattern's size (~23 us for that one, matched on every test job, step and line),
# far less for a few plain words, so the literal runners are tried first and the patterns
# with word edges only where their tool is named: the same matches, at ~1.5 us a call.
runs_tests(lowered) if {
	regex.match(`pytest|python3? -m (?:pytest|unittest)|coverage run|go test`, lowered)
} else if {
	regex.match(`cargo (?:test|nextest|tarpaulin|llvm-cov)|dotnet test`, lowered)
} else if {
	regex.match(`jest|vitest|mocha|nyc|c8`, lowered)
	regex.match(`(?:^|[\s;&|(])(?:jest|vitest|mocha|nyc|c8)(?:\s|$)`, lowered)
} else if {
	regex.match(`mvn|gradle`, lowered)
	regex.match(`(?:^|[\s;&|(/])(?:mvnw? (?:[^\n]* )?(?:test|verify)|gradlew? (?:[^\n]* )?(?:test|check))(?:\s|$)`, lowered)
}

installs := `(?i)(pip3?|uv pip|uv add|poetry add|pipx|npm|pnpm|yarn|go) (install|add|get)\b`

# The runners a job may use, first match wins, with the gate that fits each ({min}: the
# threshold). Matched in a lowered command line.
runner_gates := [
	["pytest", `pytest`, "add `--cov=<package> --cov-fail-under={min}` to the pytest command (pytest-cov)"],
	["coverage.py", `coverage run|unittest`, "run `coverage report --fail-under={min}` after the tests"],
	["vitest", `vitest`, "add `--coverage --coverage.thresholds.lines={min}` to the vitest command"],
	["jest", `jest`, "add `--coverage --coverageThreshold='{\"global\":{\"lines\":{min}}}'` to the jest command"],
	["mocha", `mocha|nyc|c8`, "run it under nyc or c8 and add `check-coverage --lines {min}` (e.g. `npx c8 --check-coverage --lines {min} mocha`)"],
	["cargo tarpaulin", `tarpaulin`, "add `--fail-under {min}` to the tarpaulin command"],
	["cargo llvm-cov", `llvm-cov`, "add `--fail-under-lines {min}` to the llvm-cov command"],
	["cargo test", `cargo`, "run the tests with `cargo llvm-cov --fail-under-lines {min}` (or `cargo tarpaulin --fail-under {min}`)"],
	["go test", `(^|[^a-z])go test`, "run it with `-coverprofile=cover.out` and fail below {min}% (vladopajic/go-test-coverage with `threshold-total: {min}`, or `go tool cover -func=cover.out` and a comparison)"],
	["dotnet test", `dotnet`, "collect coverage with coverlet and fail below it: `dotnet test /p:CollectCoverage=true /p:Threshold={min}`"],
	["Maven", `mvn`, "run JaCoCo's check with a minimum covered ratio of {ratio} (`mvn verify jacoco:check`, the rule in pom.xml)"],
	["Gradle", `gradle`, "run `jacocoTestCoverageVerification` (a `minimum = {ratio}` rule) with the tests"],
]

# ------------------------------------------------------------------ one workflow

# (an else chain, cheapest first: a workflow that is not part of the pipeline needs no gate
# and a gated one no list of ungated runs; regorus pays for every body it evaluates)
document_facts := object.union(workflow_facts, {"gated": false, "low": [], "runs": []}) if {
	not workflow_facts.changes
	not workflow_facts.reusable
} else := object.union(workflow_facts, {"gated": true, "low": low_gates, "runs": []}) if {
	has_gate
} else := object.union(workflow_facts, {"gated": false, "low": [], "runs": ungated_runs})

# the gates below the threshold, each with the finding it makes
low_gates := array.concat(
	[{"path": gate.path, "snippet": gate.text, "msg": msg} |
		some gate in run_gates
		gate.value < threshold
		msg := sprintf(
			"coverage gate `%s` allows %v%%, below the required %v%%: raise it to %v",
			[gate.text, gate.value, threshold, threshold],
		)
	],
	[{"path": gate.path, "msg": msg} |
		some gate in keyed_gates
		is_number(gate.value)
		gate.value < threshold
		msg := sprintf(
			"coverage threshold `%s: %v` is below the required %v%%: raise it to %v",
			[gate.key, gate.value, threshold, threshold],
		)
	],
)

# each test job's first test-runner command, with the runner's name and gate
ungated_runs := [run |
	some job_id in sort(stage_jobs.test)
	runs_tests(job_tools[job_id]) # see gated_steps
	runs := [[i, line] |
		some i, step in input.jobs[job_id].steps
		is_string(step.run)
		runs_tests(lower(step.run))
		some line in split(step.run, "\n")
		runs_tests(lower(line))
		not regex.match(installs, line)
	]
	count(runs) > 0
	command := trim_space(runs[0][1])
	gate := runner_gate(lower(command))
	run := {
		"job": job_id, "path": ["jobs", job_id, "steps", runs[0][0], "run"], "snippet": command,
		"runner": gate[0], "gate": gate[1],
	}
]

runner_gate(command) := [name, fitted(hint)] if {
	matching := [[name, hint] | some [name, pattern, hint] in runner_gates; regex.match(pattern, command)]
	[name, hint] := matching[0]
} else := ["the test runner", "fail the job below the threshold with the runner's coverage gate"]

fitted(hint) := replace(replace(hint, "{min}", sprintf("%v", [threshold])), "{ratio}", sprintf("%.2f", [threshold / 100]))

# ------------------------------------------------------------------ the repository

# [path, facts] of every workflow: from pe-policy's input, conftest --combine's, or one workflow
workflows := [[item.path, item_facts(item)] | some item in input] if {
	is_array(input)
} else := [["", document_facts]]

item_facts(item) := item.facts if {
	is_object(item.facts)
} else := facts if {
	# conftest --combine: the facts of each workflow, computed here
	# regal ignore:with-outside-test-context
	facts := document_facts with input as item.contents
}

in_pipeline := repository.members(workflows)

deny contains object.union(low, {"file": path}) if {
	some [path, facts] in workflows
	path in in_pipeline
	some low in facts.low
}

deny contains {"msg": msg, "path": run.path, "snippet": run.snippet, "file": anchor} if {
	count({path | some [path, facts] in workflows; gated_member(path, facts)}) == 0
	testing := {path | some [path, facts] in workflows; path in in_pipeline; count(facts.runs) > 0}
	anchor := repository.anchor(workflows, testing)
	some [path, facts] in workflows
	path == anchor
	run := facts.runs[0]
	msg := sprintf(
		"test job '%s' runs %s without enforcing coverage >= %v%%, and no workflow of the pipeline does: %s",
		[run.job, run.runner, threshold, run.gate],
	)
}

gated_member(path, facts) if {
	path in in_pipeline
	facts.gated
}

# ------------------------------------------------------------------- gates

default has_gate := false

has_gate if count(gated_steps) > 0

has_gate if count(keyed_gates) > 0

# the steps whose script sets a gate, as [job id, step index]. Regex calls are the cost
# of this rule (on regorus), so scripts are only matched one by one in jobs where a
# match over the library's job text (every `uses:` and `run:`, lowered, a line each)
# finds something (names_gate and runs_tests never match across a line break), and
# names_gate only where the much shorter gate_hint finds something.
gated_steps contains [job_id, i] if {
	some job_id, tools in job_tools
	regex.match(gate_hint, tools)
	names_gate(tools)
	some i, step in input.jobs[job_id].steps
	names_gate(lower(pipeline.step_tools(step)))
}

run_gates contains {"path": ["jobs", job_id, "steps", i, "run"], "text": match[1], "value": value} if {
	some [job_id, i] in gated_steps # every gate pattern starts with one of names_gate's words
	step := input.jobs[job_id].steps[i]
	is_string(step.run)
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

# (its keys lowered and matched without `(?i)`, at a quarter of the cost on regorus: the
# letters of gate_key_word have no other case forms, so this finds all it finds)
may_hold_gate(entries) if {
	is_object(entries)
	regex.match(`cov|fail|total`, lower(concat("\n", object.keys(entries))))
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
