# METADATA
# title: No hard-coded container registry credentials
# description: >-
#   A `password:` written into a job's `container.credentials` or a service's
#   `credentials` is a registry secret in plain text: in the repository, in every fork
#   and clone, and in the history for good. Reported when the password is anything but
#   a `${{ }}` expression (a secret, usually). The value itself is never printed.
# related_resources:
#   - ref: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainercredentials
# custom:
#   id: PE-WF-016
#   severity: high
#   kinds: [workflow]
#   source: "seed 003 (secrets management)"
#   remediation: >-
#     Store the password as a repository or environment secret and refer to it:
#     `credentials: {username: ${{ github.actor }}, password: ${{ secrets.GHCR_TOKEN }}}`;
#     revoke the one that was committed.
package pe.workflow.container_credentials

import data.pe.workflow.lib.steps.expression_paths
import rego.v1

# (path of `credentials`, what holds them, credentials)
credentials contains [["jobs", job_id, "container", "credentials"], sprintf("job '%s' container", [job_id]), job.container.credentials] if {
	some job_id, job in input.jobs
	is_object(job.container)
	is_object(job.container.credentials)
}

credentials contains [["jobs", job_id, "services", name, "credentials"], sprintf("service '%s'", [name]), service.credentials] if {
	some job_id, job in input.jobs
	is_object(job.services)
	some name, service in job.services
	is_object(service.credentials)
}

deny contains {"msg": msg, "path": path} if {
	some [path, holder, creds] in credentials
	hard_coded(creds.password)
	not array.concat(path, ["password"]) in expression_paths # a `${{ }}` (parsed): a secret, usually
	msg := sprintf(
		"the %s has a hard-coded registry password: anyone who can read the repository can use it; use `${{ secrets.NAME }}` and revoke this one",
		[holder],
	)
}

hard_coded(password) if {
	is_string(password)
	trim_space(password) != ""
}

hard_coded(password) if is_number(password)
