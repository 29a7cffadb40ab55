# Shared by the workflow rules on untrusted data (PE-WF-006, 010, 012): which parsed
# `${{ }}` contexts carry data an outsider controls, read from the expression model
# (`input.expressions`, one entry per `${{ }}` with its contexts already parsed). A
# library, not a rule: it reports nothing itself.
package pe.workflow.lib.untrusted

import rego.v1

# Fields anyone who can open an issue, a pull request or a fork controls: GitHub's
# security-hardening guide ("Understanding the risk of script injections") plus the
# same data reached through other events (workflow_run, check_suite, edits). `*`
# stands for any one segment (an array index or `*`). Numbers, SHAs, ids and owner
# names cannot carry shell syntax and are not listed. Order matters: a message about a
# whole object names the first field it includes.
listed_fields := [
	"github.head_ref",
	"github.event.issue.title",
	"github.event.issue.body",
	"github.event.pull_request.title",
	"github.event.pull_request.body",
	"github.event.pull_request.head.ref",
	"github.event.pull_request.head.label",
	"github.event.pull_request.head.repo.default_branch",
	"github.event.discussion.title",
	"github.event.discussion.body",
	"github.event.comment.body",
	"github.event.review.body",
	"github.event.review_comment.body",
	"github.event.changes.title.from",
	"github.event.changes.body.from",
	"github.event.pages.*.page_name",
	"github.event.commits.*.message",
	"github.event.commits.*.author.email",
	"github.event.commits.*.author.name",
	"github.event.commits.*.committer.email",
	"github.event.commits.*.committer.name",
	"github.event.head_commit.message",
	"github.event.head_commit.author.email",
	"github.event.head_commit.author.name",
	"github.event.head_commit.committer.email",
	"github.event.head_commit.committer.name",
	"github.event.workflow_run.head_branch",
	"github.event.workflow_run.display_title",
	"github.event.workflow_run.head_commit.message",
	"github.event.workflow_run.head_commit.author.email",
	"github.event.workflow_run.head_commit.author.name",
	"github.event.workflow_run.pull_requests.*.head.ref",
	"github.event.merge_group.head_commit.message",
	"github.event.check_suite.head_branch",
	"github.event.check_run.check_suite.head_branch",
]

patterns := [split(name, ".") | some name in listed_fields]

listed := {name | some name in listed_fields}

# the parts of a context's prefix as written, and with each of its parts after the first
# two (`github.event`) as `*`
wildcarded(prefix) := array.concat([prefix], [variant |
	some i, _ in prefix
	i >= 2
	variant := array.concat(array.concat(array.slice(prefix, 0, i), ["*"]), array.slice(prefix, i + 1, count(prefix)))
])

# the (lower-cased) parts of a context match the start of a pattern, `*` matching any part
prefix_of(parts, pattern) if {
	n := min([count(parts), count(pattern)])
	every i in numbers.range(0, n - 1) {
		pattern[i] in {"*", parts[i]}
	}
}

# A context whose value an outsider controls: how a message names it, or undefined.
# A whole object (`github.event`) counts only when serialised (`toJSON`, `join`): it
# then prints every field it includes.
described(ctx) := sprintf("`%s`", [ctx.path]) if {
	parts := split(ctx.path, ".") # lower-cased, `['x']` read as `.x`, `[0]` as `.0`

	# what every pattern starts with: most contexts (`secrets.*`, `matrix.*`, `github.ref`)
	# are ruled out here, without trying each pattern (regorus: ~80 us a context)
	parts[0] == "github"
	parts[1] in {"event", "head_ref"}

	# A listed field is a prefix of the context: each prefix is looked up as written and
	# with one of its parts (after `github.event`) as `*` (a field lists at most one `*`,
	# see pe_wf_006_untrusted_input_test). Set lookups, not a prefix_of call for each of the 35 fields.
	some n in numbers.range(2, count(parts))
	some candidate in wildcarded(array.slice(parts, 0, n))
	concat(".", candidate) in listed
} else := sprintf("`%s` (it includes `%s`)", [ctx.path, included_name]) if {
	serialised(ctx)
	parts := split(ctx.path, ".")
	included := [i |
		some i, pattern in patterns
		count(parts) < count(pattern)
		prefix_of(parts, pattern)
	]
	count(included) > 0
	included_name := concat(".", patterns[min(included)])
}

serialised(ctx) if {
	some name in ctx.functions
	lower(name) in {"tojson", "join"}
}

# Untrusted fields whose value reaches the result of expression `e` (not only a test on
# them: `contains(github.event.issue.title, 'x')` yields true or false)
flowing_fields(e) := {f |
	some ctx in e.contexts
	ctx.flows
	f := described(ctx)
}
