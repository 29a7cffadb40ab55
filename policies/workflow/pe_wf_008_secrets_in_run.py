"""PE-WF-008: secrets reach scripts through `env:`, never pasted in or printed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.workflow import CompositeAction, Workflow

from .lib.expressions import expressions
from .lib.scripts import Script, iter_scripts, step_env

# inside a normalised `${{ }}` body: `secrets.NAME`, the whole `secrets` object, the token
_SECRET = re.compile(r"(?<![\w.-])(?:secrets(?:\.([\w-]+))?|github\.token)(?![\w-])", re.IGNORECASE)
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;")
_PRINT = re.compile(r"^(?:(?:then|else|do|sudo)\s+)*(echo|printf)\b")
_ENV_REFERENCE = re.compile(r"(?<![\w.-])env\.([\w-]+)", re.IGNORECASE)
_MASK = "::add-mask::"


def secret_references(text: str) -> Iterator[tuple[str, str, str]]:
    """(expression as written, what it exposes, a variable name for it) per secret in `text`."""
    for expression in expressions(text):
        if expression.is_boolean:  # `${{ secrets.X != '' }}` prints true/false, not X
            continue
        for match in _SECRET.finditer(expression.body):
            if match.group(0).lower() == "github.token":
                yield expression.text, "the `github.token`", "GH_TOKEN"
            elif match.group(1):
                name = match.group(1)
                yield expression.text, f"secret `{name}`", name.upper().replace("-", "_")
            else:
                yield expression.text, "every secret (the whole `secrets` context)", "NAME"


def _secret_env(env: dict[str, Any]) -> dict[str, str]:
    """Environment variables whose value is a secret: name -> what they hold."""
    out: dict[str, str] = {}
    for name, value in env.items():
        if isinstance(value, str):
            for _text, what, _name in secret_references(value):
                out[str(name)] = what
                break
    return out


def printed_variables(script: str, names: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(command, variable) for `echo`/`printf` commands that write a secret variable to the log.

    A command whose output is piped (`echo "$T" | docker login --password-stdin`) or
    redirected to a file does not reach the log and is not reported; nor is
    `::add-mask::`.  Quoting is not parsed, so a `|` or `>` inside quotes also
    counts as a pipe: such a command is left alone (a miss, never a false alarm).
    """
    if not names:
        return
    alternatives = "|".join(map(re.escape, names))
    variable = re.compile(rf"\$(?:\{{({alternatives})\}}|({alternatives})\b)")
    for line in script.splitlines():
        for command in _COMMAND_SEPARATOR.split(line):
            command = command.strip()
            if not _PRINT.match(command) or "|" in command or ">" in command or _MASK in command:
                continue
            match = variable.search(command)
            if match:
                yield command, match.group(1) or match.group(2)


@rule(
    "PE-WF-008",
    severity="high",
    kinds=["workflow", "action"],
    title="Secrets are passed through env:, never pasted into or printed by run: scripts",
    description=(
        "A `${{ secrets.X }}` (or `${{ github.token }}`, or `toJSON(secrets)`) inside a `run:` "
        "script is pasted into the script file before it runs: the value ends up on command "
        "lines other processes can read, in debug logs and in any error that echoes the "
        "command, and GitHub's log masking only catches exact copies. Also reported: an "
        "`echo`/`printf` that writes an environment variable holding a secret to the log "
        "(piped or redirected output, and `::add-mask::`, are fine). Mapping the secret in "
        "`env:` and reading `\"$X\"` in the script is the recommended form and is not reported."
    ),
    remediation=(
        "Map the secret in the step's `env:` (`env: {RUBE_API_KEY: ${{ secrets.RUBE_API_KEY }}}`), "
        "use `\"$RUBE_API_KEY\"` in the script, feed it to tools on stdin "
        "(`--password-stdin`) rather than as an argument, and never print it."
    ),
    source="seed 003 (secrets management: never log secrets), seed 002 (GitHub secrets via env)",
)
def secrets_in_run(workflow: Workflow | CompositeAction, ctx: RuleContext) -> Iterator[Violation]:
    for script in iter_scripts(workflow, github_script=False):
        secret_vars = _secret_env(step_env(workflow, script.job_id, script.step))
        yield from _pasted(script, secret_vars)
        yield from _printed(script, secret_vars)


def _env_secrets(text: str, secret_vars: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """`${{ env.X }}` where X holds a secret: pasted just the same."""
    for expression in expressions(text):
        if expression.is_boolean:
            continue
        for match in _ENV_REFERENCE.finditer(expression.body):
            name = match.group(1)
            if name in secret_vars:
                yield expression.text, f"`env.{name}` ({secret_vars[name]})", name


def _pasted(script: Script, secret_vars: dict[str, str]) -> Iterator[Violation]:
    seen: set[tuple[str, str]] = set()
    for text, what, name in (*secret_references(script.text),
                             *_env_secrets(script.text, secret_vars)):
        if (text, what) in seen:
            continue
        seen.add((text, what))
        yield Violation(
            f"{what} is expanded into a {script.where}: map it in the step's `env:` and use "
            f"`\"${name}\"` instead, so it never lands in the script or on a command line",
            script.path,
            snippet=text,
        )


def _printed(script: Script, secret_vars: dict[str, str]) -> Iterator[Violation]:
    for command, name in printed_variables(script.text, secret_vars):
        yield Violation(
            f"`{command}` prints `${name}`, which holds {secret_vars[name]}, to the job log: "
            "GitHub only masks exact copies of a secret; pass it to the tool that needs it "
            "(on stdin or via `env:`) and never print it",
            script.path,
            snippet=command,
        )
