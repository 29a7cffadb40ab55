# Shared by the workflow stage rules (PE-WF-003, 004, 005, 009): which workflows
# are pipelines and which stages (lint, test, security, build, deploy) each job
# belongs to. A library, not a rule: it reports nothing itself.
#
# How jobs are classified (the rules' descriptions repeat this for users):
#   * the job's label: its id, its `name:` and, for a reusable-workflow call,
#     the called file's name (`.../python-tests.yml`), matched against stage
#     keywords as whole words (`unit-tests`, `security_scan`, `Build image`);
#   * the tools its steps run (`uses:` and `run:`, never step names): `pytest`,
#     `ruff check`, `trivy`, `docker build`, `helm upgrade`, ...;
#   * a job with an `environment:` deploys (except `github-pages`);
#   * a job whose label says it is auxiliary (docs, labels, triage, stale,
#     notify, report, release notes/drafts, ...), or that runs a docs-site or
#     housekeeping tool (Pages actions, mkdocs, sphinx-build, release-please,
#     release-drafter, labeler, stale), belongs to no stage.
# A job may belong to several stages (a `checks` job running ruff and pytest is
# both lint and test).
#
# A pipeline is a workflow triggered by `push` or `pull_request` with a job in
# the test, build or deploy stage; triage, labelling and reporting workflows,
# reusable workflows (`workflow_call`) and manual deploys are not pipelines.
package pe.workflow.lib.pipeline

import rego.v1

# ------------------------------------------------------------------ triggers

# `on:` as pe-policy reads it (YAML 1.2); YAML 1.1 parsers such as conftest's
# turn the key into `true`, so fall back to that.
on_value := input.on

on_value := input["true"] if not has_on

has_on if {
	_ = input.on
}

triggers contains on_value if is_string(on_value)

triggers contains name if {
	is_array(on_value)
	some name in on_value
}

triggers contains name if {
	is_object(on_value)
	some name, _ in on_value
}

# the filters of one trigger (`branches`, `tags`, ...); {} when it has none
trigger_config(name) := cfg if {
	is_object(on_value)
	cfg := on_value[name]
	is_object(cfg)
}

trigger_config(name) := {} if {
	name in triggers
	not is_object(object.get(object_or_empty(on_value), name, null))
}

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)

pipeline_triggers := {"push", "pull_request"}

is_pipeline if {
	some trigger in triggers
	trigger in pipeline_triggers
	some job_id, _ in input.jobs
	some stage in job_stages[job_id]
	stage in {"test", "build", "deploy"}
}

# --------------------------------------------------------------------- jobs

jobs := object.get(input, "jobs", {})

needs_of(job) := [job.needs] if is_string(job.needs)

needs_of(job) := job.needs if is_array(job.needs)

needs_of(job) := [] if not job.needs

needs_graph[job_id] := needs_of(job) if {
	some job_id, job in jobs
}

# every job `job_id` waits for, directly or through other jobs (not itself)
ancestors(job_id) := graph.reachable(needs_graph, needs_of(jobs[job_id]))

text(x) := x if is_string(x)

text(x) := "" if not is_string(x)

called_file(job) := lower(parts[count(parts) - 1]) if {
	is_string(job.uses)
	parts := split(split(job.uses, "@")[0], "/")
}

called_file(job) := "" if not is_string(job.uses)

is_call(job) if is_string(job.uses)

label(job_id, job) := lower(concat(" ", [job_id, text(object.get(job, "name", "")), called_file(job)]))

steps_of(job) := job.steps if is_array(job.steps)

steps_of(job) := [] if not is_array(job.steps)

# what a step runs, for tool matching: its action and its script (not its name)
step_tools(step) := concat("\n", [text(object.get(step, "uses", "")), text(object.get(step, "run", ""))])

# how messages name a step: its name, else its position (1-based) and action
step_label(step, _) := sprintf("'%s'", [step.name]) if is_string(step.name)

step_label(step, i) := sprintf("#%d (%s)", [i + 1, step.uses]) if {
	not is_string(step.name)
	is_string(step.uses)
}

step_label(step, i) := sprintf("#%d", [i + 1]) if {
	not is_string(step.name)
	not is_string(step.uses)
}

# whole words: a keyword between non-letters (or the ends)
word_pattern(words) := sprintf(`(?i)(^|[^a-z])(%s)([^a-z]|$)`, [concat("|", words)])

label_words := {
	"lint": [
		"lint", "linters?", "linting", "format", "formatting", "style", "typecheck",
		"type-?check(ing)?", "types", "mypy", "static-analysis", "pre-?commit",
	],
	"test": [
		"tests?", "testing", "unittests?", "pytest", "jest", "vitest", "e2e",
		"integration", "coverage", "specs?",
	],
	"security": [
		"security", "sec-?scan", "scans?", "scanning", "sast", "dast", "codeql", "trivy",
		"audit", "vuln(s|erability|erabilities)?", "snyk", "grype", "semgrep", "gitleaks",
		"trufflehog", "bandit", "dependency-review", "osv", "sca",
	],
	"build": [
		"build", "builds", "building", "package", "packages", "packaging", "compile",
		"compiling", "bundle", "wheels?", "sdist", "dist", "containeri[sz]e",
	],
	"deploy": [
		"deploy", "deploys", "deploying", "deployments?", "release", "releases", "releasing",
		"rollout", "roll-out", "promote", "promotion", "ship", "publish", "publishing",
	],
}

auxiliary_words := [
	"docs?", "documentation", "pages", "changelog", "notes", "drafts?", "drafter", "labels?",
	"labeler", "label(l)?ing", "triage", "stale", "greetings?", "welcome", "notify",
	"notifications?", "slack", "reports?", "reporting", "comments?", "dependabot",
	"auto-?merge", "cleanup", "backport", "lock", "assign",
]

# tools a step runs, per stage (`uses:` and `run:` text, case-insensitive)
tool_patterns := {
	"lint": `(?i)(ruff (check|format --check)|ruff-action|flake8|pylint|black (--check|--diff)|isort (--check|-c)|mypy|pyright|eslint|prettier (--check|-c)|(npm|pnpm|yarn)( run)? lint|golangci-lint|hadolint|shellcheck|actionlint|pre-commit run|pre-commit/action|tflint|terraform fmt -check|markdownlint|yamllint|super-linter|stylelint|rubocop|make lint)`,
	"test": `(?i)(pytest|python3? -m unittest|(^|[\s;&|(])(tox|nox)(\s|$)|(npm|pnpm|yarn|bun)( run)? test|(^|[\s;&|(])(jest|vitest|mocha)(\s|$)|go test|cargo (test|nextest|tarpaulin)|mvnw? (.* )?(test|verify)|gradlew? (.* )?test|dotnet test|rspec|phpunit|make (test|check)|deno test|ctest)`,
	"security": scanner_pattern,
	"build": `(?i)(docker (buildx )?build|docker/build-push-action|docker/bake-action|docker compose build|buildah|kaniko|python3? -m build|pyproject-build|(poetry|uv|hatch|pdm|flit) build|pip wheel|setup\.py (sdist|bdist)|pypa/build|cibuildwheel|maturin build|(npm|pnpm|yarn|bun)( run)? build|go build|cargo build|mvnw? (.* )?(package|install)|gradlew? (.* )?(build|assemble)|dotnet (build|publish)|make build|ko build|goreleaser|pack build)`,
	"deploy": `(?i)(kubectl (apply|set image|rollout|create|replace)|helm (upgrade|install)|helmfile (apply|sync)|(terraform|tofu) apply|pulumi up|aws ecs (update-service|deploy)|aws deploy create-deployment|aws lambda update-function-code|aws cloudformation deploy|sam deploy|cdk deploy|(serverless|sls) deploy|gcloud (run|app|functions) deploy|gcloud deploy|fly(ctl)? deploy|az webapp deploy|az containerapp update|vercel (deploy|.*--prod)|netlify deploy|argocd app sync|skaffold (run|deploy)|azure/webapps-deploy|azure/k8s-deploy|aws-actions/amazon-ecs-deploy-task-definition|google-github-actions/deploy-(cloudrun|appengine)|superfly/flyctl-actions|pypa/gh-action-pypi-publish|twine upload|npm publish|docker push|cargo publish|gh release create|softprops/action-gh-release|ncipollo/release-action|ansible-playbook)`,
}

# the security scanners PE-WF-004 accepts (also what makes a job a security stage)
scanner_pattern := concat("", ["(?i)", scanner_words])

scanner_words := `(trivy|pip-audit|pip_audit|(npm|pnpm|yarn)( npm)? audit|audit-ci|bandit|codeql-action/(init|analyze)|codeql (database|analyze)|snyk|grype|anchore/scan-action|semgrep|gitleaks|trufflehog|safety (check|scan)|osv-scanner|checkov|tfsec|terrascan|kics|dependency-review-action|zizmor|govulncheck|cargo (audit|deny)|docker scout|zaproxy|zap-(baseline|full-scan)|dependency-check|brakeman|gosec)`

auxiliary(job_id, job) if regex.match(word_pattern(auxiliary_words), label(job_id, job))

auxiliary(_, job) if lower(environment_name(job)) == "github-pages"

auxiliary(_, job) if {
	some step in steps_of(job)
	regex.match(auxiliary_tools, step_tools(step))
}

# docs sites, release notes and repository housekeeping: not the service's pipeline
auxiliary_tools := `(?i)(actions/(configure|deploy|upload)-pages|upload-pages-artifact|peaceiris/actions-gh-pages|mkdocs (build|gh-deploy)|sphinx-build|googleapis/release-please-action|release-drafter/release-drafter|actions/labeler|actions/stale|actions/first-interaction)`

environment_name(job) := job.environment if is_string(job.environment)

environment_name(job) := text(job.environment.name) if is_object(job.environment)

# the stages of every job: job id -> set of stage names
job_stages[job_id] := stages if {
	some job_id, job in jobs
	stages := {stage | some stage, _ in label_words; in_stage(job_id, job, stage)}
}

# computed once per job (rule values are cached within an evaluation, function calls are not)
auxiliary_jobs contains job_id if {
	some job_id, job in jobs
	auxiliary(job_id, job)
}

job_labels[job_id] := label(job_id, job) if some job_id, job in jobs

job_tools[job_id] := concat("\n", [step_tools(step) | some step in steps_of(job)]) if some job_id, job in jobs

stage_patterns[stage] := word_pattern(words) if some stage, words in label_words

in_stage(job_id, job, stage) if {
	not job_id in auxiliary_jobs
	regex.match(stage_patterns[stage], job_labels[job_id])
}

in_stage(job_id, job, stage) if {
	not job_id in auxiliary_jobs
	regex.match(tool_patterns[stage], job_tools[job_id])
}

in_stage(job_id, job, "deploy") if {
	not job_id in auxiliary_jobs
	environment_name(job) != ""
}

jobs_in(stage) := {job_id | some job_id, stages in job_stages; stage in stages}

labelled(job_id, stage) if regex.match(word_pattern(label_words[stage]), label(job_id, jobs[job_id]))
