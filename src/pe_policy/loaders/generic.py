"""Any YAML or JSON file, as parsed, with positions.

JSON is decoded by `json` (fast, exact); its positions come from the YAML
parser (JSON is YAML) only if a finding needs a line.
"""

from __future__ import annotations

import json
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.yaml_source import load_yaml
from pe_policy.models.generic import GenericDocument


def json_positions(source: Source) -> SourceMap:
    """A source map computed on first use; empty if the positions scan itself fails."""

    def resolve() -> dict[JsonPath, Span]:
        try:
            return load_yaml(source.text, source.path)[1]
        except ParseError:
            return {}

    return SourceMap(resolver=resolve)


def parse_json(source: Source) -> Any:
    return parse_json_text(source.text, source.path)


def parse_json_text(text: str, path: str) -> Any:
    """`json.loads(text)`; what it refuses is a ParseError of `path` (with line and column
    where `json` names them), never a stack trace."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise ParseError(path, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # a number of more digits than Python converts (4,300)
        raise ParseError(path, f"invalid JSON: {exc}") from None


def load(source: Source) -> Document:
    if source.path.lower().endswith(".json"):
        data = parse_json(source)
        source_map = json_positions(source)
    else:
        multi = "\n---" in source.text
        data, spans = load_yaml(source.text, source.path, multi=multi)
        if multi and isinstance(data, list) and len(data) == 1:
            data, spans = load_yaml(source.text, source.path)
        source_map = SourceMap(spans)
    return Document(kind=source.kind, path=source.path, model=GenericDocument(data),
                    source_map=source_map, text=source.text,
                    raw=data if data is not None else {})
