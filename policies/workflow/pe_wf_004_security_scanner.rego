# METADATA
# title: The security stage runs a scanner, and its result blocks the pipeline
# description: >-
#   In a pipeline (see PE-WF-003), every job named as a security stage
#   (`security`, `scan`, `audit`, `sast`, `vuln` ... in its id or name) runs a
#   recognised scanner in a step's `uses:` or `run:`: Trivy, pip-audit, npm /
#   yarn / pnpm audit, bandit, CodeQL, Snyk, Grype, Semgrep, gitleaks,
#   TruffleHog, Safety, OSV-Scanner, Checkov, tfsec, dependency-review,
#   zizmor, govulncheck, cargo audit, Docker Scout, ZAP ... A local action
#   whose path names a security stage (`./.github/actions/security-scan`) and
#   a reusable-workflow call count as the scan: their steps are not visible
#   here. A scanner whose result is thrown away (`continue-on-error: true`, or
#   `|| true` after the command) does not gate anything and is reported too.
# related_resources:
#   - ref: https://docs.github.com/en/code-security/supply-chain-security/understanding-your-software-supply-chain/about-dependency-review
# custom:
#   id: PE-WF-004
#   severity: high
#   kinds: [workflow]
#   source: "seed 002 (quality gates: security scans mandatory before merge)"
#   remediation: >-
#     Run a scanner in the security job and let it fail the job on findings,
#     e.g. `pip-audit --strict`, `npm audit --audit-level=high`, or
#     `aquasecurity/trivy-action` with `exit-code: "1"` and
#     `severity: CRITICAL,HIGH`.
package pe.workflow.security_scanner

import data.pe.workflow.lib.pipeline
import rego.v1

deny contains {"msg": msg, "path": ["jobs", job_id]} if {
	pipeline.is_pipeline
	some job_id, job in pipeline.jobs
	pipeline.labelled(job_id, "security")
	not pipeline.auxiliary(job_id, job)
	not pipeline.is_call(job)
	not runs_scanner(job)
	msg := sprintf(
		"security job '%s' runs no recognised scanner: run Trivy, pip-audit, npm audit or an equivalent (bandit, CodeQL, Snyk, Grype, Semgrep, gitleaks) in its steps",
		[job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", i, "continue-on-error"]} if {
	pipeline.is_pipeline
	some job_id, job in pipeline.jobs
	some i, step in pipeline.steps_of(job)
	scanner_step(step)
	step["continue-on-error"] == true
	msg := sprintf(
		"scanner step %s in job '%s' has `continue-on-error: true`: its findings never fail the pipeline; remove it",
		[pipeline.step_label(step, i), job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "continue-on-error"]} if {
	pipeline.is_pipeline
	some job_id, job in pipeline.jobs
	job["continue-on-error"] == true
	runs_scanner(job)
	msg := sprintf(
		"job '%s' runs a security scanner with `continue-on-error: true`: its findings never fail the pipeline; remove it",
		[job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", i, "run"], "snippet": snippet} if {
	pipeline.is_pipeline
	some job_id, job in pipeline.jobs
	some i, step in pipeline.steps_of(job)
	is_string(step.run)
	some line in regex.find_n(ignored_result, step.run, -1)
	snippet := trim_space(line)
	msg := sprintf(
		"the scanner's exit status is ignored in job '%s' (`%s`): drop the `|| true` so findings fail the job",
		[job_id, snippet],
	)
}

ignored_result := concat("", [`(?mi)^.*`, pipeline.scanner_words, `.*\|\|[ \t]*(true|:|exit 0)[ \t]*(#.*)?$`])

scanner_step(step) if regex.match(pipeline.scanner_pattern, pipeline.step_tools(step))

runs_scanner(job) if {
	some step in pipeline.steps_of(job)
	scanner_step(step)
}

runs_scanner(job) if {
	some step in pipeline.steps_of(job)
	startswith(pipeline.text(step.uses), "./")
	regex.match(pipeline.word_pattern(pipeline.label_words.security), step.uses)
}
