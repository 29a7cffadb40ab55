"""Deployment reports (seed 003, Phase 5) and the QA reports they link to.

Both are markdown with YAML front matter.  `front_matter` is kept exactly as
written (any YAML), because judging it is PE-DR-001's job: a model that
rejected a bad `status:` would turn a policy finding into a parse error.
Links in `front_matter.links` are resolved to repository paths as described in
`pe_policy.models.markdown`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pe_policy.models.markdown import Section, TableRow, WikiLink

__all__ = ["DeploymentReport", "MarkdownReport", "QAReport", "RollbackStatus", "Summary",
           "SummaryField", "TableRow", "WikiLink"]


class SummaryField(BaseModel):
    name: str = Field(description="`Status` from `- **Status:** SUCCESS`.")
    value: str = Field(description="`SUCCESS`, markup removed.")
    line: int = Field(description="Line of the field.")


class Summary(BaseModel):
    line: int = Field(description="Line of the `## Summary` heading.")
    status: str | None = Field(default=None, description="The `Status:` field's value, as written.")
    fields: list[SummaryField] = Field(default_factory=list)


class RollbackStatus(BaseModel):
    line: int = Field(description="Line of the `## Rollback Status` heading.")
    required: bool | None = Field(
        default=None,
        description="`Rollback required: Yes` -> true, `No` -> false; None when the line is "
        "missing or says something else (see required_text).",
    )
    required_text: str | None = Field(default=None, description="The value as written.")
    reason: str | None = Field(
        default=None,
        description="Why it was rolled back: the `If yes:`/`Reason:` value, else the rest of "
        "the section's text; template placeholders (`<reason and details>`) do not count.",
    )


class MarkdownReport(BaseModel):
    front_matter: dict[str, Any] | None = Field(
        default=None, description="The YAML front matter as written; None when there is none."
    )
    title: str | None = Field(default=None, description="The `#` heading.")
    summary: Summary | None = Field(default=None, description="The `## Summary` section.")
    sections: list[Section] = Field(default_factory=list)
    links: dict[str, WikiLink] = Field(
        default_factory=dict,
        description="String values of `front_matter.links`, resolved to repository paths.",
    )

    @property
    def unit_id(self) -> str | None:
        value = (self.front_matter or {}).get("unit_id")
        return str(value) if isinstance(value, (str, int)) and str(value).strip() else None

    @property
    def status(self) -> str | None:
        """The front matter's `status`, lower case; None when missing or not a string."""
        value = (self.front_matter or {}).get("status")
        return value.strip().lower() if isinstance(value, str) else None


class DeploymentReport(MarkdownReport):
    timeline: list[TableRow] = Field(default_factory=list,
                                     description="Rows of the Deployment Timeline table.")
    verification: list[TableRow] = Field(default_factory=list,
                                         description="Rows of the Verification Results table.")
    rollback: RollbackStatus | None = Field(default=None,
                                            description="The `## Rollback Status` section.")


class QAReport(MarkdownReport):
    results: list[TableRow] = Field(default_factory=list,
                                    description="Rows of the test results table.")
