# Shared by the repository-level workflow rules (PE-WF-003, PE-WF-009): which workflows of a
# repository make up its pipeline, and which of them a finding about the whole pipeline is
# reported on. A library, not a rule: it reports nothing itself.
#
# A repository-level rule judges all the workflows of a repository at once. pe-policy gives
# it `input` = [{"path": ".github/workflows/ci.yml", "facts": ...}, ...], where `facts` is
# the value of the rule's own `document_facts` on that workflow (computed with the
# workflow's other rules, in one pass over each file); conftest's `--combine` gives
# [{"path": ..., "contents": ...}], and a single workflow is a repository of one (see
# `repository_input` in the rules). Functions here take the repository as a list of
# [path, facts] pairs, facts including lib/pipeline.rego's `workflow_facts`.
package pe.workflow.lib.repository

import rego.v1

# The pipeline: every workflow that runs on pull requests or pushes, and every reusable
# workflow of the repository one of them calls (`uses: ./.github/workflows/tests.yml`).
members(workflows) := {path | some [path, facts] in workflows; member(path, facts, called)} if {
	called := {name | some [_, facts] in workflows; facts.changes; some name in facts.calls}
}

member(_, facts, _) if facts.changes

member(path, facts, called) if {
	facts.reusable
	file_name(path) in called
}

file_name(path) := lower(parts[count(parts) - 1]) if parts := split(path, "/")

# Where a finding about the whole pipeline goes: the workflow that deploys, else the main CI
# file (`ci.yml`, `main.yml`, `build.yml`, `test.yml` ...), else the first member by path.
anchor(workflows, in_pipeline) := ordered[0][1] if {
	ordered := sort([[rank(path, facts), path] | some [path, facts] in workflows; path in in_pipeline])
	count(ordered) > 0
}

# the usual names of the main CI file, the likeliest first
main_names := ["ci", "main", "pipeline", "ci-cd", "cicd", "build", "test", "tests", "checks", "integration"]

rank(path, facts) := 0 if {
	count(facts.deploys) > 0
} else := 1 + index if {
	some index, name in main_names
	trim_suffix(trim_suffix(file_name(path), ".yml"), ".yaml") == name
} else := 1 + count(main_names)
