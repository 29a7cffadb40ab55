"""Shared by the YAML/JSON loaders: parse with positions, validate into a model.

A validation error is reported at the line of the offending key, with
pydantic's message, so "jobs.build.steps must be a list" points at `steps:`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.yaml_source import load_yaml

M = TypeVar("M", bound=BaseModel)

# pydantic names the union member it tried in `loc` ("str", "list[str]"...): not part of the path
_UNION_TAGS = ("str", "list", "dict", "bool", "int", "float", "function")


def parse_yaml(source: Source, *, multi: bool = False) -> tuple[Any, dict[JsonPath, Span]]:
    return load_yaml(source.text, source.path, multi=multi)


def validate(model_type: type[M], data: Any, spans: dict[JsonPath, Span], path: str,
             what: str) -> M:
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ParseError(path, f"{what} must be a mapping at the top level, found {found}")
    try:
        return model_type.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc: JsonPath = tuple(p for p in error["loc"] if isinstance(p, (str, int)))
        # pydantic appends the union member tried (`str`, `list[str]`) to loc; drop what's not in the file
        while loc and loc not in spans:
            loc = loc[:-1]
        span = SourceMap(spans).locate(loc)
        dotted = ".".join(str(p) for p in error["loc"] if not str(p).startswith(_UNION_TAGS))
        raise ParseError(path, f"{what}: {dotted or 'document'}: {error['msg']}",
                         span.line, span.column) from None


def structured_document(source: Source, model_type: type[BaseModel], what: str) -> Document:
    data, spans = parse_yaml(source)
    model = validate(model_type, data, spans, source.path, what)
    return Document(kind=source.kind, path=source.path, model=model,
                    source_map=SourceMap(spans), text=source.text, raw=data)
