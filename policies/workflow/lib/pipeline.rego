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
#   * a job deploys when it targets an `environment:` (except `github-pages`) or runs a
#     deploy tool (`kubectl apply`, `helm upgrade`, `terraform apply`, cloud deploy actions,
#     package publishing), never because of its name;
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

# Evaluation costs (regorus, once per workflow) shape what follows: a regex match costs
# with the length of the text times the size of the pattern (twice that with `(?i)`),
# and every function call, rule and statement costs too. So labels are matched by word
# lookup, tools once per job in lowered text without `(?i)` (and only where a hint word
# appears), per-job facts are rules (computed once; function results are not cached),
# and helpers with exclusive cases are `else` chains (regorus evaluates every body of a
# function on each call). The rules read these facts as imported rules.

# ------------------------------------------------------------------ triggers

# `on:` as pe-policy reads it (YAML 1.2); YAML 1.1 parsers such as conftest's
# turn the key into `true`, so fall back to that (null: neither). These rules read a
# workflow: a repository-level rule's input (a list of workflows) has neither `on:` nor
# jobs. (No rule for "the workflow": on regorus every rule a file evaluates costs.)
default on_value := null

on_value := object.get(input, "on", object.get(input, "true", null)) if is_object(input)

# the names of its triggers: `on: push`, `on: [push, pull_request]` or `on: {push: ...}`
default triggers := set()

triggers := object.keys(on_value) if {
	is_object(on_value)
} else := {name | some name in on_value} if {
	is_array(on_value)
} else := {on_value} if {
	is_string(on_value)
}

# the filters of one trigger (`branches`, `tags`, ...); {} when it has none
trigger_config(name) := cfg if {
	cfg := on_value[name] # undefined unless `on:` is an object
	is_object(cfg)
} else := {} if {
	name in triggers
}

is_pipeline if {
	count(triggers & {"push", "pull_request"}) > 0
	some stages in job_stages
	count(stages & {"test", "build", "deploy"}) > 0
}

# --------------------------------------------------------------------- jobs

default jobs := {}

jobs := object.get(input, "jobs", {}) if is_object(input)

needs_of(job) := [job.needs] if {
	is_string(job.needs)
} else := job.needs if {
	is_array(job.needs)
} # none, `needs: null`, or an expression

else := []

needs_graph[job_id] := needs_of(job) if {
	some job_id, job in jobs
}

# job id -> every job it waits for, directly or through other jobs (not itself)
ancestors[job_id] := graph.reachable(needs_graph, needs) if some job_id, needs in needs_graph

text(x) := x if {
	is_string(x)
} else := ""

# The job calls a reusable workflow (`uses:` instead of steps). Rules ask
# `not pipeline.calls_workflow(job)`, never `not is_string(job.uses)`: OPA fails a
# negated call whose argument is undefined (a job without `uses:`), regorus does not.
calls_workflow(job) if is_string(job.uses)

called_file(job) := lower(parts[count(parts) - 1]) if {
	is_string(job.uses)
	path := split(job.uses, "@")
	parts := split(path[0], "/")
} else := ""

label(job_id, job) := lower(concat(" ", [job_id, text(object.get(job, "name", "")), called_file(job)]))

steps_of(job) := job.steps if {
	is_array(job.steps)
} else := []

# what a step runs, for tool matching: its action and its script (not its name)
step_tools(step) := concat("\n", [text(object.get(step, "uses", "")), text(object.get(step, "run", ""))])

# how messages name a step: its name, else its position (1-based) and action
step_label(step, i) := sprintf("'%s'", [step.name]) if {
	is_string(step.name)
} else := sprintf("#%d (%s)", [i + 1, step.uses]) if {
	is_string(step.uses)
} else := sprintf("#%d", [i + 1])

# The whole words of a lowered label: each run of letters, and each two adjacent
# runs with what separates them (`type-check`, `e2e`). A keyword standing between
# non-letters (or the ends) is one of these: keywords are letters with at most one
# non-letter gap.
words(lowered) := runs | joined if {
	parts := regex.find_all_string_submatch_n(`([^a-z]*)([a-z]+)`, lowered, -1)
	runs := {part[2] | some part in parts}
	joined := {concat("", [before[2], part[1], part[2]]) | some i, part in parts; i > 0; before := parts[i - 1]}
}

# stage keywords, matched as whole words of a job's label
label_words := {
	"lint": {
		"lint", "linter", "linters", "linting", "format", "formatting", "style", "typecheck", "type-check",
		"typechecking", "type-checking", "types", "mypy", "static-analysis", "precommit", "pre-commit",
	},
	"test": {
		"test", "tests", "testing", "unittest", "unittests", "pytest", "jest", "vitest", "e2e",
		"integration", "coverage", "spec", "specs",
	},
	"security": {
		"security", "secscan", "sec-scan", "scan", "scans", "scanning", "sast", "dast", "codeql", "trivy",
		"audit", "vuln", "vulns", "vulnerability", "vulnerabilities", "snyk", "grype", "semgrep", "gitleaks",
		"trufflehog", "bandit", "dependency-review", "osv", "sca",
	},
	"build": {
		"build", "builds", "building", "package", "packages", "packaging", "compile", "compiling", "bundle",
		"wheel", "wheels", "sdist", "dist", "containerise", "containerize",
	},
}

# every stage; a job's label never makes it a deploy (a job named `deploy` may run anything):
# only an `environment:` or a deploy tool does
stage_names := {"lint", "test", "security", "build", "deploy"}

auxiliary_words := {
	"doc", "docs", "documentation", "pages", "changelog", "notes", "draft", "drafts", "drafter", "label",
	"labels", "labeler", "labeling", "labelling", "triage", "stale", "greeting", "greetings", "welcome",
	"notify", "notification", "notifications", "slack", "report", "reports", "reporting", "comment",
	"comments", "dependabot", "automerge", "auto-merge", "cleanup", "backport", "lock", "assign",
}

# tools a step runs, per stage, matched in a job's lowered `uses:` and `run:` text
tool_patterns := {
	"lint": `(ruff (check|format --check)|ruff-action|flake8|pylint|black (--check|--diff)|isort (--check|-c)|mypy|pyright|eslint|prettier (--check|-c)|(npm|pnpm|yarn)( run)? lint|golangci-lint|hadolint|shellcheck|actionlint|pre-commit run|pre-commit/action|tflint|terraform fmt -check|markdownlint|yamllint|super-linter|stylelint|rubocop|make lint)`,
	"test": `(pytest|python3? -m unittest|(^|[\s;&|(])(tox|nox)(\s|$)|(npm|pnpm|yarn|bun)( run)? test|(^|[\s;&|(])(jest|vitest|mocha)(\s|$)|go test|cargo (test|nextest|tarpaulin)|mvnw? (.* )?(test|verify)|gradlew? (.* )?test|dotnet test|rspec|phpunit|make (test|check)|deno test|ctest)`,
	"security": scanner_words,
	"build": `(docker (buildx )?build|docker/build-push-action|docker/bake-action|docker compose build|buildah|kaniko|python3? -m build|pyproject-build|(poetry|uv|hatch|pdm|flit) build|pip wheel|setup\.py (sdist|bdist)|pypa/build|cibuildwheel|maturin build|(npm|pnpm|yarn|bun)( run)? build|go build|cargo build|mvnw? (.* )?(package|install)|gradlew? (.* )?(build|assemble)|dotnet (build|publish)|make build|ko build|goreleaser|pack build)`,
	"deploy": `(kubectl (apply|set image|rollout|create|replace)|helm (upgrade|install)|helmfile (apply|sync)|(terraform|tofu) apply|pulumi up|aws ecs (update-service|deploy)|aws deploy create-deployment|aws lambda update-function-code|aws cloudformation deploy|sam deploy|cdk deploy|(serverless|sls) deploy|gcloud (run|app|functions) deploy|gcloud deploy|fly(ctl)? deploy|az webapp deploy|az containerapp update|vercel (deploy|.*--prod)|netlify deploy|argocd app sync|skaffold (run|deploy)|azure/(webapps-deploy|k8s-deploy|functions-action|arm-deploy|static-web-apps-deploy|container-apps-deploy-action)|aws-actions/(amazon-ecs-deploy-task-definition|aws-cloudformation-github-deploy)|google-github-actions/deploy-|cloudflare/wrangler-action|wrangler (deploy|publish)|superfly/flyctl-actions|pypa/gh-action-pypi-publish|twine upload|npm publish|docker push|cargo publish|gh release create|softprops/action-gh-release|ncipollo/release-action|ansible-playbook)`,
}

# Words that every tool of a stage names: its pattern is only matched where one appears.
# On regorus a match costs with the size of the pattern, and these short ones fail for
# most jobs (the build pattern, ~15 us a call, was matched on every job its label does not
# name a build; security has none: a hint naming every scanner costs about as much as
# the pattern). Keep them in step with the patterns (pipeline_test checks every tool).
tool_hints := {
	"lint": `ruff|flake8|lint|black|isort|mypy|pyright|prettier|shellcheck|pre-commit|fmt|rubocop`,
	"test": `test|tox|nox|jest|mocha|tarpaulin|verify|rspec|phpunit|make check`,
	"build": `build|bake|kaniko|wheel|sdist|bdist|publish|goreleaser|mvn|gradle`,
	"deploy": `deploy|kubectl|helm|terraform|tofu|pulumi|aws|containerapp|vercel|argocd|skaffold|flyctl|publish|twine|push|release|ansible|azure/`,
}

# the security scanners PE-WF-004 accepts (also what makes a job a security stage);
# lowercase: match it in lowered text, or add `(?i)`
scanner_words := `(trivy|pip-audit|pip_audit|(npm|pnpm|yarn)( npm)? audit|audit-ci|bandit|codeql-action/(init|analyze)|codeql (database|analyze)|snyk|grype|anchore/scan-action|semgrep|gitleaks|trufflehog|safety (check|scan)|osv-scanner|checkov|tfsec|terrascan|kics|dependency-review-action|zizmor|govulncheck|cargo (audit|deny)|docker scout|zaproxy|zap-(baseline|full-scan)|dependency-check|brakeman|gosec)`

# docs sites, release notes and repository housekeeping: not the service's pipeline
# (auxiliary_hint: words they all name, as in tool_hints)
auxiliary_hint := `pages|mkdocs|sphinx|release-please|release-drafter|labeler|stale|first-interaction`

auxiliary_tools := `(actions/(configure|deploy|upload)-pages|upload-pages-artifact|peaceiris/actions-gh-pages|mkdocs (build|gh-deploy)|sphinx-build|googleapis/release-please-action|release-drafter/release-drafter|actions/labeler|actions/stale|actions/first-interaction)`

environment_name(job) := job.environment if {
	is_string(job.environment)
} else := text(job.environment.name) if {
	is_object(job.environment)
}

# ------------------------------------------------------------ per-job facts

job_words[job_id] := words(label(job_id, job)) if some job_id, job in jobs

job_environments[job_id] := name if {
	some job_id, job in jobs
	name := environment_name(job)
}

# the job's `uses:` and `run:` strings, lowered, one match for all its steps: the tool
# patterns never match across the line break between two of them
job_tools[job_id] := lower(concat("\n", [tool |
	some step in steps_of(job)
	some key in ["uses", "run"]
	tool := step[key]
	is_string(tool)
])) if {
	some job_id, job in jobs
}

auxiliary_jobs contains job_id if {
	some job_id, found in job_words
	count(found & auxiliary_words) > 0
}

auxiliary_jobs contains job_id if {
	some job_id, name in job_environments
	lower(name) == "github-pages"
}

auxiliary_jobs contains job_id if {
	some job_id, tools in job_tools
	regex.match(auxiliary_hint, tools)
	regex.match(auxiliary_tools, tools)
}

# the stages a job's label names, auxiliary or not: job id -> set of stage names
labelled_stages[job_id] := {stage | some stage, keywords in label_words; count(keywords & found) > 0} if {
	some job_id, found in job_words
}

# the stages of every job: job id -> set of stage names (tools are only matched for the
# stages its label does not name already, and whose hint words appear)
job_stages[job_id] := set() if some job_id in auxiliary_jobs

job_stages[job_id] := (named | by_tools) | by_environment if {
	some job_id, named in labelled_stages
	not job_id in auxiliary_jobs
	tools := job_tools[job_id]
	skipped := named | {stage | some stage, hint in tool_hints; not stage in named; not regex.match(hint, tools)}
	by_tools := {stage | some stage, pattern in tool_patterns; not stage in skipped; regex.match(pattern, tools)}
	by_environment := {"deploy" | job_environments[job_id] != ""}
}

# the jobs in each stage: stage name -> set of job ids
stage_jobs[stage] := {job_id | some job_id, in_stages in job_stages; stage in in_stages} if some stage in stage_names

# ------------------------------------------------------------ repository facts

# What the repository-level rules (PE-WF-003, PE-WF-009, see lib/repository.rego) need of
# every workflow, besides facts of their own: whether it runs on the repository's changes
# (pull requests and pushes), whether it is a reusable workflow, which reusable workflows of
# the repository it calls (their file names), its stages and its deploy jobs.
workflow_facts := {
	"changes": count(triggers & {"push", "pull_request", "merge_group"}) > 0,
	"reusable": "workflow_call" in triggers,
	"calls": sort({called_file(job) | some job in jobs; startswith(text(job.uses), "./")}),
	"stages": sort({stage | some stage in stage_names; count(stage_jobs[stage]) > 0}),
	"deploys": sort(stage_jobs.deploy),
}
