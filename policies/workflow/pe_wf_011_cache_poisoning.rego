# METADATA
# title: Release and publishing jobs do not restore caches
# description: >-
#   GitHub Actions caches are shared: a cache entry saved by any workflow on the default
#   branch (one a pull request can steer, or a compromised dependency can write) is
#   restored by the release that runs next, and what it holds (dependencies, compiled
#   objects, tools) ends up in the published artifact. Reported: a cache-restoring step
#   (`actions/cache`, `actions/cache/restore`, `setup-*` actions with caching on,
#   `Swatinem/rust-cache`, `astral-sh/setup-uv` with `enable-cache`...) in a workflow
#   triggered by `release` or by pushed tags, or in a job that runs a publishing action
#   (PyPI, npm, GitHub releases, container pushes).
# related_resources:
#   - ref: https://adnanthekhan.com/2024/05/06/the-monsters-in-your-build-cache-github-actions-cache-poisoning/
# custom:
#   id: PE-WF-011
#   severity: high
#   kinds: [workflow]
#   source: "seed 003 (security: build from what you reviewed)"
#   remediation: >-
#     Build release artifacts from a clean environment: drop the cache step, or turn caching
#     off for the release job (`cache: ''` on setup-node/python/java, `cache: false` on
#     setup-go, `lookup-only: true` on actions/cache, `enable-cache: false` on setup-uv).
package pe.workflow.cache_poisoning

import data.pe.workflow.lib.pipeline.on_value
import data.pe.workflow.lib.pipeline.triggers
import data.pe.workflow.lib.steps.named_steps
import data.pe.workflow.lib.steps.used_actions
import rego.v1

# Actions that publish what the job built.
publishers := {
	"pypa/gh-action-pypi-publish", "softprops/action-gh-release", "ncipollo/release-action",
	"docker/build-push-action", "goreleaser/goreleaser-action", "rubygems/release-gem",
	"actions/create-release", "svenstaro/upload-release-action", "jsr-io/jsr-publish",
	"changesets/action", "js-devtools/npm-publish",
}

# Actions that restore a cache unless told not to: name -> how its inputs turn caching
# on ("input": on when the input is given and not empty/false; "default": on unless the
# input is false; "always": no way to turn it off).
caching_actions := {
	"actions/cache": {"how": "default", "input": "lookup-only", "off_when": "true"},
	"actions/cache/restore": {"how": "always"},
	"actions/setup-node": {"how": "input", "input": "cache"},
	"actions/setup-python": {"how": "input", "input": "cache"},
	"actions/setup-java": {"how": "input", "input": "cache"},
	"actions/setup-dotnet": {"how": "input", "input": "cache"},
	"actions/setup-go": {"how": "default", "input": "cache", "off_when": "false"},
	"astral-sh/setup-uv": {"how": "input", "input": "enable-cache"},
	"ruby/setup-ruby": {"how": "input", "input": "bundler-cache"},
	"swatinem/rust-cache": {"how": "always"},
	"mozilla-actions/sccache-action": {"how": "always"},
	"pnpm/action-setup": {"how": "input", "input": "cache"},
	"oven-sh/setup-bun": {"how": "always"},
	"gradle/actions/setup-gradle": {"how": "default", "input": "cache-disabled", "off_when": "true"},
}

tag_push if {
	is_object(on_value.push)
	on_value.push.tags
}

publishing_workflow contains "`release` trigger" if "release" in triggers

publishing_workflow contains "pushed tags" if tag_push

publishing_jobs[job_id] := name if {
	count(used_actions & publishers) > 0 # (most workflows use none)
	some [name, s] in named_steps
	name in publishers
	job_id := s.job
}

# (the caching steps first: most workflows have none, and then whether the workflow
# publishes, its triggers and the publishing actions, is never worked out; on regorus
# every rule a workflow evaluates costs)
deny contains {"msg": msg, "path": array.concat(s.path, ["uses"])} if {
	some [name, s] in named_steps
	spec := caching_actions[name]

	# regal ignore:non-loop-expression
	publishes # (after the loop on purpose: see above)
	caches(spec, s.step)
	why := reason(s.job)
	msg := sprintf(
		"`%s` restores a cache in a job that publishes (%s): a poisoned cache entry ends up in the release; build releases without caches",
		[name, why],
	)
}

reason(job_id) := concat(" and ", sort(publishing_workflow)) if {
	count(publishing_workflow) > 0
} else := sprintf("it runs `%s`", [publishing_jobs[job_id]])

publishes if count(publishing_workflow) > 0

publishes if count(used_actions & publishers) > 0

caches(spec, _) if {
	spec.how == "always"
}

caches(spec, step) if {
	spec.how == "input"
	value := lower(trim_space(sprintf("%v", [object.get(object.get(step, "with", {}), spec.input, "")])))
	not value in {"", "false", "null"}
}

caches(spec, step) if {
	spec.how == "default"
	value := lower(trim_space(sprintf("%v", [object.get(object.get(step, "with", {}), spec.input, "")])))
	value != spec.off_when
}
