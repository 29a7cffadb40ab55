# METADATA
# title: Phase and service labels
# description: >-
#   Every pull request carries a phase label (`phase-N`) and a service label
#   (`gateway`, `research`, `brand`, `content`, `agent`, `shared`, `infra`), so the
#   project board, the review agents and the release notes can route it. The
#   accepted labels are the `phase_label_pattern` and `service_labels` parameters.
# custom:
#   id: PE-PR-008
#   severity: low
#   kinds: [pull_request]
#   source: "seed 002 (issue & ticket workflow), seed 000 (services)"
#   remediation: >-
#     Add the labels, e.g. `gh pr edit <number> --add-label phase-1,gateway`.
package pe.pull_request.labels

import data.pe.pull_request.lib
import rego.v1

deny contains {"msg": msg, "path": ["labels"]} if {
	labels := input.labels
	not has_phase_label(labels)
	msg := sprintf(
		"no phase label (matching %s) on the PR%s: add the phase the work belongs to, e.g. \"phase-1\"",
		[data.pe.params.phase_label_pattern, listing(labels)],
	)
}

deny contains {"msg": msg, "path": ["labels"]} if {
	labels := input.labels
	services := data.pe.params.service_labels
	count({label | some label in labels} & {service | some service in services}) == 0
	msg := sprintf(
		"no service label (one of %s) on the PR%s: add the service the change is for",
		[concat(", ", services), listing(labels)],
	)
}

deny contains lib.not_evaluated("labels", ["labels"]) if input.unknown.labels

has_phase_label(labels) if {
	some label in labels
	regex.match(data.pe.params.phase_label_pattern, label)
}

listing(labels) := sprintf(" (labels: %s)", [concat(", ", labels)]) if count(labels) > 0

listing(labels) := " (it has none)" if count(labels) == 0
