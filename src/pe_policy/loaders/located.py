"""A source map from a model whose nodes carry their own `line` (migrations, coverage).

Such loaders record positions while parsing (an `ast` node, a SAX locator), so
the map is read back off the model's JSON form: the paths are then exactly the
paths into `doc.input` that rules name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath
from pe_policy.loaders import Source


def spans_of(data: Any) -> dict[JsonPath, Span]:
    """A span for every mapping in `data` that has an integer `line` (iterative walk)."""
    spans: dict[JsonPath, Span] = {}
    stack: list[tuple[JsonPath, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            line = node.get("line")
            if isinstance(line, int) and not isinstance(line, bool) and line > 0:
                spans[path] = Span(line, node.get("column"), node.get("end_line"))
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), value) for index, value in enumerate(node))
    return spans


def located_document(source: Source, model: BaseModel,
                     extra: dict[JsonPath, Span] | None = None) -> Document:
    """A Document whose source map comes from the model's own `line` fields (plus `extra`)."""
    dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    spans = spans_of(dumped)
    spans.update(extra or {})
    doc = Document(kind=source.kind, path=source.path, model=model,
                   source_map=SourceMap(spans), text=source.text)
    doc.__dict__["input"] = dumped  # what `Document.input` would compute: reuse it
    return doc
