"""A loaded input: its kind, where it came from, its typed model and where each node sits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from pe_policy.findings import JsonPath, Location, ParseError


@dataclass(frozen=True)
class Span:
    """1-based line and column of a node's start, and where it ends."""

    line: int
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    path: str | None = None  # another file (e.g. the .tf block behind a plan resource)


class SourceMap:
    """JSON path into the document's input → source span.

    Lookups fall back to the nearest located ancestor, so a rule may point at any
    node and still get the closest real line.  `resolver` lets a loader defer the
    (costly) position scan until a finding actually needs it.
    """

    def __init__(
        self,
        spans: dict[JsonPath, Span] | None = None,
        resolver: Callable[[], dict[JsonPath, Span]] | None = None,
    ) -> None:
        self._spans = spans if spans is not None else {}
        self._resolver = resolver

    @property
    def spans(self) -> dict[JsonPath, Span]:
        if self._resolver is not None:
            resolved = self._resolver()
            self._resolver = None
            resolved.update(self._spans)
            self._spans = resolved
        return self._spans

    def __setitem__(self, path: JsonPath, span: Span) -> None:
        self._spans[tuple(path)] = span

    def __contains__(self, path: object) -> bool:
        return path in self.spans

    def __len__(self) -> int:
        return len(self.spans)

    def get(self, path: Iterable[str | int]) -> Span | None:
        return self.spans.get(tuple(path))

    def locate(self, path: Iterable[str | int]) -> Span:
        """The span of `path`, or of its nearest located ancestor, or line 1."""
        key = tuple(path)
        spans = self.spans
        while True:
            span = spans.get(key)
            if span is not None:
                return span
            if not key:
                return Span(1)
            key = key[:-1]


@dataclass
class Document:
    """One loaded input (a file, or a Terraform module of several) as rules see it: its typed
    model, and the source map that turns a JSON path in it back into a line of the file."""

    kind: str
    path: str  # relative to the repository root, POSIX style
    model: BaseModel
    source_map: SourceMap = field(default_factory=SourceMap)
    text: str | None = None  # kept for code frames and inline suppressions
    raw: Any = None  # the parsed data, when the model mirrors it key for key
    # `input` as JSON text when the loader has it verbatim (a plan: the file itself): handed to
    # the Rego engine as is, so a 40 MB plan is never re-serialised (nor, in the isolated
    # evaluation worker, its millions of objects touched and copied).
    input_json: str | None = None
    # files this document covers that could not be loaded (a Terraform module is one
    # document of several files): each is reported as a PE-PARSE at its own file
    problems: list[ParseError] = field(default_factory=list)
    files: tuple[str, ...] = ()  # every file it covers, when more than `path` (a module)
    # what repository-level rules need of this document, by their package (their
    # `document_facts`, evaluated with its other rules: engine/repository.py)
    facts: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def input(self) -> Any:
        """What Rego sees, keyed the way the source map is.

        The parsed data itself when the loader kept it (workflows, plans: paths in
        the file are paths in the input), else the model as JSON.
        """
        if self.raw is not None:
            return self.raw
        return self.model.model_dump(mode="json", by_alias=True, exclude_none=True)

    @cached_property
    def lines(self) -> list[str]:
        return (self.text or "").splitlines()

    def checked(self) -> CheckedFile:
        return CheckedFile(self.path, self.kind, self.text, self.facts)

    def location(self, path: Iterable[str | int] = (), snippet: str | None = None) -> Location:
        """Where `path` is; with `snippet`, the exact line inside the node that holds it.

        A multi-line `run:` block is one node, but the finding belongs on the
        line with the offending expression, so rules may name the text they mean.
        """
        span = self.source_map.locate(path)
        if snippet and span.path is None and self.text is not None:
            found = self._find_in_span(span, snippet)
            if found is not None:
                line, column, width = found
                return Location(self.path, line, column, line, column + width)
        return Location(
            path=span.path or self.path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )

    def _find_in_span(self, span: Span, snippet: str) -> tuple[int, int, int] | None:
        lines = self.lines
        last = min(len(lines), span.end_line or span.line)
        snippet_lines = [part.strip() for part in snippet.strip().splitlines()]
        first_line = snippet_lines[0] if snippet_lines else ""
        if not first_line:
            return None
        fallback: tuple[int, int, int] | None = None
        for number in range(span.line, last + 1):
            column = lines[number - 1].find(first_line)
            if column < 0:
                continue
            # a multi-line snippet (`${{\n  github.head_ref }}`): its other lines must follow
            if all(number - 1 + i < len(lines) and part in lines[number - 1 + i]
                   for i, part in enumerate(snippet_lines[1:], start=1)):
                return number, column + 1, len(first_line)
            fallback = fallback or (number, column + 1, len(first_line))
        return fallback


@dataclass
class CheckedFile:
    """What reporting needs of a checked document: its rules have run, so no model.

    The worker that loads and evaluates a document (runner.py) sends back only this,
    never the model.
    """

    path: str
    kind: str
    text: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # Document.facts

    @cached_property
    def lines(self) -> list[str]:
        return (self.text or "").splitlines()

    def location(self) -> Location:
        """The file as a whole (a rule that failed on it, a worker that died on it)."""
        return Location(self.path, 1)
