# METADATA
# title: Linear history (no merge commits in the PR)
# description: >-
#   Branch protection requires linear history: a merge commit inside a pull
#   request (typically "Merge branch 'main' into ...") cannot be rebased or
#   squashed cleanly and hides what the branch really changes.
# custom:
#   id: PE-PR-007
#   severity: low
#   kinds: [pull_request]
#   source: "seed 002 (branch protection: linear history)"
#   remediation: >-
#     Rebase the branch onto its base instead of merging the base in
#     (`git fetch origin && git rebase origin/main`, then `git push --force-with-lease`).
package pe.pull_request.linear_history

import data.pe.pull_request.lib
import rego.v1

deny contains {"msg": msg, "path": ["commits", i, "parents"]} if {
	some i, commit in input.commits
	count(commit.parents) > 1
	msg := sprintf(
		"commit %s is a merge commit (parents %s): keep the history linear, rebase the branch onto its base instead of merging",
		[lib.describe(commit), lib.short_shas(commit.parents)],
	)
}

deny contains lib.not_evaluated("commits", ["commits"]) if input.unknown.commits

deny contains lib.not_evaluated("commit_parents", ["commits"]) if {
	not input.unknown.commits
	input.unknown.commit_parents
}

# a few commits without parents among others that have them (hand-assembled input)
deny contains {"msg": msg, "path": ["commits"], "severity": "info"} if {
	not input.unknown.commit_parents
	missing := [commit.sha | some commit in input.commits; not commit.parents]
	count(missing) > 0
	msg := sprintf(
		"could not be evaluated for commits %s: the input lists no parents for them",
		[lib.short_shas(missing)],
	)
}
