# Helpers shared by the pull-request rules (no findings of its own).
#
# Every PR rule reads the normalised `PullRequest` model (`pe-policy parse --kind
# pull_request FILE` prints it). Fields the input does not carry are absent and
# listed in `input.unknown` with a hint on how to supply them: a rule whose data is
# unknown reports one `info` finding instead of passing silently.
package pe.pull_request.lib

import rego.v1

# The finding for a rule that cannot judge because `field` is unknown; `path` is
# where the data would be (absent, so the finding lands on the pull request).
not_evaluated(field, path) := {
	"msg": sprintf("could not be evaluated: %s", [input.unknown[field]]),
	"path": path,
	"severity": "info",
}

matches_any(value, patterns) if {
	some pattern in patterns
	regex.match(pattern, value)
}

# `0123456789ab ("subject")`: how messages name a commit.
describe(commit) := sprintf("%s (%q)", [substring(commit.sha, 0, 12), commit.subject]) if commit.subject

describe(commit) := substring(commit.sha, 0, 12) if not commit.subject

short_shas(shas) := concat(", ", [substring(sha, 0, 12) | some sha in shas])

# Issue IDs such as PE-12 in a title or branch name.
issue_ids(text) := {id | some id in regex.find_n(`[A-Z][A-Z0-9]*-[0-9]+`, text, -1)}
