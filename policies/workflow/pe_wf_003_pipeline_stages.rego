# METADATA
# title: Pipeline stages present; deploys wait for test and security
# description: >-
#   A pipeline (a workflow triggered by `push` or `pull_request` with a job that
#   tests, builds or deploys) has a lint, a test, a security-scan and a build
#   job, and every deploy job depends, through `needs` (directly or
#   transitively), on a test job and on a security job, so untested or unscanned
#   code never ships. Jobs are classified by whole words in their id, `name:`
#   or called workflow file (`lint`, `unit-tests`, `security-scan`, `build`,
#   `deploy-staging`, `release`, `publish` ...), by the tools their steps run
#   (`ruff check`, `pytest`, `trivy`, `docker build`, `helm upgrade`,
#   `twine upload`, `docker push` ...) and, for deploys, by an `environment:`.
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
#   severity: high
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
import data.pe.workflow.lib.pipeline.is_pipeline
import data.pe.workflow.lib.pipeline.stage_jobs
import rego.v1

# Evaluation cost (regorus, once per workflow) shapes this rule, see lib/pipeline.rego:
# the library's rules are imported by name (read through the package, `pipeline.jobs`,
# regorus evaluates every rule of the library first), jobs and steps are read from the
# input directly (a call per job costs more than the loop), and big regexes only run
# where a cheap test passes.

required_stages := ["lint", "test", "security", "build"]

stage_name := {"lint": "lint", "test": "test", "security": "security scan", "build": "build"}

stage_hint := {
	"lint": "runs the linters (e.g. `ruff check .`, `npm run lint`)",
	"test": "runs the test suite (e.g. `pytest`, `npm test`)",
	"security": "runs a security scanner (e.g. Trivy, pip-audit, npm audit)",
	"build": "builds the artifact (e.g. `docker build`, `python -m build`)",
}

deny contains {"msg": msg, "path": ["jobs"]} if {
	is_pipeline
	some stage in required_stages
	count(stage_jobs[stage]) == 0
	msg := sprintf(
		"pipeline has no %s job: add a job that %s; jobs are recognised by their id or name (e.g. `%s`) or by the tools their steps run",
		[stage_name[stage], stage_hint[stage], stage],
	)
}

deny contains {"msg": msg, "path": dependency_path(job_id)} if {
	is_pipeline
	some job_id in stage_jobs.deploy
	some gate in ["test", "security"]
	others := stage_jobs[gate] - {job_id}
	count(others) > 0
	count(others & ancestors[job_id]) == 0
	msg := dependency_message(job_id, stage_name[gate], others - descendants(job_id))
}

dependency_message(job_id, stage, before) := sprintf(
	"deploy job '%s' does not wait for the %s: add %s to its `needs` (directly or through a job it needs)",
	[job_id, stage, quoted(before)],
) if {
	count(before) > 0
} else := sprintf(
	"deploy job '%s' does not wait for a %s job: every %s job runs after it; add one that runs before it and list it in its `needs`",
	[job_id, stage, stage],
)

descendants(job_id) := {other | some other, _ in input.jobs; job_id in ancestors[other]}

quoted(ids) := concat(" or ", [sprintf("'%s'", [id]) | some id in sort(ids)])

dependency_path(job_id) := ["jobs", job_id, "needs"] if {
	input.jobs[job_id].needs
} else := ["jobs", job_id]
