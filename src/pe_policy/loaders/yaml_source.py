"""YAML (and JSON) to plain data plus a source map, in one pass over libyaml's events.

Why not `yaml.compose`: libyaml's composer recurses in C and crashes the
process on deeply nested input, and PyYAML's 1.1 resolver turns the key `on`
(every GitHub workflow has one) into `True`.  This composer is iterative,
bounds depth and alias expansion, and resolves scalars with the YAML 1.2 core
schema, which is what GitHub Actions and most modern tools read.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import yaml

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError

MAX_DEPTH = 256
MAX_NODES = 2_000_000  # after alias expansion: a "billion laughs" file stops here
# An alias repeats text as well as nodes: one to a 500 KB string, repeated 100,000 times, is
# 50 GB for the engine.  Each alias therefore counts a node per this many characters of the
# strings (and keys) it repeats, on top of the nodes themselves.
ALIAS_CHARS_PER_NODE = 16

try:
    _Parser: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Parser = yaml.SafeLoader

_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INF = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INF = {"-.inf", "-.Inf", "-.INF"}
_NAN = {".nan", ".NaN", ".NAN"}

_TAG = "tag:yaml.org,2002:"
# the first characters of every null, boolean and number spelling above
_SPECIAL_START = frozenset("~nNtTfF0123456789+-.")


def resolve_scalar(value: str, tag: str | None, plain: bool) -> Any:
    """YAML 1.2 core schema; explicit standard tags win, unknown tags keep the text."""
    if tag and tag.startswith(_TAG):
        name = tag[len(_TAG) :]
        if name == "str":
            return value
        plain = True
    elif tag and tag != "!":
        return value  # e.g. CloudFormation's !Ref: keep the text
    if not plain:
        return value
    if value and value[0] not in _SPECIAL_START:  # most scalars: text, no regex needed
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        return float(value)
    if value in _INF:
        return math.inf
    if value in _NEG_INF:
        return -math.inf
    if value in _NAN:
        return math.nan
    return value


class _Frame:
    __slots__ = ("anchor", "chars", "is_list", "key", "key_mark", "merges", "path", "size",
                 "start", "value")

    def __init__(self, is_list: bool, path: JsonPath, start: Any, anchor: str | None) -> None:
        self.value: Any = [] if is_list else {}
        self.is_list = is_list
        self.path = path
        self.start = start
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.size = 1
        self.chars = 0  # of the strings and keys below: what an alias to this node repeats
        self.merges: list[dict[str, Any]] | None = None  # the mappings of its `<<` keys


_NO_KEY = object()
_SCALAR = yaml.ScalarEvent
_MAPPING_START = yaml.MappingStartEvent
_MAPPING_END = yaml.MappingEndEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_SEQUENCE_END = yaml.SequenceEndEvent


_new_object = object.__new__


def new_span(line: int, column: int | None, end_line: int | None, end_column: int | None) -> Span:
    """`Span(line, column, end_line, end_column)`, the same object made in a third of the time.

    Span is a frozen dataclass, whose `__init__` sets each field through
    `object.__setattr__`; the readers make one per node of every file, so this one fills
    the instance's fields directly.
    """
    span = _new_object(Span)
    fields = span.__dict__
    fields["line"] = line
    fields["column"] = column
    fields["end_line"] = end_line
    fields["end_column"] = end_column
    fields["path"] = None
    return span


def _span(start: Any, end: Any) -> Span:
    """The span of a node from libyaml's marks (0-based)."""
    return new_span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (dict, list)):
        raise TypeError("a mapping key must be a scalar")
    return str(key)


class ScalarSource(NamedTuple):
    """Where a string scalar's text sits in the file: what maps an offset in its value back."""

    start: int  # character offset in the text of the scalar's first character (quote, `|`...)
    end: int
    style: str  # '' plain, "'", '"', '|' or '>'
    expression: bool = False  # the value is a string that holds `${{`


def load_yaml(
    text: str, file_path: str, *, multi: bool = False, line_offset: int = 0,
    scalars: dict[JsonPath, ScalarSource] | None = None,
    scalar_keys: frozenset[str] = frozenset(), unique_keys: bool = False,
    irregular: set[str] | None = None,
) -> tuple[Any, dict[JsonPath, Span]]:
    """Parse `text`; return the data (a list of documents when `multi`) and its spans.

    `line_offset` shifts every line, for YAML embedded in a larger file (front matter).
    `scalars`, when given, receives the source of every string value that holds `${{` and
    of every scalar value under a key in `scalar_keys` (positions inside it: expressions;
    the text as written: `run: 0x10`).  `unique_keys`
    refuses a key repeated in one mapping, as GitHub does (YAML says a key is unique; most
    parsers keep the last).  `irregular`, when given, receives "alias", "merge" or
    "documents" when the text has an alias, a merge key or more than one document: without
    them the data is a tree of the file's own nodes, each at its path, in the file's order
    (so are `scalars`), which lets a caller read `scalars` instead of walking the data.
    Without `multi`, a file with a second document that holds anything is refused (a
    ParseError at its start), never read in part.
    Raises ParseError with the line and column of the problem.
    """
    spans: dict[JsonPath, Span] = {}
    documents: list[Any] = []
    starts: list[Any] = []  # where each document starts
    anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, nodes, characters)
    total = 0
    stack: list[_Frame] = []
    parser = _Parser(text)

    def fail(message: str, mark: Any) -> ParseError:
        line = (mark.line + 1 + line_offset) if mark is not None else 1
        column = (mark.column + 1) if mark is not None else None
        return ParseError(file_path, message, line, column)

    def too_many(mark: Any) -> ParseError:
        return fail(f"document expands to more than {MAX_NODES:,} nodes "
                    "(an alias bomb, or a file too large to check; an alias counts the nodes it "
                    f"repeats and one more per {ALIAS_CHARS_PER_NODE} characters of their text)",
                    mark)

    def repeated(key: str, mark: Any) -> ParseError:
        return fail(f"key {key!r} is already defined in this mapping "
                    "(a key may appear only once)", mark)

    def attach(value: Any, size: int, start: Any, end: Any, path: JsonPath | None = None,
               chars: int = 0) -> None:
        """Add a finished node to its parent; `path` is worked out here unless given (a key has none).

        `size` is what the node counts towards MAX_NODES, `chars` the text it holds."""
        nonlocal total
        total += size
        if total > MAX_NODES:
            raise too_many(start)
        if not stack:
            documents.append(value)
            return
        top = stack[-1]
        top.size += size
        top.chars += chars
        if isinstance(top.value, list):
            spans[(*top.path, len(top.value)) if path is None else path] = _span(start, end)
            top.value.append(value)
            return
        if top.key is _NO_KEY:
            try:
                top.key = _key_text(value)
            except TypeError as exc:
                raise fail(str(exc), start) from None
            top.key_mark = start
            return
        key = top.key
        if key == "<<" and top.key_mark is not None:
            if irregular is not None:
                irregular.add("merge")
            merged = value if isinstance(value, list) else [value]
            if top.merges is None:
                top.merges = []
            top.merges.extend(m for m in merged if isinstance(m, dict))
        else:
            if unique_keys and key in top.value:
                raise repeated(key, top.key_mark)
            spans[(*top.path, key) if path is None else path] = _span(top.key_mark, end)
            top.value[key] = value
        top.key = _NO_KEY

    try:
        parser.get_event()  # StreamStart
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is _SCALAR:  # the common case first, by exact type: this loop is the loader's hot spot
                text_value = event.value
                style = event.style
                tag = event.tag
                if tag is None and (style or (text_value and text_value[0] not in _SPECIAL_START)):
                    value: Any = text_value  # quoted, a block, or plain text: no resolving
                else:
                    value = resolve_scalar(text_value, tag, bool(event.implicit[0]) and not style)
                if event.anchor:
                    anchors[event.anchor] = (value, 1, len(text_value))
                if not stack:
                    attach(value, 1, event.start_mark, event.end_mark, chars=len(text_value))
                    continue
                # attach(), inlined for scalars: one call less per node
                total += 1
                if total > MAX_NODES:
                    raise too_many(event.start_mark)
                top = stack[-1]
                top.size += 1
                top.chars += len(text_value)
                if top.is_list:
                    items = top.value
                    where: Any = (*top.path, len(items))
                    if scalars is not None and isinstance(value, str) and "${{" in value:
                        scalars[where] = ScalarSource(event.start_mark.index,
                                                      event.end_mark.index, style or "", True)
                    spans[where] = _span(event.start_mark, event.end_mark)
                    items.append(value)
                    continue
                key = top.key
                if key is _NO_KEY:
                    if type(value) is str:
                        top.key = value
                    else:
                        try:
                            top.key = _key_text(value)
                        except TypeError as exc:
                            raise fail(str(exc), event.start_mark) from None
                    top.key_mark = event.start_mark
                    continue
                top.key = _NO_KEY
                if key == "<<":
                    if irregular is not None:
                        irregular.add("merge")
                    continue  # a merge of a scalar: nothing to merge
                where = (*top.path, key)
                if scalars is not None:
                    expression = isinstance(value, str) and "${{" in value
                    if expression or key in scalar_keys:
                        scalars[where] = ScalarSource(event.start_mark.index,
                                                      event.end_mark.index, style or "", expression)
                mapping = top.value
                if unique_keys and key in mapping:
                    raise repeated(key, top.key_mark)
                spans[where] = _span(top.key_mark, event.end_mark)
                mapping[key] = value
            elif event is None or kind is yaml.StreamEndEvent:
                break
            elif kind is yaml.DocumentStartEvent:
                starts.append(event.start_mark)
                if documents and irregular is not None:
                    irregular.add("documents")
            elif kind is yaml.DocumentEndEvent:
                continue
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
                if not stack:
                    path: JsonPath = (len(documents),) if multi else ()
                elif stack[-1].is_list:
                    path = (*stack[-1].path, len(stack[-1].value))
                elif stack[-1].key is _NO_KEY:
                    raise fail("a mapping key must be a scalar", event.start_mark)
                else:
                    path = (*stack[-1].path, stack[-1].key)
                stack.append(_Frame(kind is _SEQUENCE_START, path, event.start_mark,
                                    event.anchor))
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                frame = stack.pop()
                value = frame.value
                if stack and not frame.merges and not frame.anchor and total + frame.size <= MAX_NODES:
                    # attach(), inlined for the common container: no merge, no anchor, in a
                    # sequence or under a key that is not `<<`
                    top = stack[-1]
                    if top.is_list or (top.key is not _NO_KEY and top.key != "<<"):
                        if not top.is_list and unique_keys and top.key in top.value:
                            raise repeated(top.key, top.key_mark)
                        total += frame.size
                        top.size += frame.size
                        top.chars += frame.chars
                        spans[frame.path] = _span(frame.start if top.is_list else top.key_mark,
                                                  event.end_mark)
                        if top.is_list:
                            top.value.append(value)
                        else:
                            top.value[top.key] = value
                            top.key = _NO_KEY
                        continue
                if frame.merges:
                    merged: dict[str, Any] = {}
                    for source in reversed(frame.merges):
                        merged.update(source)
                    merged.update(value)
                    value = merged
                if frame.anchor:
                    anchors[frame.anchor] = (value, frame.size, frame.chars)
                attach(value, frame.size, frame.start, event.end_mark, frame.path,
                       chars=frame.chars)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise fail(f"unknown alias *{event.anchor}", event.start_mark)
                value, size, chars = anchors[event.anchor]
                if irregular is not None:
                    irregular.add("alias")
                attach(value, size + chars // ALIAS_CHARS_PER_NODE, event.start_mark,
                       event.end_mark, chars=chars)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise fail(f"invalid YAML: {problem}", mark) from None
    except yaml.YAMLError as exc:
        raise ParseError(file_path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ParseError(file_path, f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        parser.dispose()
    if not multi:  # one document is read: a later one with content would go unchecked
        later = next((i for i in range(1, len(documents)) if documents[i] is not None), None)
        if later is not None:
            raise fail("a second YAML document starts here (after `---`): a file of this kind "
                       "is one document, so this one would go unchecked; remove the `---` or "
                       "split the file", starts[later] if later < len(starts) else None)

    if line_offset:
        spans = {
            k: Span(
                s.line + line_offset,
                s.column,
                None if s.end_line is None else s.end_line + line_offset,
                s.end_column,
            )
            for k, s in spans.items()
        }
    if multi:
        return documents, spans
    return (documents[0] if documents else None), spans
