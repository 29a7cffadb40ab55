"""`rego.metadata.*` for regorus, supplied by pe-policy so policies stay standard.

Policies must run unchanged on OPA and conftest, so nothing is avoided in the
policy: regorus has no `rego.metadata.rule()` / `rego.metadata.chain()`.
pe-policy reads the `# METADATA` annotations itself, so each call is replaced
by the annotation it would return, as a JSON literal (same line, so error
positions keep their line numbers).  OPA has both built-ins and gets the
policy unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from pe_policy.engine.rego import metadata_blocks

_METADATA_CALL = re.compile(r"\brego\.metadata\.(rule|chain)\s*\(\s*\)")
_RULE_START = re.compile(r"^(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_NOT_RULES = frozenset({"package", "import"})


def blank_non_code(text: str) -> str:
    """`text` with strings and comments blanked out (same length, same line breaks).

    Lets a rewrite (here, and the sandbox's) match calls in code only, never in a message.
    """
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif ch == '"':
            out[i] = " "
            i += 1
            while i < n and text[i] != '"' and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n:
                    out[i] = " "
                    i += 1
                out[i] = " "
                i += 1
            if i < n and text[i] == '"':
                out[i] = " "
                i += 1
        elif ch == "`":
            out[i] = " "
            i += 1
            while i < n and text[i] != "`":
                if text[i] != "\n":
                    out[i] = " "
                i += 1
            if i < n:
                out[i] = " "
                i += 1
        else:
            i += 1
    return "".join(out)


def _replace(text: str, pattern: re.Pattern[str],
             make: Callable[[re.Match[str]], str | None]) -> str:
    """Replace matches of `pattern` found in code (not strings or comments)."""
    code = blank_non_code(text)
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(code):
        replacement = make(match)
        if replacement is None:
            continue
        pieces.append(text[last:match.start()])
        pieces.append(replacement)
        last = match.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _annotation_blocks(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line of the statement it annotates, annotation data) for each `# METADATA` block."""
    for _start, statement, body in metadata_blocks(text.splitlines()):
        try:
            data = yaml.safe_load(body) or {}
        except yaml.YAMLError:
            data = {}
        if isinstance(data, dict):
            yield statement + 1, data


def _opa_annotation(data: dict[str, Any], default_scope: str) -> dict[str, Any]:
    """An annotation as OPA returns it: `scope` set, `related_resources` as `{ref}` objects."""
    out = dict(data)
    out.setdefault("scope", default_scope)
    related = out.get("related_resources")
    if isinstance(related, list):
        out["related_resources"] = [r if isinstance(r, dict) else {"ref": str(r)} for r in related]
    return json.loads(json.dumps(out, default=str))


def inline_metadata(text: str, package: str) -> str:
    """Replace `rego.metadata.rule()`/`chain()` by the annotations they would return."""
    if "rego.metadata" not in text:  # most modules: skip the character-by-character scan
        return text
    code = blank_non_code(text)
    if not _METADATA_CALL.search(code):
        return text
    package_note: dict[str, Any] = {}
    rule_notes: dict[int, dict[str, Any]] = {}
    statement_lines = {m.start(): code.count("\n", 0, m.start()) + 1
                       for m in _RULE_START.finditer(code)}
    for line, data in _annotation_blocks(text):
        stmt = next((m for m in _RULE_START.finditer(code)
                     if statement_lines[m.start()] == line), None)
        if stmt is not None and stmt.group(1) == "package":
            package_note = _opa_annotation(data, "package")
        else:
            rule_notes[line] = _opa_annotation(data, "rule")
    heads = sorted((statement_lines[m.start()], m.group(1)) for m in _RULE_START.finditer(code)
                   if m.group(1) not in _NOT_RULES)

    def enclosing(offset: int) -> tuple[int, str] | None:
        line = code.count("\n", 0, offset) + 1
        found = None
        for head in heads:
            if head[0] > line:
                break
            found = head
        return found

    def make(match: re.Match[str]) -> str:
        head = enclosing(match.start())
        rule_note = rule_notes.get(head[0], {}) if head else {}
        if match.group(1) == "rule":
            return json.dumps(rule_note)
        pkg_path = ["data", *package.split(".")]
        chain: list[dict[str, Any]] = []
        if head is not None:
            entry: dict[str, Any] = {"path": [*pkg_path, head[1]]}
            if rule_note:
                entry["annotations"] = rule_note
            chain.append(entry)
        if package_note:
            chain.append({"path": pkg_path, "annotations": package_note})
        return json.dumps(chain)

    return _replace(text, _METADATA_CALL, make)
