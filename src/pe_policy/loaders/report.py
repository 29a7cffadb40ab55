"""Deployment reports and QA reports (seed 003): YAML front matter plus markdown sections.

The front matter is parsed with `load_yaml(..., line_offset=...)`, so
`("front_matter", "status")` points at the `status:` line of the file; tables
become rows with their lines and cell columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath
from pe_policy.loaders import Source, refuse_empty
from pe_policy.loaders.markdown_source import (
    Cell,
    MarkdownDocument,
    Section,
    Table,
    key_values,
    parse_markdown,
    section_spans,
)
from pe_policy.models import markdown as md
from pe_policy.models.report import (
    DeploymentReport,
    MarkdownReport,
    QAReport,
    RollbackStatus,
    Summary,
    SummaryField,
    TableRow,
    WikiLink,
)

_EDGE_SYMBOLS = re.compile(r"^[\W_]+|[\W_]+$")
_STATUS_HEADERS = ("status", "result", "outcome")
_NAME_HEADERS = ("action", "step", "check", "test", "suite", "name")
_LINK_LIKE = re.compile(r"^\s*(?:\[\[.*\]\]|\[[^\]]*\]\(.*\)|\S+\.md)\s*$", re.IGNORECASE)
_YES = frozenset({"yes", "y", "true"})
_NO = frozenset({"no", "n", "false", "none"})
_FIRST_WORD = re.compile(r"^\W*([A-Za-z]+)\b\W*(.*)$", re.DOTALL)
_REASON_KEYS = frozenset({"if yes", "reason", "details", "cause", "why", "rollback reason"})


def normalise_status(text: str) -> str:
    """`✅ **PASS**` -> `PASS`, `-` -> ``; inner spaces kept."""
    return _EDGE_SYMBOLS.sub("", text.strip()).upper()


def _cell_span(row_line: int, cell: Cell | None, fallback: Span) -> Span:
    if cell is None or cell.column is None:
        return fallback
    return Span(row_line, cell.column, row_line, cell.end_column)


def _rows(doc: MarkdownDocument, table: Table | None, prefix: str,
          spans: dict[JsonPath, Span]) -> list[TableRow]:
    if table is None:
        return []
    names: list[str] = []
    for index, cell in enumerate(table.header):
        name = cell.text or f"column {index + 1}"
        names.append(name if name not in names else f"{name} ({index + 1})")
    keys = [md.heading_key(n) for n in names]
    status_at = next((keys.index(k) for k in _STATUS_HEADERS if k in keys), len(names) - 1)
    name_at = next((keys.index(k) for k in _NAME_HEADERS if k in keys), 0)
    rows: list[TableRow] = []
    for index, row in enumerate(table.rows):
        cells = row.cells
        whole = doc.line_span(row.line)
        spans[(prefix, index)] = whole
        status_cell = cells[status_at] if 0 <= status_at < len(cells) else None
        spans[(prefix, index, "status")] = _cell_span(row.line, status_cell, whole)
        name_cell = cells[name_at] if name_at < len(cells) else None
        spans[(prefix, index, "name")] = _cell_span(row.line, name_cell, whole)
        for name, cell in zip(names, cells, strict=False):
            spans[(prefix, index, "cells", name)] = _cell_span(row.line, cell, whole)
        rows.append(TableRow(
            name=name_cell.text if name_cell is not None else "",
            status=normalise_status(status_cell.text) if status_cell is not None else None,
            cells={name: cell.text for name, cell in zip(names, cells, strict=False)},
            line=row.line,
        ))
    return rows


def _table(doc: MarkdownDocument, section_match: Callable[[str], bool],
           header_match: Callable[[list[str]], bool]) -> Table | None:
    """The first table in a matching section, else the first whose headers match."""
    section = doc.section(section_match)
    if section is not None:
        tables = doc.tables_in(section)
        if tables:
            return tables[0]
    for table in doc.tables:
        if header_match([md.heading_key(c.text) for c in table.header]):
            return table
    return None


def _summary(doc: MarkdownDocument, spans: dict[JsonPath, Span]) -> Summary | None:
    section = doc.section(lambda key: key == "summary")
    if section is None:
        return None
    spans[("summary",)] = doc.line_span(section.line)
    summary = Summary(line=section.line)
    for line, name, value in key_values(section.blocks):
        spans[("summary", "fields", len(summary.fields))] = doc.line_span(line)
        summary.fields.append(SummaryField(name=name, value=value, line=line))
        if summary.status is None and md.heading_key(name) == "status":
            summary.status = value
            spans[("summary", "status")] = doc.line_span(line)
    return summary


def _yes_no(value: str) -> tuple[bool | None, str]:
    """(`Yes` -> True / `No` -> False / None, the text after the word)."""
    if re.match(r"^\W*yes\s*/\s*no\b", value, re.IGNORECASE):
        return None, ""  # the template's `Yes/No` left in place
    match = _FIRST_WORD.match(value)
    if match is None:
        return None, value
    word = match.group(1).lower()
    if word in _YES:
        return True, match.group(2).strip()
    if word in _NO:
        return False, match.group(2).strip()
    return None, value


def _meaningful(text: str) -> bool:
    return bool(text.strip(" -\u2014\u2013:.()")) and not md.placeholder_text(text)


def _rollback(doc: MarkdownDocument, spans: dict[JsonPath, Span]) -> RollbackStatus | None:
    section: Section | None = doc.section(lambda key: "rollback" in key or "roll back" in key)
    if section is None:
        return None
    spans[("rollback",)] = doc.line_span(section.line)
    status = RollbackStatus(line=section.line)
    labelled: tuple[int, str] | None = None
    other: tuple[int, str] | None = None
    required_rest: tuple[int, str] | None = None
    for block in section.blocks:
        if block.kind == "hr":
            break  # `---` ends the report body (seed 003 puts the persistence note below it)
        if block.kind not in ("paragraph", "item"):
            continue
        for line, text in block.text_lines():
            match = re.match(r"^\s*([^:]{1,60}?)\s*:\s*(.*)$", text)
            key = md.heading_key(match.group(1)) if match else ""
            value = match.group(2).strip() if match else text.strip()
            if match and (key == "required" or key.endswith("rollback required")):
                if status.required_text is None:
                    status.required_text = value
                    status.required, rest = _yes_no(value)
                    spans[("rollback", "required")] = doc.line_span(line)
                    spans[("rollback", "required_text")] = doc.line_span(line)
                    if rest and _meaningful(rest):
                        required_rest = (line, rest)
            elif match and key in _REASON_KEYS:
                if labelled is None and _meaningful(value):
                    labelled = (line, value)
            elif other is None and _meaningful(text):
                other = (line, text.strip())
    chosen = labelled or required_rest or other
    if chosen is not None:
        status.reason = chosen[1]
        spans[("rollback", "reason")] = doc.line_span(chosen[0])
    return status


def _links(source: Source, front: dict[str, Any] | None,
           spans: dict[JsonPath, Span]) -> dict[str, WikiLink]:
    links = (front or {}).get("links")
    if not isinstance(links, dict):
        return {}
    out: dict[str, WikiLink] = {}
    for key, value in links.items():
        raw: str | None = value if isinstance(value, str) else None
        # `qa_report: [[QA/X]]` unquoted is YAML for a nested list; read it as the link meant
        if (isinstance(value, list) and len(value) == 1 and isinstance(value[0], list)
                and len(value[0]) == 1 and isinstance(value[0][0], str)):
            raw = f"[[{value[0][0]}]]"
        if raw is None or not _LINK_LIKE.match(raw):
            continue  # an artifact location, a URL: not a document link
        out[str(key)] = md.parse_link(source.path, raw)
        span = spans.get(("front_matter", "links", key))
        if span is not None:
            spans[("links", str(key))] = span
    return out


_WHAT = {"qa_report": "QA report", "deployment_report": "deployment report"}


def load(source: Source) -> Document:
    refuse_empty(source, _WHAT[source.kind], "a `---` front matter block (unit_id, status, "
                 "...) and its `# ` title")
    doc = parse_markdown(source.text, source.path, front_matter="strict")
    spans: dict[JsonPath, Span] = section_spans(doc)
    front: dict[str, Any] | None = None
    if doc.front_matter is not None:
        front = doc.front_matter.data
        matter = doc.front_matter
        spans[("front_matter",)] = Span(matter.line, 1, matter.end_line, None)
        for path, span in matter.spans.items():
            key: JsonPath = ("front_matter", *path)
            spans[key] = span
        if doc.title is None:
            spans[()] = Span(matter.line, 1)

    common: dict[str, Any] = {
        "front_matter": front,
        "title": doc.title.heading if doc.title is not None else None,
        "summary": _summary(doc, spans),
        "sections": [
            md.Section(heading=s.heading, key=s.key, level=s.level, line=s.line,
                       end_line=s.end_line, empty=not any(b.is_content for b in s.blocks),
                       placeholder=s.placeholder())
            for s in doc.sections
        ],
        "links": _links(source, front, spans),
    }
    model: MarkdownReport
    if source.kind == "qa_report":
        results = _table(doc, lambda key: "result" in key or key.startswith("test"),
                         lambda keys: any(k in keys for k in _STATUS_HEADERS))
        model = QAReport(**common, results=_rows(doc, results, "results", spans))
    else:
        timeline = _table(doc, lambda key: "timeline" in key,
                          lambda keys: "time" in keys and "action" in keys)
        verification = _table(doc, lambda key: "verification" in key,
                              lambda keys: "check" in keys and "status" in keys)
        model = DeploymentReport(
            **common,
            timeline=_rows(doc, timeline, "timeline", spans),
            verification=_rows(doc, verification, "verification", spans),
            rollback=_rollback(doc, spans),
        )
    return Document(kind=source.kind, path=source.path, model=model,
                    source_map=SourceMap(spans), text=source.text)
