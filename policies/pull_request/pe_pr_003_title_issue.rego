# METADATA
# title: PR title references its issue
# description: >-
#   The title starts with the issue ID in brackets, `[PE-12] Gateway bootstrap`,
#   so the PR, its issue and the project board link up and the merge commit says
#   what it is for. When both the title and the head branch name issue IDs, they
#   must share one: a title citing a different issue than its branch is a mix-up.
# custom:
#   id: PE-PR-003
#   severity: medium
#   kinds: [pull_request]
#   source: "seed 002 (pull request requirements)"
#   remediation: >-
#     Edit the title to start with the issue ID, e.g. `[PE-12] Gateway bootstrap`
#     (the shape is the `title_pattern` parameter).
package pe.pull_request.title_issue

import data.pe.pull_request.lib
import rego.v1

deny contains {"msg": msg, "path": ["title"]} if {
	title := input.title

	# bound before the `not`: with the parameter undefined, OPA fails `not regex.match(undefined, title)`
	# and regorus passes it; bound first, both fail
	pattern := data.pe.params.title_pattern
	not regex.match(pattern, title)
	msg := sprintf(
		"PR title %q does not reference its issue: start it with the issue ID in brackets, e.g. \"[PE-12] Gateway bootstrap\"",
		[title],
	)
}

deny contains {"msg": msg, "path": ["title"]} if {
	title_ids := lib.issue_ids(input.title)
	count(title_ids) > 0
	branch_ids := lib.issue_ids(input.head_ref)
	count(branch_ids) > 0
	count(title_ids & branch_ids) == 0
	msg := sprintf(
		"PR title references %s but the head branch %q is for %s: reference the issue the branch implements",
		[concat(", ", sort(title_ids)), input.head_ref, concat(", ", sort(branch_ids))],
	)
}

deny contains lib.not_evaluated("title", ["title"]) if input.unknown.title
