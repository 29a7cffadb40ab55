# METADATA
# title: No self-hosted runners in workflows that pull requests from forks trigger
# description: >-
#   A self-hosted runner is a machine you keep: a job a fork's pull request triggers runs
#   the fork's code there (`pull_request`), or runs with your secrets next to it
#   (`pull_request_target`), and can leave a process or a modified tool behind for the
#   next job. GitHub recommends self-hosted runners only for private repositories.
#   Reported: a job whose `runs-on` names `self-hosted` (a label, a list, or
#   `labels:`/`group:`), in a workflow triggered by `pull_request` or `pull_request_target`.
# related_resources:
#   - ref: https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/about-self-hosted-runners#self-hosted-runner-security
# custom:
#   id: PE-WF-019
#   severity: high
#   kinds: [workflow]
#   source: "seed 003 (security: never run unapproved code)"
#   remediation: >-
#     Run pull-request jobs on GitHub-hosted runners (`runs-on: ubuntu-latest`), or on
#     ephemeral, isolated runners that fork pull requests cannot reach (require approval
#     for all outside collaborators).
package pe.workflow.self_hosted_pull_requests

import data.pe.workflow.lib.steps.fork_pr_triggers
import rego.v1

deny contains {"msg": msg, "path": ["jobs", job_id, "runs-on"]} if {
	count(fork_pr_triggers) > 0
	some job_id, job in input.jobs
	self_hosted(job["runs-on"])
	msg := sprintf(
		"job '%s' runs on a self-hosted runner in a workflow triggered by %s, which pull requests from forks set off: their code (or your secrets beside it) reaches a machine that persists between jobs",
		[job_id, concat("/", sort(fork_pr_triggers))],
	)
}

# (`else` chains: regorus evaluates every body of a function on each call)
self_hosted(runs_on) if {
	has_label(runs_on)
} else if {
	has_label(runs_on.labels)
} else if {
	# a runner group is always self-hosted (GitHub-hosted larger runners too, but those are
	# named by `labels` alone)
	is_object(runs_on)
	is_string(runs_on.group)
}

# `self-hosted` as the one label or among a list of them
has_label(labels) if {
	is_string(labels)
	lower(labels) == "self-hosted"
} else if {
	is_array(labels)
	some label in labels
	lower(label) == "self-hosted"
}
