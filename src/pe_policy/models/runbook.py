"""Implementation runbooks (seed 004): `# <STORY-ID>: <Title>`, `Status:`, the panel's
compliance checklist, the proposed file changes and how to verify and roll back.

The model is what `pe-policy parse` prints and what Rego sees as `input`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pe_policy.models.markdown import ChecklistItem, Section

__all__ = ["ChecklistItem", "FileChange", "RollbackProcedure", "Runbook", "Section"]


class FileChange(BaseModel):
    action: Literal["MODIFY", "NEW", "DELETE"] = Field(
        description="The tag before the file under Proposed Changes: `[MODIFY]`, `[NEW]`, "
        "`[DELETE]`."
    )
    path: str = Field(description="The file as written (link target, code span or word), "
                      "with `file://`, `#anchor` and `:line` suffixes removed.")
    line: int = Field(description="Line of the entry.")
    component: str | None = Field(
        default=None, description="The heading it is listed under (`### [Gateway]` -> `Gateway`)."
    )
    candidates: list[str] = Field(
        default_factory=list,
        description="Repository paths the file may be, in resolution order (see "
        "pe_policy.models.markdown); empty for absolute paths and paths outside the repository.",
    )


class RollbackProcedure(BaseModel):
    heading: str | None = Field(
        default=None,
        description="The section describing it (`## Rollback Plan`); None for a labelled line "
        "such as `- Rollback: revert the deploy...` elsewhere.",
    )
    line: int = Field(description="Line of the heading (or of the labelled line).")
    end_line: int = Field(description="Last line of the procedure.")
    empty: bool = Field(description="The section has no content.")
    placeholder: str | None = Field(
        default=None, description="The template placeholder it holds instead of steps."
    )
    steps: int = Field(default=0, description="List items, paragraphs and code blocks in it.")


class Runbook(BaseModel):
    story_id: str | None = Field(default=None,
                                 description="`PE-12` from the title `# PE-12: Gateway bootstrap`.")
    title: str | None = Field(default=None, description="The title after the story ID.")
    title_line: int | None = Field(default=None, description="Line of the `#` title.")
    status: str | None = Field(
        default=None,
        description="The status word, upper case: `Status: PROPOSED  <-- ...` -> `PROPOSED`.",
    )
    status_text: str | None = Field(default=None, description="Everything after `Status:`.")
    status_line: int | None = Field(default=None, description="Line of `Status:`.")
    sections: list[Section] = Field(default_factory=list,
                                    description="Every heading's section, in order.")
    checklist: list[ChecklistItem] = Field(default_factory=list,
                                           description="Every `- [ ]`/`- [x]` item, in order.")
    changes: list[FileChange] = Field(
        default_factory=list,
        description="`[MODIFY]`/`[NEW]`/`[DELETE]` file entries under Proposed Changes.",
    )
    rollback: RollbackProcedure | None = Field(
        default=None,
        description="How to undo the change: a section whose heading names rollback, revert or "
        "back-out, else a `Rollback:` line; None when the runbook has neither.",
    )

    def section(self, key: str) -> tuple[int, Section] | None:
        """The first section whose key is `key` (see Section.key), with its index."""
        for index, section in enumerate(self.sections):
            if section.key == key:
                return index, section
        return None
