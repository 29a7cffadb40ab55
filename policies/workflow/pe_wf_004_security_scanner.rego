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
#   severity: medium
#   kinds: [workflow]
#   source: "seed 002 (quality gates: security scans mandatory before merge)"
#   remediation: >-
#     Run a scanner in the security job and let it fail the job on findings,
#     e.g. `pip-audit --strict`, `npm audit --audit-level=high`, or
#     `aquasecurity/trivy-action` with `exit-code: "1"` and
#     `severity: CRITICAL,HIGH`.
package pe.workflow.security_scanner

import data.pe.workflow.lib.pipeline
import data.pe.workflow.lib.pipeline.auxiliary_jobs
import data.pe.workflow.lib.pipeline.is_pipeline
import data.pe.workflow.lib.pipeline.job_tools
import data.pe.workflow.lib.pipeline.label_words
import data.pe.workflow.lib.pipeline.labelled_stages
import data.pe.workflow.lib.pipeline.scanner_words
import rego.v1

# Evaluation cost (regorus, once per workflow) shapes this rule, see lib/pipeline.rego:
# the library's rules are imported by name (read through the package, `pipeline.jobs`,
# regorus evaluates every rule of the library first), jobs and steps are read from the
# input directly (a call per job costs more than the loop), and big regexes only run
# where a cheap test passes.

deny contains {"msg": msg, "path": ["jobs", job_id]} if {
	is_pipeline
	some job_id, job in input.jobs
	"security" in labelled_stages[job_id]
	not job_id in auxiliary_jobs
	not pipeline.calls_workflow(job) # a reusable-workflow call: its steps are not visible here
	not runs_scanner(job_id, job)
	msg := sprintf(
		"security job '%s' runs no recognised scanner: run Trivy, pip-audit, npm audit or an equivalent (bandit, CodeQL, Snyk, Grype, Semgrep, gitleaks) in its steps",
		[job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", i, "continue-on-error"]} if {
	is_pipeline
	some job_id, job in input.jobs
	is_array(job.steps)
	some i, step in job.steps
	step["continue-on-error"] == true
	scanner_step(step)
	msg := sprintf(
		"scanner step %s in job '%s' has `continue-on-error: true`: its findings never fail the pipeline; remove it",
		[pipeline.step_label(step, i), job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "continue-on-error"]} if {
	is_pipeline
	some job_id, job in input.jobs
	job["continue-on-error"] == true
	runs_scanner(job_id, job)
	msg := sprintf(
		"job '%s' runs a security scanner with `continue-on-error: true`: its findings never fail the pipeline; remove it",
		[job_id],
	)
}

deny contains {"msg": msg, "path": ["jobs", job_id, "steps", i, "run"], "snippet": snippet} if {
	is_pipeline
	some job_id, tools in job_tools
	contains(tools, "||") # every ignored result has one: most jobs skip the steps
	regex.match(scanner_words, tools) # and a scanner: the job's text at once, then its steps
	some i, step in input.jobs[job_id].steps
	is_string(step.run)
	contains(step.run, "||")
	some line in regex.find_n(ignored_result, step.run, -1)
	snippet := trim_space(line)
	msg := sprintf(
		"the scanner's exit status is ignored in job '%s' (`%s`): drop the `|| true` so findings fail the job",
		[job_id, snippet],
	)
}

ignored_result := concat("", [`(?mi)^.*`, scanner_words, `.*\|\|[ \t]*(true|:|exit 0)[ \t]*(#.*)?$`])

scanner_step(step) if regex.match(scanner_words, lower(pipeline.step_tools(step)))

# a step runs a scanner: the scanner patterns never span two steps, so one match over
# all the job's (lowered) tools answers for every step
runs_scanner(job_id, _) if regex.match(scanner_words, job_tools[job_id])

runs_scanner(_, job) if {
	is_array(job.steps)
	some step in job.steps
	startswith(pipeline.text(step.uses), "./")
	count(pipeline.words(lower(step.uses)) & label_words.security) > 0
}
