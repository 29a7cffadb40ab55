"""PE-DR-006: reports never contain credentials; findings name the kind and a masked form only."""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.report import MarkdownReport
from pe_policy.secrets import find_secrets

from .lib.lines import path_at_line, split_lines


@rule(
    "PE-DR-006",
    severity="critical",
    kinds=["deployment_report", "qa_report"],
    title="No secrets or credentials in reports",
    description=(
        "Deployment and QA reports are committed, indexed and pasted into tickets. A key, "
        "token, password or private key written into one (often inside a copied command or log "
        "excerpt) is leaked to everyone who can read the repository, for as long as its history "
        "exists."
    ),
    remediation=(
        "Remove the value, rotate the credential (it is compromised once committed), and refer "
        "to the secret by name instead, e.g. `DB_PASSWORD from AWS Secrets Manager`."
    ),
    source="seed 003 (security: never log secrets or credentials)",
)
def no_secrets(report: MarkdownReport, ctx: RuleContext) -> Iterator[Violation]:
    doc = ctx.document  # the text, not the model: a secret may sit anywhere in it
    assert doc is not None  # set for every rule the engine runs
    if not doc.text:
        return
    spans = doc.source_map.spans
    for number, line in enumerate(split_lines(doc.text), start=1):
        for secret in find_secrets(line):
            yield Violation(
                f"{secret.kind} in the report ({secret.masked}): remove it, rotate the credential "
                "and refer to it by its name in the secret store",
                path_at_line(spans, number),
                snippet=secret.value,  # locates the finding; never shown
                properties={"secret_kind": secret.kind, "redact": True},  # no code frame
            )
