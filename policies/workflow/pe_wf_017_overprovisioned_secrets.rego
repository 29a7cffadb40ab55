# METADATA
# title: Secrets are named, never looked up by a computed name
# description: >-
#   `secrets[<expression>]` (`secrets[matrix.token_name]`, `secrets[format('{0}_KEY',
#   inputs.env)]`) makes GitHub give the job every secret of the repository, since it
#   cannot tell which one the expression will pick; whoever controls the expression picks
#   any of them. (`toJSON(secrets)` does the same and is PE-WF-008.) Reported wherever
#   such a lookup appears.
# related_resources:
#   - ref: https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions
# custom:
#   id: PE-WF-017
#   severity: medium
#   kinds: [workflow, action]
#   source: "seed 003 (least privilege)"
#   remediation: >-
#     Name each secret: map the choices explicitly (`env: {TOKEN: ${{ matrix.env == 'prod'
#     && secrets.PROD_TOKEN || secrets.STAGING_TOKEN }}}`) or use environments, whose
#     secrets of the same name differ per environment.
package pe.workflow.overprovisioned_secrets

import data.pe.workflow.lib.steps.expressions
import rego.v1

deny contains {"msg": msg, "path": e.path, "snippet": e.text} if {
	some e in expressions
	some ctx in e.contexts
	ctx.parts[0] == "secrets"
	ctx.dynamic
	msg := sprintf(
		"`%s` looks a secret up by a computed name: GitHub then hands this job every secret of the repository; name the secret instead",
		[ctx.text],
	)
}
