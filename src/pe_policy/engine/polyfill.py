"""Built-ins a Rego engine lacks, supplied by pe-policy so policies stay standard.

Policies must run unchanged on OPA and conftest, so nothing is avoided in the
policy: a backend that lacks something gets it here.

* `rego.metadata.rule()` / `rego.metadata.chain()`: neither regorus nor regopy
  has them.  pe-policy reads the `# METADATA` annotations itself, so each call
  is replaced by the annotation it would return, as a JSON literal (same line,
  so error positions keep their line numbers).
* regopy's `sprintf` has no `%q` and keeps the quotes of some string values
  (`sprintf("%s", [x])` with `x` a function argument gives `"x"`): its calls
  are routed to a Rego implementation (`REGOPY_SPRINTF_MODULE`) that formats
  strings itself and hands everything else to the native `sprintf`.
  Its `%v` of a float prints the shortest decimal that reads back as the
  same number, as Go and regorus do (rego-cpp prints `69.31999999999999`).
* More regopy rewrites (regular expressions, `with`, iteration inside calls):
  `regopy_rewrite.py`.
* Anything else a backend lacks is named in a clear error (`missing_builtins`),
  never a silently undefined rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from pe_policy.engine.rego import metadata_blocks

_METADATA_CALL = re.compile(r"\brego\.metadata\.(rule|chain)\s*\(\s*\)")
_SPRINTF_CALL = re.compile(r"(?<![\w.])sprintf\s*\(")
_DOTTED_CALL = re.compile(r"(?<![\w.])((?:[a-z_][a-z0-9_]*\.)+[a-z_][a-z0-9_]*)\s*\(")
_RULE_START = re.compile(r"^(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_NOT_RULES = frozenset({"package", "import"})

# Namespaces of OPA built-ins: a dotted call starting with one of these is a built-in.
BUILTIN_NAMESPACES = frozenset({
    "array", "base64", "base64url", "bits", "crypto", "glob", "graph", "graphql", "hex",
    "http", "io", "json", "net", "numbers", "object", "opa", "providers", "rand", "regex",
    "rego", "semver", "strings", "time", "units", "urlquery", "uuid", "yaml",
})

POLYFILL_PACKAGE = "pe_polyfill"

# Go's fmt verbs as OPA's sprintf accepts them: flags, width, precision, verb.
REGOPY_SPRINTF_MODULE = r'''package pe_polyfill

import rego.v1

_verbs := `%(%|[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z])`

format(fmt, args) := concat("", pieces) if {
	verbs := regex.find_all_string_submatch_n(_verbs, fmt, -1)
	literals := regex.split(_verbs, fmt)
	pieces := [piece | literal := literals[i]; piece := concat("", [literal, _render(verbs, i, args)])]
}

_render(verbs, i, _) := "" if i >= count(verbs)

_render(verbs, i, _) := "%" if {
	i < count(verbs)
	verbs[i][1] == "%"
}

_render(verbs, i, args) := _format(verbs[i][1], args[n]) if {
	i < count(verbs)
	verbs[i][1] != "%"
	n := count([k | verb := verbs[k]; k < i; verb[1] != "%"])
}

_render(verbs, i, args) := concat("", ["%!", verbs[i][1], "(MISSING)"]) if {
	i < count(verbs)
	verbs[i][1] != "%"
	n := count([k | verb := verbs[k]; k < i; verb[1] != "%"])
	n >= count(args)
}

_format(spec, value) := value if {
	spec in {"s", "v"}
	is_string(value)
}

_format("q", value) := json.marshal(value) if is_string(value)

# Go prints the shortest decimal that reads back as the same float; rego-cpp prints 17
# significant digits (69.32 -> 69.31999999999999)
_format("v", value) := _shortest(value) if _fraction(value)

_format(spec, value) := sprintf(concat("", ["%", spec]), [value]) if {
	not _string_verb(spec, value)
	not _float_v(spec, value)
}

_fraction(value) if {
	is_number(value)
	value != round(value)
}

_float_v("v", value) if _fraction(value)

_shortest(x) := candidates[0] if {
	candidates := [s |
		some digits in numbers.range(1, 17)
		s := sprintf(concat("", ["%.", format_int(digits, 10), "g"]), [x])
		to_number(s) == x
	]
}

_string_verb(spec, value) if {
	spec in {"s", "v", "q"}
	is_string(value)
}
'''


def blank_non_code(text: str) -> str:
    """`text` with strings and comments blanked out (same length, same line breaks).

    Lets the rewrites below match calls in code only, never in a message.
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


def route_sprintf(text: str) -> str:
    """Send `sprintf(` calls to the polyfill (regopy only)."""
    return _replace(text, _SPRINTF_CALL, lambda _m: f"data.{POLYFILL_PACKAGE}.format(")


def called_builtins(text: str) -> set[str]:
    """Dotted built-in names (`net.cidr_contains`) the module calls."""
    code = blank_non_code(text)
    return {m.group(1) for m in _DOTTED_CALL.finditer(code)
            if m.group(1).split(".", 1)[0] in BUILTIN_NAMESPACES}


def missing_builtins(text: str, available: Callable[[str], bool]) -> list[str]:
    """Built-ins the module calls that the engine does not have (after polyfills)."""
    return sorted(name for name in called_builtins(inline_metadata(text, "p"))
                  if not available(name))


_SOME_PAIR_IN = re.compile(r"\bsome\s+([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s+in\s+")
_OPEN = {"{": "}", "[": "]", "(": ")"}
_SIMPLE_REF = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\[[^\[\]]*\])*")


def _comprehension_depths(code: str) -> list[bool]:
    """For each offset: is the innermost open bracket a comprehension (`{x | ...}`)?"""
    inside: list[bool] = []
    stack: list[list[Any]] = []  # [bracket, is_comprehension]
    for ch in code:
        if ch in _OPEN:
            stack.append([ch, False])
        elif ch in ")]}" and stack:
            stack.pop()
        elif ch == "|" and stack and stack[-1][0] in "{[":
            stack[-1][1] = True
        inside.append(bool(stack) and bool(stack[-1][1]))
    return inside


def expression_end(code: str, start: int, stop_words: tuple[str, ...] = (), text: str | None = None) -> int:
    """Where the expression at `start` ends: `;`, a line break, a closing bracket or a stop word
    (at bracket depth 0), trailing blanks excluded.  `code` has strings blanked; `text` (default
    `code`) is what the trailing blanks are judged on."""
    text = code if text is None else text
    depth = 0
    i = start
    while i < len(code):
        ch = code[i]
        if ch in _OPEN:
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (ch in ";\n" or any(
                code.startswith(word, i) and code[i - 1] in " \t"
                and not code[i + len(word):i + len(word) + 1].isalnum() for word in stop_words)):
            break
        i += 1
    while i > start and text[i - 1] in " \t":
        i -= 1
    return i


def unfold_pair_iteration(text: str) -> str:
    """`some k, v in xs` inside a comprehension → `v = xs[k]` (rego-cpp cannot parse the former).

    rego-cpp 1.5 reads the comma as an element separator of the surrounding
    set/array and fails with "Invalid collection".  The two forms are the same
    iteration; only the comprehension case is rewritten.
    """
    code = blank_non_code(text)
    inside = _comprehension_depths(code)
    pieces: list[str] = []
    last = 0
    for match in _SOME_PAIR_IN.finditer(code):
        if match.start() < last or not inside[match.start()]:
            continue
        end = expression_end(code, match.end())
        collection = text[match.end():end].strip()
        key, value = match.group(1), match.group(2)
        pieces.append(text[last:match.start()])
        if _SIMPLE_REF.fullmatch(collection):
            pieces.append(f"{value} = {collection}[{key}]")
        else:
            local = f"__pe_coll{len(pieces)}"
            pieces.append(f"{local} := {collection}; {value} = {local}[{key}]")
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)
