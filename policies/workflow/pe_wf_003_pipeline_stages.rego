# METADATA
# title: Pipeline stages present; deploys wait for test and security
# description: >-
#   A repository's pipeline (its workflows that run on pull requests and
#   pushes, with the reusable workflows of the repository they call, judged
#   together: `lint.yml`, `test.yml` and `codeql.yml` make one pipeline) has a
#   lint, a test, a security-scan and a build job somewhere, as soon as one of
#   them tests, builds or deploys; and every deploy job depends, through
#   `needs` (directly or transitively), on a test job and on a security job of
#   its workflow when that workflow has them, so untested or unscanned code
#   never ships. One finding per repository, on the workflow that deploys (or
#   the main CI file), listing what is missing. Jobs are classified by whole
#   words in their id, `name:` or called workflow file (`lint`, `unit-tests`,
#   `security-scan`, `build` ...) and by the tools their steps run
#   (`ruff check`, `pytest`, `trivy`, `docker build` ...); a job deploys when
#   it targets an `environment:` or runs a deploy tool (`kubectl apply`,
#   `helm upgrade`, `terraform apply`, cloud deploy actions such as
#   `aws-actions/amazon-ecs-deploy-task-definition`,
#   `google-github-actions/deploy-cloudrun`, `azure/webapps-deploy`, package
#   publishing), never because of its name.
#   Jobs named for docs, labels, triage, notifications or reports, and jobs
#   running docs-site or housekeeping tools (GitHub Pages actions, mkdocs,
#   sphinx-build, release-please, release-drafter, labeler, stale) belong to
#   no stage, and workflows without push/pull_request triggers (triage,
#   reporting, manual deploys, reusable workflows) are not pipelines. A job
#   may be in several stages, but a deploy job must wait for another job that
#   tests and another that scans: its own steps do not count.
# related_resources:
#   - ref: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idneeds
# custom:
#   id: PE-WF-003
#   severity: medium
#   kinds: [workflow]
#   source: "seed 002 (continuous integration: Lint → Test → Build → Security → Deploy), seed 003 (quality gates)"
#   remediation: >-
#     Add the missing job (e.g. `lint: ruff check`, `test: pytest`,
#     `security: trivy fs . / pip-audit`, `build: docker build`) and list the
#     test and security jobs in the deploy job's `needs:` (or in the `needs:`
#     of a job it needs), e.g. `build: {needs: [lint, test, security]}`,
#     `deploy: {needs: build}`.
package pe.workflow.pipeline_stages

import data.pe.workflow.lib.pipeline.ancestors
import data.pe.workflow.lib.pipeline.stage_jobs
import data.pe.workflow.lib.pipeline.workflow_facts
import data.pe.workflow.lib.repository
import rego.v1

# A repository-level rule (see lib/repository.rego): `document_facts` is what it needs of
# each workflow, `deny` judges the repository's workflows at once.

required_stages := ["lint", "test", "security", "build"]

stage_name := {"lint": "lint", "test": "test", "security": "security scan", "build": "build"}

stage_hint := {
	"lint": "runs the linters (e.g. `ruff check .`, `npm run lint`)",
	"test": "runs the test suite (e.g. `pytest`, `npm test`)",
	"security": "runs a security scanner (e.g. Trivy, pip-audit, npm audit, CodeQL)",
	"build": "builds the artifact (e.g. `docker build`, `python -m build`)",
}

# ------------------------------------------------------------------ one workflow

document_facts := object.union(workflow_facts, {"waits": waits})

# the deploy jobs that do not wait for a test or a security job of their workflow
waits := [wait |
	some job_id in sort(stage_jobs.deploy)
	some gate in ["test", "security"]
	others := stage_jobs[gate] - {job_id}
	count(others) > 0
	count(others & ancestors[job_id]) == 0
	wait := {"job": job_id, "gate": gate, "before": sort(others - descendants(job_id)), "path": dependency_path(job_id)}
]

descendants(job_id) := {other | some other, _ in input.jobs; job_id in ancestors[other]}

dependency_path(job_id) := ["jobs", job_id, "needs"] if {
	input.jobs[job_id].needs
} else := ["jobs", job_id]

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

deny contains {"msg": msg, "path": location, "file": anchor} if {
	in_pipeline := repository.members(workflows)
	facts_of := {path: facts | some [path, facts] in workflows; path in in_pipeline}
	present := {stage | some facts in facts_of; some stage in facts.stages}
	count(present & {"test", "build", "deploy"}) > 0
	missing := [stage | some stage in required_stages; not stage in present]
	late := [[path, wait] | some path in sort(in_pipeline); some wait in facts_of[path].waits]
	count(missing) + count(late) > 0
	anchor := reported_in(late, repository.anchor(workflows, in_pipeline))
	location := first_wait_in(anchor, late)
	names := sort([name | some path in in_pipeline; name := repository.file_name(path); name != ""])
	problems := array.concat(
		missing_message([stage_name[stage] | some stage in missing], [stage_hint[stage] | some stage in missing], names, missing),
		[wait_message(path, wait, anchor, gate_name[wait.gate]) | some [path, wait] in late],
	)
	msg := concat("; ", problems)
}

gate_name := {"test": "tests", "security": "security scan"}

missing_message(_, _, _, missing) := [] if count(missing) == 0

missing_message(stages, hints, names, missing) := [sprintf(
	"the pipeline%s has no %s job: %s; jobs are recognised by their id or name (e.g. `%s`) or by the tools their steps run",
	[across(names), either(stages), concat("; ", [sprintf("add a job that %s", [hint]) | some hint in hints]), missing[0]],
)] if {
	count(missing) > 0
}

# "lint", "lint or build", "lint, security scan or build"
either(stages) := stages[0] if {
	count(stages) == 1
} else := sprintf("%s or %s", [concat(", ", array.slice(stages, 0, count(stages) - 1)), stages[count(stages) - 1]])

# the pipeline's workflows by name, the first few of a big repository
across(names) := sprintf(" (%s)", [concat(", ", names)]) if {
	count(names) > 0
	count(names) <= 6
} else := sprintf(" (%s and %d more)", [concat(", ", array.slice(names, 0, 5)), count(names) - 5]) if {
	count(names) > 6
} else := ""

wait_message(path, wait, anchor, gate) := sprintf(
	"deploy job '%s'%s does not wait for the %s: add %s to its `needs` (directly or through a job it needs)",
	[wait.job, elsewhere(path, anchor), gate, quoted(wait.before)],
) if {
	count(wait.before) > 0
} else := sprintf(
	"deploy job '%s'%s does not wait for the %s: every such job runs after it; add one that runs before it and list it in its `needs`",
	[wait.job, elsewhere(path, anchor), gate],
)

elsewhere(path, anchor) := "" if {
	path == anchor
} else := sprintf(" (in %s)", [repository.file_name(path)])

quoted(ids) := concat(" or ", [sprintf("'%s'", [id]) | some id in ids])

# a deploy job that does not wait is the precise place; else the workflow that deploys or
# the main CI file
reported_in(late, fallback) := late[0][0] if {
	count(late) > 0
} else := fallback

# the finding sits on the anchor's first deploy job that does not wait, else on its jobs
first_wait_in(anchor, late) := waits_there[0] if {
	waits_there := [wait.path | some [path, wait] in late; path == anchor]
	count(waits_there) > 0
} else := ["jobs"]
