"""conftest's inputs: which files, parsed by which parser, into which documents.

conftest names a file as it was given (or as the directory walk reached it), picks its
parser from the extension (`--parser` for all of them), and when the parsed value is a list
(a multi-document YAML file, a YAML or JSON file whose top level is an array) tests each
element on its own, reporting them together under the file.  The same happens here; each
document keeps the positions of its nodes, so a result that names a `path` has a line.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError

STDIN = "-"
# the parsers pe-policy has, by conftest's names
PARSERS = ("yaml", "json", "hcl2")
# conftest's other parsers: a file of one of these is conftest's, but not pe-policy's
OTHER_PARSERS = ("codeowners", "cue", "cyclonedx", "dockerfile", "edn", "groovy", "hcl1",
                 "hocon", "ignore", "ini", "jsonc", "jsonnet", "nginx", "properties", "spdx",
                 "textproto", "toml", "vcl", "xml", "dotenv")
_EXTENSION_PARSERS = {"yml": "yaml", "yaml": "yaml", "json": "json", "hcl": "hcl2", "tf": "hcl2",
                      "tfvars": "hcl2"}
_OTHER_EXTENSIONS = {"gitignore": "ignore", "dockerignore": "ignore", "env": "dotenv",
                     "textproto": "textproto", "textpb": "textproto", "pbtxt": "textproto"}


class InputError(Exception):
    """What conftest stops on before testing anything (no files, an unknown parser)."""


@dataclass
class Configuration:
    """One input as conftest has it: its name and its documents (several for a list)."""

    path: str
    value: Any
    documents: list[Document] = field(default_factory=list)


def parser_for(path: str, forced: str | None) -> str | None:
    """conftest's `NewFromPath`: the parser's name, or None when conftest has none for it."""
    if forced:
        return forced
    if path == STDIN:
        return "yaml"
    name = PurePosixPath(path).name.lower()
    suffix = PurePosixPath(name).suffix[1:]
    if name == "dockerfile" or name.startswith("dockerfile.") or suffix == "dockerfile":
        return "dockerfile"
    if suffix in _EXTENSION_PARSERS:
        return _EXTENSION_PARSERS[suffix]
    if name == ".env" or name.startswith(".env."):
        return "dotenv"
    if name == "nginx.conf":
        return "nginx"
    if name == "jenkinsfile" or name.startswith("jenkinsfile."):
        return "groovy"
    if name == "codeowners":
        return "codeowners"
    if suffix in _OTHER_EXTENSIONS:
        return _OTHER_EXTENSIONS[suffix]
    return suffix if suffix in OTHER_PARSERS or suffix in PARSERS else None


def check_parser(name: str) -> None:
    if name not in PARSERS and name not in OTHER_PARSERS:
        raise InputError(f"unknown parser: {name} (valid: {', '.join(sorted((*PARSERS, *OTHER_PARSERS)))})")


def file_list(given: Sequence[str], ignore: str | None) -> list[str]:
    """conftest's `parseFileList`: `""` is skipped (never the current directory), `-` is
    standard input, a directory is walked for the files conftest can parse."""
    try:
        pattern = re.compile(ignore) if ignore else None
    except re.error as exc:
        raise InputError(f"--ignore: invalid regular expression: {exc}") from None
    files: list[str] = []
    for name in given:
        if name == "":
            continue
        if name == STDIN:
            files.append(STDIN)
            continue
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file or directory")
        if path.is_dir():
            files.extend(_walk(name, pattern))
        elif pattern is None or not pattern.search(name):
            files.append(name)
    if not files:
        raise InputError("no files found")
    return files


def _walk(directory: str, pattern: re.Pattern[str] | None) -> list[str]:
    found: list[str] = []
    for current, dirs, names in os.walk(directory, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(current, name)
            if pattern is not None and pattern.search(path):
                continue
            if parser_for(path, None) is not None:
                found.append(path)
    return found


def _yaml_parts(text: str) -> list[tuple[str, int]]:
    """conftest's split of a YAML stream: (text, first line) at each `\\n---\\n`."""
    newline = "\r\n" if "\r\n" in text else "\n"
    separator = f"{newline}---{newline}"
    parts = text.split(separator)
    if text.startswith("%") and len(parts) > 1:
        if len(parts) <= 2:
            return [(text, 0)]
        parts = [parts[0] + separator + parts[1], *parts[2:]]
    out: list[tuple[str, int]] = []
    line = 0
    for part in parts:
        out.append((part, line))
        line += part.count("\n") + 2
    return out


def _sub_map(spans: dict[JsonPath, Span], prefix: JsonPath) -> dict[JsonPath, Span]:
    size = len(prefix)
    return {key[size:]: span for key, span in spans.items() if key[:size] == prefix}


def _document(path: str, value: Any, spans: dict[JsonPath, Span], text: str | None) -> Document:
    from pe_policy.models.generic import GenericDocument

    return Document(kind="generic", path=path, model=GenericDocument(value),
                    source_map=SourceMap(spans), text=text, raw=value)


def parse_text(text: str, path: str, parser: str) -> Configuration:
    """One input's value and documents; ParseError (with line) when it does not parse."""
    from pe_policy.loaders.yaml_source import load_yaml

    spans: dict[JsonPath, Span]
    value: Any
    if parser == "hcl2":
        from pe_policy.conftest.hcl2json import convert

        value, spans = convert(text, path)
    elif parser == "json":
        from pe_policy.loaders import Source
        from pe_policy.loaders.generic import json_positions, parse_json

        source = Source(path, text, "generic")
        value = parse_json(source)
        spans = json_positions(source).spans
    elif parser == "yaml":
        parts = _yaml_parts(text)
        if len(parts) == 1:
            value, spans = load_yaml(text, path)
        else:
            values: list[Any] = []
            spans = {}
            for index, (part, offset) in enumerate(parts):
                part_value, part_spans = load_yaml(part, path, line_offset=offset)
                values.append(part_value)
                spans[(index,)] = Span(offset + 1)
                spans.update({(index, *key): span for key, span in part_spans.items()})
            value = values
    else:
        raise ParseError(path, f"pe-policy has no {parser} parser (conftest's); it parses "
                         f"{', '.join(PARSERS)}: see the README's conftest differences")
    config = Configuration(path, value)
    if isinstance(value, list):
        config.documents = [_document(path, item, _sub_map(spans, (index,)), text)
                            for index, item in enumerate(value)]
        for index, doc in enumerate(config.documents):
            if (index,) in spans:
                doc.source_map.spans.setdefault((), spans[(index,)])
    else:
        config.documents = [_document(path, value, spans, text)]
    return config


def read_input(path: str, parser: str | None, max_bytes: int) -> Configuration:
    """Read and parse one input (`-`: standard input); ParseError when it cannot be."""
    from pe_policy.loaders import read_text

    chosen = parser_for(path, parser)
    if chosen is None:
        raise ParseError(path, "conftest has no parser for this file; pass --parser "
                         f"({', '.join(PARSERS)})")
    if path == STDIN:
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ParseError(path, "standard input is not valid UTF-8") from None
    else:
        text = read_text(Path(path), path, max_bytes)
    return parse_text(text, path, chosen)


def combined(configurations: Sequence[Configuration]) -> Configuration:
    """conftest's `CombineConfigurations`: one `{path, contents}` per document, by path."""
    entries: list[tuple[str, Any, Document]] = []
    for config in configurations:
        for doc in config.documents:
            entries.append((config.path, doc.input, doc))
    entries.sort(key=lambda entry: entry[0])
    value = [{"path": path, "contents": contents} for path, contents, _doc in entries]
    spans: dict[JsonPath, Span] = {}
    for index, (path, _contents, doc) in enumerate(entries):
        spans[(index,)] = Span(1, path=path)
        for key, span in doc.source_map.spans.items():
            inner: JsonPath = (index, "contents", *key)
            spans[inner] = Span(span.line, span.column, span.end_line,
                                                  span.end_column, span.path or path)
    return Configuration("Combined", value, [_document("Combined", value, spans, None)])
