"""Implementation runbooks (seed 004) -> `Runbook`, every node located by markdown-it's line maps."""

from __future__ import annotations

import re

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath
from pe_policy.loaders import Source, refuse_empty
from pe_policy.loaders.markdown_source import (
    Block,
    MarkdownDocument,
    Section,
    parse_markdown,
    section_spans,
)
from pe_policy.models import markdown as md
from pe_policy.models.runbook import ChecklistItem, FileChange, RollbackProcedure, Runbook

_TITLE = re.compile(r"^\s*([A-Z][A-Z0-9]*-\d+)\s*(?::|\u2014|\u2013|\s-\s)\s*(.*)$")
_STATUS = re.compile(r"^\s*status\s*:\s*(.*)$", re.IGNORECASE)
_STATUS_WORD = re.compile(r"[A-Za-z][A-Za-z_-]*")
_ACTION = re.compile(r"^\s*\[(MODIFY|NEW|DELETE)\]\s*(.*)$", re.IGNORECASE | re.DOTALL)
_ROLLBACK_HEADING = re.compile(r"\b(?:roll[\s-]?back|revert(?:ing)?|back[\s-]?out|undo)\b",
                               re.IGNORECASE)
_ROLLBACK_LABEL = re.compile(
    r"^\s*(?:roll[\s-]?back|revert|back[\s-]?out)"
    r"(?:\s+(?:plan|procedure|steps|strategy))?\s*:\s*(\S.*)$",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z][\w-]*)")
_BRACKETS = re.compile(r"^\[(.*)\]$")
_INLINE_LINK = re.compile(r"^\[[^\]]*\]\(\s*<?([^)\s>]+)")

PROPOSED_CHANGES = "proposed changes"


def _is_change(block: Block) -> bool:
    return block.kind in ("heading", "item", "paragraph") and bool(_ACTION.match(block.text))


def _section_model(section: Section) -> md.Section:
    has_content = any(b.is_content or (b.kind == "heading" and _is_change(b))
                      for b in section.blocks)
    return md.Section(
        heading=section.heading, key=section.key, level=section.level, line=section.line,
        end_line=section.end_line, empty=not has_content,
        placeholder=section.placeholder() if has_content else None,
    )


def _title(doc: MarkdownDocument) -> Section | None:
    for section in doc.sections:
        if section.level == 1:
            return section
    return None


def _status(doc: MarkdownDocument) -> tuple[str | None, str | None, int | None]:
    """The `Status:` line between the title and the first sub-heading (seed 004's place)."""
    for block in doc.blocks:
        if block.kind == "heading" and block.level >= 2:
            break
        if block.kind not in ("paragraph", "item"):
            continue
        for line, text in block.text_lines():
            match = _STATUS.match(text)
            if match:
                value = match.group(1).strip()
                word = _STATUS_WORD.search(value)
                return (word.group(0).upper() if word else None), value, line
    return None, None, None


def _change(doc: MarkdownDocument, source: Source, block: Block,
            component: str | None) -> FileChange | None:
    match = _ACTION.match(block.text)
    if match is None:
        return None
    rest = match.group(2).strip()
    code = [c for c in block.code if not _ACTION.match(c)]
    if block.links:
        written = block.links[0]
    elif code:
        written = code[0]
    elif rest:
        # a link markdown-it refused to make one (`file://` targets): take its target anyway
        link = _INLINE_LINK.match(rest)
        written = link.group(1) if link else rest.split()[0].strip("`*_,;")
    else:
        return None
    path = md.clean_reference(written)
    if not path:
        return None
    candidates = [] if path.startswith("/") else md.candidate_paths(source.path, path)
    return FileChange(action=match.group(1).upper(), path=path, line=block.line,
                      component=component, candidates=candidates)


def _changes(doc: MarkdownDocument, source: Source) -> list[FileChange]:
    section = doc.section(lambda key: key == PROPOSED_CHANGES)
    if section is None:
        return []
    changes: list[FileChange] = []
    component: str | None = None
    for block in section.blocks:
        if block.kind == "heading" and not _is_change(block):
            bracketed = _BRACKETS.match(block.text.strip())
            component = (bracketed.group(1) if bracketed else block.text).strip() or None
            continue
        if _is_change(block):
            change = _change(doc, source, block, component)
            if change is not None:
                changes.append(change)
    return changes


def _rollback(doc: MarkdownDocument) -> RollbackProcedure | None:
    found: list[Section] = [
        s for s in doc.sections
        if s.level >= 2 and _ROLLBACK_HEADING.search(s.heading) and not _ACTION.match(s.heading)
    ]
    if found:
        section = next((s for s in found if any(b.is_content for b in s.blocks)), found[0])
        content = [b for b in section.blocks if b.is_content]
        return RollbackProcedure(
            heading=section.heading, line=section.line, end_line=section.end_line,
            empty=not content, placeholder=section.placeholder(), steps=len(content),
        )
    for block in doc.blocks:
        if block.kind not in ("paragraph", "item"):
            continue
        for line, text in block.text_lines():
            match = _ROLLBACK_LABEL.match(text)
            if match:
                value = match.group(1).strip()
                return RollbackProcedure(
                    heading=None, line=line, end_line=block.end_line, empty=False,
                    placeholder=value if md.placeholder_text(value) else None, steps=1,
                )
    return None


def _box_span(doc: MarkdownDocument, line: int) -> Span:
    text = doc.lines[line - 1] if 0 < line <= len(doc.lines) else ""
    column = text.find("[")
    return Span(line, column + 1, line, column + 4) if column >= 0 else doc.line_span(line)


def load(source: Source) -> Document:
    refuse_empty(source, "runbook", "`# <STORY-ID>: <Title>` and a `Status:` line")
    doc = parse_markdown(source.text, source.path)
    spans: dict[JsonPath, Span] = section_spans(doc)

    story_id = title = None
    title_line: int | None = None
    heading = _title(doc)
    if heading is not None:
        title_line = heading.line
        match = _TITLE.match(heading.heading)
        story_id, title = (match.group(1), match.group(2).strip() or None) if match else (
            None, heading.heading or None)
        for key in ((), ("story_id",), ("title",), ("title_line",)):
            spans[key] = doc.line_span(heading.line)

    status, status_text, status_line = _status(doc)
    if status_line is not None:
        for key in (("status",), ("status_text",), ("status_line",)):
            spans[key] = doc.line_span(status_line)

    checklist: list[ChecklistItem] = []
    for block in doc.blocks:
        if block.kind != "item" or block.checked is None:
            continue
        top = doc.top_section(block.line)
        spans[("checklist", len(checklist))] = _box_span(doc, block.line)
        checklist.append(ChecklistItem(
            text=" ".join(block.text.split()), checked=block.checked, line=block.line,
            mentions=_MENTION.findall(block.text), section=top.key if top else None,
        ))

    changes = _changes(doc, source)
    for index, change in enumerate(changes):
        spans[("changes", index)] = doc.line_span(change.line)

    rollback = _rollback(doc)
    if rollback is not None:
        start = doc.line_span(rollback.line)
        spans[("rollback",)] = Span(rollback.line, start.column, rollback.end_line, None)

    model = Runbook(
        story_id=story_id, title=title, title_line=title_line,
        status=status, status_text=status_text, status_line=status_line,
        sections=[_section_model(s) for s in doc.sections],
        checklist=checklist, changes=changes, rollback=rollback,
    )
    return Document(kind=source.kind, path=source.path, model=model,
                    source_map=SourceMap(spans), text=source.text)
