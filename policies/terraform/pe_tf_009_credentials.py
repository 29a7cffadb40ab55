"""PE-TF-009: no credentials written into Terraform; findings name the kind and a masked form only.

A Python rule because the judgement is the one pe-policy already makes everywhere else
(`pe_policy.secrets`): what a name says it holds, whether a value is a placeholder or a
reference, and the detectors for keys and tokens pasted into scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.terraform import TerraformBlock, TerraformConfig
from pe_policy.secrets import SecretMatch, assigned_secret, find_secrets

# scripts an instance runs at boot: text (user_data) on instances, launch templates and
# configurations, spot requests
USER_DATA_TYPES = frozenset({"aws_instance", "aws_launch_template", "aws_launch_configuration",
                             "aws_spot_instance_request", "aws_spot_fleet_request"})
USER_DATA_ATTRIBUTES = ("user_data",)


def _literal(value: Any) -> bool:
    """A value written out, not computed: Terraform expressions are kept as `${...}`."""
    return isinstance(value, str) and bool(value.strip()) and "${" not in value


def _named_secret(name: str, value: Any) -> SecretMatch | None:
    """The secret in a value its name says is one; a detector's kind when one knows the value."""
    if not _literal(value):
        return None
    named = assigned_secret(name, value)
    if named is None:
        return None
    known = next((s for s in find_secrets(value) if s.start == 0 and s.end == len(value)), None)
    return known or named


def _finding(what: str, secrets: list[SecretMatch], path: tuple[str | int, ...], fix: str) -> Violation:
    shown = ", ".join(f"{s.kind} {s.masked}" for s in secrets)
    noun = "a credential" if len(secrets) == 1 else f"{len(secrets)} credentials"
    return Violation(f"{what}: {noun} ({shown}) written into the configuration; {fix}", path,
                     properties={"secret_kinds": sorted({s.kind for s in secrets}), "redact": True})


_ROTATE = "remove it, rotate the credential (it is in the repository's history) and"


Path = tuple[str | int, ...]


def _attributes(values: dict[str, Any], path: Path) -> Iterator[tuple[str, Any, Path]]:
    """(name, value, path) of every attribute, nested blocks included."""
    for name, value in values.items():
        here = (*path, name)
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                yield from _attributes(item, (*here, index))
        else:
            yield name, value, here


def _provider(block: TerraformBlock, base: tuple[str | int, ...]) -> Iterator[Violation]:
    for name, value, path in _attributes(block.values, base):
        secret = _named_secret(name, value)
        if secret is not None:
            yield _finding(f"{block.address} sets {name}", [secret], path,
                           f"{_ROTATE} let the provider read it from the environment "
                           "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), a profile or an assumed role")


def _variable(block: TerraformBlock, base: tuple[str | int, ...]) -> Iterator[Violation]:
    default = block.values.get("default")
    secret = _named_secret(block.name or "", default)
    if secret is not None:
        yield _finding(f"{block.address} has a default value", [secret], (*base, "default"),
                       f"{_ROTATE} remove the default: pass the value at apply time "
                       "(TF_VAR_..., a secret store) and mark the variable sensitive")


def _named_values(block: TerraformBlock, base: tuple[str | int, ...]) -> Iterator[Violation]:
    """locals and resource arguments named as secrets (`master_password = "..."`)."""
    for name, value, path in _attributes(block.values, base):
        secret = _named_secret(name, value)
        if secret is not None:
            where = f"local.{name}" if block.block_type == "locals" else f"{block.address} sets {name}"
            yield _finding(where, [secret], path,
                           f"{_ROTATE} read it from a secret store (a data source of Secrets Manager "
                           "or SSM Parameter Store, or manage_master_user_password)")


def _user_data(block: TerraformBlock, base: tuple[str | int, ...]) -> Iterator[Violation]:
    for attribute in USER_DATA_ATTRIBUTES:
        script = block.values.get(attribute)
        if not isinstance(script, str):
            continue
        found = [secret for line in script.splitlines() for secret in find_secrets(line)]
        if found:
            yield _finding(f"{block.address} {attribute}", found, (*base, attribute),
                           f"{_ROTATE} give the instance an IAM instance profile, or fetch the "
                           "secret at boot from Secrets Manager or SSM Parameter Store")


@rule(
    "PE-TF-009",
    severity="critical",
    kinds=["terraform"],
    title="No credentials written into Terraform",
    description=(
        "A credential written into a .tf file is readable by everyone who can read the "
        "repository, for as long as its history exists, and lands in every plan and state: "
        "provider arguments (`access_key`, `secret_key`, `token`, `password`, `client_secret`), "
        "the default value of a variable named like a secret (`db_password`, `api_token`), "
        "locals and resource arguments named like one (`master_password`, `auth_token`, "
        "`secret_string`), and keys or passwords inside the `user_data` script of instances, "
        "launch templates and launch configurations. References (`var.x`, "
        "`data.aws_secretsmanager_secret_version.x.secret_string`) and placeholders are fine. "
        "Findings show the kind and a masked form, never the value, and the line is masked in "
        "code frames."
    ),
    remediation=(
        "Remove the value and rotate the credential. Let providers read credentials from the "
        "environment, a profile or an assumed role; pass secrets to variables at apply time "
        "(TF_VAR_name, a secret store) and mark them `sensitive`; read them with a Secrets "
        "Manager or SSM data source, or let RDS manage the master password "
        "(`manage_master_user_password = true`); give instances an instance profile instead of "
        "keys in user_data."
    ),
    source="seed 003 (security: never commit secrets or credentials)",
)
def no_credentials(config: TerraformConfig, ctx: RuleContext) -> Iterator[Violation]:
    for index, block in enumerate(config.blocks):
        base: tuple[str | int, ...] = ("blocks", index, "values")
        if block.block_type == "provider":
            yield from _provider(block, base)
        elif block.block_type == "variable":
            yield from _variable(block, base)
        elif block.block_type in ("locals", "resource"):
            yield from _named_values(block, base)
            if block.block_type == "resource" and block.type in USER_DATA_TYPES:
                yield from _user_data(block, base)

