"""Terraform configuration (`.tf` and `.tf.json` files), as the blocks they declare.

A `.tf.json` file (Terraform's JSON syntax) gives the same blocks as the `.tf` file
it would be written as (loaders/terraform_json.py): a rule never tells them apart.

The input Rego sees is this model as JSON.  Each block's `values` holds its
attributes and nested blocks the way `terraform show -json` holds a resource's
`after` values (nested blocks are lists of objects), so one policy reads a
resource the same way in a plan and in a `.tf` file:

    {"blocks": [{"block_type": "resource", "type": "aws_s3_bucket", "name": "logs",
                 "address": "aws_s3_bucket.logs", "values": {"bucket": "pe-logs", ...}}],
     "module": {"directory": "infra", "blocks": [...blocks of the sibling .tf files...]}}

Expressions that are not literals are kept as Terraform template strings
(`"${aws_vpc.main.id}"`).  `jsonencode({...})` with a literal argument is
decoded into its value, so an IAM policy written in HCL is an object rules can
read.  Terraform's unit is the module (a directory): a run checks the `.tf` files
of a directory as one document, whose `blocks` are all of theirs (each names its
`file`); `module.blocks` holds the module's files not checked in the run (a
pre-commit run on one file sees its siblings there), and `module.children` the
modules it calls from local directories, for rules that look for a companion
resource ("this bucket has no public access block anywhere in its configuration").

A `dynamic "NAME" { for_each = ..., iterator = ..., content { ... } }` block is a
nested block named `dynamic` whose one label is NAME, like any labelled block:

    "values": {"dynamic": [{"ingress": {"for_each": "${var.ports}", "iterator": "port",
                                        "content": [{"from_port": "${port.value}", ...}]}}]}

so the settings Terraform repeats are at `values.dynamic[i].NAME.content[0]`, each
with its own line (path `[..., "values", "dynamic", i, "NAME", "content", 0, "attr"]`).
`iterator` is absent when the block does not set it (Terraform then uses NAME).  A
`dynamic` block nested in a block, or in another `dynamic` block's `content`, has
the same shape at that level.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TerraformBlock(_Node):
    """A top-level block: resource, data, module, variable, output, provider, locals, terraform..."""

    block_type: str = Field(description='"resource", "data", "module", "variable", "provider", ...')
    labels: list[str] = Field(default_factory=list, description="the block's labels, in order")
    type: str | None = Field(default=None, description="resource or data source type (first label)")
    name: str | None = Field(default=None, description="the block's name (last label)")
    address: str = Field(description='e.g. "aws_s3_bucket.logs", "data.aws_iam_policy_document.x", '
                         '"module.network", "var.region", "provider.aws"')
    file: str = Field(description="the .tf file, relative to the repository root")
    line: int = Field(description="1-based line of the block's first label")
    end_line: int | None = Field(default=None, description="1-based line of the closing brace")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="attributes and nested blocks (lists of objects), like a plan's `after`",
    )


class PolicyStatement(_Node):
    """One IAM statement, normalised from JSON (`Action`) or a policy document (`actions`)."""

    index: int = Field(description="position in the document's statement list")
    sid: str | None = None
    effect: str = Field(default="Allow", description='"Allow" or "Deny"')
    actions: list[str] = Field(default_factory=list)
    not_actions: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    not_resources: list[str] = Field(default_factory=list)
    principals: dict[str, list[str]] = Field(
        default_factory=dict, description='principal type -> identifiers; "*" for everyone')
    path: list[str | int] = Field(description="JSON path of the statement in this input")
    line: int = Field(description="1-based line of the statement")


class PolicyDocument(_Node):
    """An IAM policy written in the configuration, with its statements."""

    address: str = Field(description="the block holding the policy")
    attribute: str = Field(description='"policy", "assume_role_policy", or "statement" '
                           "for a data aws_iam_policy_document")
    form: str = Field(description='"jsonencode", "json" (a JSON string or heredoc) '
                      'or "policy_document" (the data source)')
    path: list[str | int] = Field(description="JSON path of the document node in this input")
    line: int
    statements: list[PolicyStatement] = Field(default_factory=list)


class ChildModule(_Node):
    """A module the configuration calls from a local directory (`source = "./modules/y"`)."""

    source: str = Field(description="the call's `source`, as written")
    directory: str = Field(description="the child module's directory, relative to the root")
    blocks: list[TerraformBlock] = Field(default_factory=list, description="its blocks")
    children: dict[str, ChildModule] = Field(
        default_factory=dict, description="the modules it calls in turn, by call name")


class ModuleContext(_Node):
    """The rest of the Terraform module this document belongs to (same directory)."""

    directory: str = Field(description="the module directory, relative to the repository root")
    files: list[str] = Field(default_factory=list, description="every .tf file of the module")
    blocks: list[TerraformBlock] = Field(
        default_factory=list, description="blocks of the module's .tf files that are not in "
        "this document (a file checked alone sees its siblings here)")
    children: dict[str, ChildModule] = Field(
        default_factory=dict, description='the local modules it calls (module "x" { source = '
        '"./modules/y" }), by call name: what the configuration creates through them')


class TerraformConfig(_Node):
    """A Terraform module's `.tf` files checked in a run (or one `.tf` file checked alone).

    A run loads a module once: the document is its first file, and `blocks` holds the
    blocks of every file the run checks there, each naming its `file`."""

    blocks: list[TerraformBlock] = Field(default_factory=list)
    policy_documents: list[PolicyDocument] = Field(
        default_factory=list, description="IAM policies found in the blocks, with their lines")
    module: ModuleContext | None = None

    def resources(self) -> list[TerraformBlock]:
        return [b for b in self.blocks if b.block_type == "resource"]

    def block(self, address: str) -> TerraformBlock | None:
        return next((b for b in self.blocks if b.address == address), None)
