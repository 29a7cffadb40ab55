"""Reading a tool's JSON report into a normalized model, with positions on demand.

Reports (Trivy, npm audit, coverage.json) are parsed by `json` (fast); their
positions come from `generic.json_positions` only when needed: to place a
finding, or a ParseError for a value of the wrong type.  Rules see the
normalized model, so `remap` ties each model path to the report entry it came
from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pe_policy.document import SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.generic import json_positions, parse_json


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


class JsonReader:
    """Typed access to a parsed report; a value of the wrong type is a ParseError at its line."""

    def __init__(self, source: Source, what: str) -> None:
        self.source = source
        self.what = what
        self.positions = json_positions(source)
        self.data = parse_json(source)

    def fail(self, path: JsonPath, message: str) -> ParseError:
        span = self.positions.locate(path)
        where = ".".join(str(p) for p in path) or "document"
        return ParseError(self.source.path, f"{self.what}: {where}: {message}", span.line,
                          span.column)

    def obj(self, value: Any, path: JsonPath, *, optional: bool = True) -> dict[str, Any]:
        if value is None and optional:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, found {_type_name(value)}")
        return value

    def arr(self, value: Any, path: JsonPath) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected an array, found {_type_name(value)}")
        return value

    def text(self, value: Any, path: JsonPath) -> str | None:
        """A scalar as text (numbers are IDs too); empty string → None."""
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            raise self.fail(path, f"expected a string, found {_type_name(value)}")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def texts(self, value: Any, path: JsonPath) -> list[str]:
        out = []
        for index, item in enumerate(self.arr(value, path)):
            text = self.text(item, (*path, index))
            if text is not None:
                out.append(text)
        return out

    def number(self, value: Any, path: JsonPath, *, optional: bool = True) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(path, f"expected a number, found {_type_name(value)}")
        return float(value)

    def remap(self, links: Mapping[JsonPath, JsonPath]) -> SourceMap:
        """A lazy source map: model path → the span of the report path it came from."""

        def resolve() -> dict[JsonPath, Span]:
            return {model_path: self.positions.locate(report_path)
                    for model_path, report_path in links.items()}

        return SourceMap(resolver=resolve)
