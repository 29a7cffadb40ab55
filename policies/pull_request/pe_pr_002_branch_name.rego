# METADATA
# title: Head branch follows the naming convention
# description: >-
#   Feature work happens on short-lived branches named
#   `<repo>/<ISSUE-ID>-brief-description` (e.g. `gateway/PE-12-bootstrap-fastapi`);
#   releases on `release/<semver>` and fixes to a release on `hotfix/<ISSUE-ID>`.
#   The name ties the branch to its issue and tells automation what kind of change
#   it carries. The accepted shapes are the `branch_patterns` parameter.
# custom:
#   id: PE-PR-002
#   severity: medium
#   kinds: [pull_request]
#   source: "seed 002 (branching & release strategy)"
#   remediation: >-
#     Rename the branch on GitHub (Branches, then the pencil icon: open pull requests
#     follow the rename), e.g. to `gateway/PE-12-short-description`, or extend
#     `branch_patterns` in `.pe-policy.yaml`.
package pe.pull_request.branch_name

import data.pe.pull_request.lib
import rego.v1

deny contains {"msg": msg, "path": ["head_ref"]} if {
	ref := input.head_ref
	patterns := data.pe.params.branch_patterns # bound before the `not`: see PE-PR-003
	not lib.matches_any(ref, patterns)
	msg := sprintf(
		"head branch %q does not follow the naming convention <repo>/<ISSUE-ID>-brief-description (e.g. gateway/PE-12-bootstrap-fastapi), release/<semver> or hotfix/<ISSUE-ID>: rename the branch",
		[ref],
	)
}

deny contains lib.not_evaluated("head_ref", ["head_ref"]) if input.unknown.head_ref
