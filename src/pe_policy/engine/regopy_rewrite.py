"""What a policy becomes before rego-cpp (regopy 1.5.2) sees it: its bugs, worked around.

Each rewrite keeps the policy's meaning (as OPA and regorus read it) and its
line numbers, so errors still point at the right line.  Found by reducing the
built-in pack's tests to the smallest policy that goes wrong:

* `with input as V` crashes the process (a segfault reading the query's
  error) whenever the rules under the `with` call a built-in or do
  arithmetic; `with input.<key> as V` works.  So the document is nested one
  level down (`input` → `input.pe_policy_input`, `redirect_input`).
* `with T as rule_ref` is silently ignored when the value is a bare
  reference to a rule or to data: `[rule_ref][0]` is evaluated properly
  (`wrap_with_values`).
* A variable that first appears as an index inside a call's argument
  (`contains(input.sections[j].key, "x")`) is not iterated: the expression
  quietly yields nothing.  A binding statement before it (`_ = input.sections[j]`)
  makes rego-cpp iterate (`bind_call_iterations`, on regorus's AST).
* Regular expressions run on C++ `std::regex` (ECMAScript), not RE2: no
  `(?i)`/`(?m)` flags.  `regex.*` calls are routed to the Rego polyfill
  `REGOPY_REGEX_MODULE`, which emulates the flags and names in an error the
  RE2 syntax it cannot run (`route_regex`).
* `sprintf` and `some k, v in` inside comprehensions: `polyfill.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pe_policy.engine.polyfill import (
    POLYFILL_PACKAGE,
    _replace,
    blank_non_code,
    expression_end,
    inline_metadata,
    route_sprintf,
    unfold_pair_iteration,
)
from pe_policy.engine.rego import RegoModule

REGOPY_INPUT_KEY = "pe_policy_input"
POLYFILL_ERROR_PREFIX = "pe-policy: "  # what `_fail` puts in the error the backend reads back

# RE2 (OPA's regular expressions) on rego-cpp's std::regex (ECMAScript).  `i`: the
# pattern (uppercase escapes kept) and the text are lowercased to decide whether there
# is a match; where matched text is returned, the pattern is rewritten letter by letter
# (`a` → `[aA]`, classes gain the other case) so the text keeps its case.  `m`: the text
# is matched line by line.  Anything else std::regex would read differently fails with
# a message naming the pattern.
REGOPY_REGEX_MODULE = r'''package pe_polyfill

import rego.v1

# sprintf verbs, for `expand_sprintf` (Go's %v: the shortest float that reads back)
fmt_v(x) := x if is_string(x)

fmt_v(x) := _shortest(x) if _fraction(x)

fmt_v(x) := sprintf("%v", [x]) if {
	not is_string(x)
	not _fraction(x)
}

fmt_q(x) := json.marshal(x) if is_string(x)

fmt_q(x) := sprintf("%v", [x]) if not is_string(x)

regex_match(p, s) := regex.match(p, _decoded(s)) if not _flagged(p)

regex_match(p, s) := regex.match(lower(m[2]), lower(_decoded(s))) if {
	some m in regex.find_all_string_submatch_n(_leading_flags, p, 1)
	_only_i(p, m)
}

regex_match(p, s) := _match(_re(p), _decoded(s)) if {
	_flagged(p)
	not _simple_i(p)
}

# the commonest flagged case, without the general machinery: `(?i)` and a plain pattern
_simple_i(p) if {
	some m in regex.find_all_string_submatch_n(_leading_flags, p, 1)
	_only_i(p, m)
}

_only_i(_, m) if {
	m[1] == "i"
	not _flagged(m[2])
	not regex.match(`\\[SDWB]`, m[2])
}

re_match(p, s) := regex_match(p, s)

regex_find_n(p, s, n) := _each(s, regex.find_n(p, _decoded(s), n)) if not _flagged(p)

regex_find_n(p, s, n) := _each(s, _first([m[0] | some m in _found(_re(p), _decoded(s))], n)) if _flagged(p)

regex_find_all_string_submatch_n(p, s, n) := [_each(s, m) | some m in found] if {
	not _flagged(p)
	found := regex.find_all_string_submatch_n(p, _decoded(s), n)
}

regex_find_all_string_submatch_n(p, s, n) := [_each(s, m) | some m in found] if {
	_flagged(p)
	found := _first(_found(_re(p), _decoded(s)), n)
}

regex_replace(s, p, value) := _one(s, regex.replace(_decoded(s), p, value)) if not _flagged(p)

regex_replace(s, p, value) := _one(s, regex.replace(_decoded(s), _unflagged(_re(p), "regex.replace"), value)) if _flagged(p)

regex_split(p, s) := _each(s, regex.split(p, _decoded(s))) if not _flagged(p)

regex_split(p, s) := _each(s, regex.split(_unflagged(_re(p), "regex.split"), _decoded(s))) if _flagged(p)

# trim_space, trim, trim_left and trim_right return their result decoded (see _decoded),
# which then equals no string literal: escaped again
trimmed_space(s) := _one(s, trim_space(s))

trimmed(s, cutset) := _one(concat("", [s, cutset]), trim(s, cutset))

trimmed_left(s, cutset) := _one(concat("", [s, cutset]), trim_left(s, cutset))

trimmed_right(s, cutset) := _one(concat("", [s, cutset]), trim_right(s, cutset))

# rego-cpp keeps strings JSON-escaped (a line break is `\` `n`, a quote `\"`) and its
# regular expressions see that form; trim_space hands back the characters themselves
_decoded(s) := s if not contains(s, _backslash)

_decoded(s) := substring(t, 1, count(t) - 2) if {
	contains(s, _backslash)
	t := trim_space(concat("", ["[", s, "]"]))
}

# a result computed on the decoded form of `s`, escaped again (a backslash stays decoded)
_one(s, x) := x if not contains(s, _backslash)

_one(s, x) := urlquery.decode(urlquery.encode(x)) if contains(s, _backslash)

_each(s, xs) := xs if not contains(s, _backslash)

_each(s, xs) := [urlquery.decode(urlquery.encode(x)) | some x in xs] if contains(s, _backslash)

_newline := substring(trim_space("x\nx"), 1, 1)

# one backslash as the escaped form has it (the literal `\` is kept as two)
_backslash := substring(trim_space("x\\x"), 1, 1)

# ---------------------------------------------------------------- the pattern

_flagged(p) if regex.match(`\(\?[a-zA-Z<]|\\[pPQEACz]|\[\[:word:\]\]`, p)

_flag_group := `\(\?([a-zA-Z]+)\)`

# the usual case, cheaply: flags i/m at the start and nothing else std::regex lacks
_re(p) := {"pattern": m[2], "i": contains(m[1], "i"), "m": contains(m[1], "m")} if {
	some m in regex.find_all_string_submatch_n(_leading_flags, p, 1)
	not _flagged(m[2])
}

_re(p) := _parsed(p, groups, _problems(p, groups)) if {
	not _simple(p)
	groups := regex.find_all_string_submatch_n(_flag_group, p, -1)
}

_leading_flags := `^\(\?([im]+)\)([\s\S]*)$`

_simple(p) if {
	some m in regex.find_all_string_submatch_n(_leading_flags, p, 1)
	not _flagged(m[2])
}

_parsed(p, groups, problems) := r if {
	count(problems) == 0
	letters := concat("", [g[1] | some g in groups])
	r := {"pattern": regex.replace(p, _flag_group, ""), "i": contains(letters, "i"), "m": contains(letters, "m")}
}

_parsed(p, _, problems) := _fail(concat("", [
	"regopy (C++ std::regex) cannot run the RE2 pattern `", p, "`: ",
	concat("; ", sort(problems)),
])) if count(problems) > 0

_fail(message) := to_number(concat("", ["pe-policy: ", message]))

_problems(p, groups) := (syntax | flags) | placed if {
	unsupported := `\\[pPQEACz]|\(\?P?<[a-zA-Z]|\(\?[a-zA-Z]+:|\[\[:word:\]\]`
	syntax := {concat("", ["unsupported syntax ", m]) | some m in regex.find_n(unsupported, p, -1)}
	flags := {concat("", ["unsupported flag ", g[0]]) | some g in groups; regex.match(`[^im]`, g[1])}
	placed := {concat("", ["flag ", g[0], " not at the start"]) | some g in groups; _misplaced(p, g)}
}

# a flag after the start: only `i`, at the top level, with no letter before it
_misplaced(p, g) if {
	prefix := substring(p, 0, indexof(p, g[0]))
	not regex.match(`^(\(\?[a-zA-Z]+\))*$`, prefix)
	_inner_flag_differs(_bare(regex.replace(prefix, _flag_group, "")), g[1])
}

_inner_flag_differs(_, letters) if regex.match(`[^i]`, letters)

_inner_flag_differs(prefix, _) if regex.match(`[a-zA-Z]`, prefix)

_inner_flag_differs(prefix, _) if count(indexof_n(prefix, "(")) != count(indexof_n(prefix, ")"))

# the pattern without escapes and classes
_bare(s) := regex.replace(s, `\\[\s\S]|\[\^?\]?(?:\[:[a-z]+:\]|\\[\s\S]|[^\]\\])*\]`, "")

_unflagged(r, _) := r.pattern if {
	not r.i
	not r.m
}

_unflagged(r, name) := _fail(concat("", [name, " with the (?i) or (?m) flag is not supported by the regopy polyfill"])) if r.i

_unflagged(r, name) := _fail(concat("", [name, " with the (?i) or (?m) flag is not supported by the regopy polyfill"])) if {
	not r.i
	r.m
}

# ------------------------------------------------------------------ matching

_match(r, s) := _match_line(r, s) if not r.m

_match(r, s) := count([line | some line in split(s, _newline); _match_line(r, line)]) > 0 if r.m

_match_line(r, s) := regex.match(r.pattern, s) if not r.i

_match_line(r, s) := regex.match(_folded(r.pattern), lower(s)) if r.i

_first(found, n) := found if n < 0

_first(found, n) := array.slice(found, 0, n) if n >= 0

# each match with its groups ([whole, group 1, ...]), lines one by one with (?m)
_found(r, s) := _found_line(r, s) if not r.m

_found(r, s) := [m | some line in split(s, _newline); some m in _found_line(r, line)] if r.m

_found_line(r, s) := regex.find_all_string_submatch_n(r.pattern, s, -1) if not r.i

# (?i): matched in the lowercased text, each match located by the text before it and
# cut from the original, so it keeps its case (a group: its first occurrence in the match)
_found_line(r, s) := [_in_original(s, found, k) | _ = found[k]] if {
	r.i
	found := regex.find_all_string_submatch_n(concat("", [`([\s\S]*?)(`, _folded(r.pattern), ")"]), lower(s), -1)
}

_in_original(s, found, k) := array.concat([whole], [_group(whole, g) | some g in array.slice(found[k], 3, count(found[k]))]) if {
	start := sum([count(m[0]) | m := found[i]; i < k]) + count(found[k][1])
	whole := substring(s, start, count(found[k][2]))
}

_group(_, "") := ""

_group(whole, g) := substring(whole, indexof(lower(whole), g), count(g)) if g != ""

# ------------------------------------------------------------ case folding

# lowercased, the uppercase escapes (\S \D \W \B) and escaped backslashes kept
_folded(p) := lower(p) if not regex.match(`\\[SDWB]`, p)

_folded(p) := _unprotect(lower(_protect(p))) if regex.match(`\\[SDWB]`, p)

_protect(p) := replace(replace(replace(replace(replace(p, `\\`, "\u0001"), `\S`, "\u0002"), `\D`, "\u0003"), `\W`, "\u0004"), `\B`, "\u0005")

_unprotect(p) := replace(replace(replace(replace(replace(p, "\u0005", `\B`), "\u0004", `\W`), "\u0003", `\D`), "\u0002", `\S`), "\u0001", `\\`)
'''

_SPRINTF = re.compile(r"(?<![\w.])sprintf\s*\(")
_VERB = re.compile(r"%(%|[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z])")
_STRING_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')
_VERB_CALL = {"s": "fmt_v", "v": "fmt_v", "q": "fmt_q"}


def _closing(code: str, start: int) -> int:
    """Index of the bracket closing the one at `start`."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] in _OPEN:
            depth += 1
        elif code[index] in _CLOSE:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _top_level_split(text: str, code: str) -> list[tuple[int, int]]:
    """Spans of the comma-separated parts of `text` outside brackets (a trailing empty part
    dropped); `code` is `text` with its strings blanked."""
    parts: list[tuple[int, int]] = []
    depth = 0
    last = 0
    for index, ch in enumerate(code):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((last, index))
            last = index + 1
    parts.append((last, len(code)))
    if len(parts) > 1 and not text[parts[-1][0]:].strip():
        parts.pop()
    return parts


def _expanded_sprintf(text: str, code: str) -> str | None:
    """`fmt, [a, b]` (a call's arguments) as `concat("", [...])`, or None when the format is
    not a literal or uses a verb this does not cover."""
    arguments = _top_level_split(text, code)
    if len(arguments) != 2:
        return None
    literal = text[slice(*arguments[0])].strip()
    if not _STRING_LITERAL.fullmatch(literal):
        return None
    fmt = literal[1:-1] if literal.startswith("`") else json.loads(literal)
    start, end = arguments[1]
    while start < end and code[start].isspace():
        start += 1
    while end > start and code[end - 1].isspace():
        end -= 1
    if code[start:start + 1] != "[" or _closing(code, start) != end - 1:
        return None
    items = [text[start + 1 + a:start + 1 + b].strip()
             for a, b in _top_level_split(text[start + 1:end - 1], code[start + 1:end - 1])]
    items = [item for item in items if item]
    pieces: list[str] = []
    last = 0
    used = 0
    for match in _VERB.finditer(fmt):
        verb = match.group(1)
        if fmt[last:match.start()]:
            pieces.append(json.dumps(fmt[last:match.start()], ensure_ascii=False))
        last = match.end()
        if verb == "%":
            pieces.append('"%"')
            continue
        if used >= len(items) or (verb not in _VERB_CALL and verb != "d"):
            return None
        item = items[used]
        used += 1
        pieces.append(f'sprintf("%d", [{item}])' if verb == "d"
                      else f"data.{POLYFILL_PACKAGE}.{_VERB_CALL[verb]}({item})")
    if used != len(items):
        return None
    if fmt[last:]:
        pieces.append(json.dumps(fmt[last:], ensure_ascii=False))
    breaks = text.count("\n") - sum(piece.count("\n") for piece in pieces)
    return 'concat("", [' + ", ".join(pieces) + "\n" * max(breaks, 0) + "])"


def expand_sprintf(text: str) -> str:
    """`sprintf("%s has %v", [a, b])` → `concat("", [fmt_v(a), " has ", fmt_v(b)])`.

    rego-cpp's sprintf shows some strings with their quotes and has no `%q`; the
    general polyfill (`polyfill.route_sprintf`) parses the format at run time, which
    costs rego-cpp seconds under a test's `with` (it copies every rule and function
    a `with` reaches).  A literal format is parsed here instead, once.
    """
    code = blank_non_code(text)
    pieces: list[str] = []
    last = 0
    for match in _SPRINTF.finditer(code):
        if match.start() < last:
            continue
        close = _closing(code, match.end() - 1)
        if close < 0:
            continue
        args = slice(match.end(), close)
        expanded = _expanded_sprintf(text[args], code[args])
        if expanded is None:
            continue
        pieces.append(text[last:match.start()])
        pieces.append(expanded)
        last = close + 1
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


_REGEX_CALL = re.compile(r"(?<![\w.])(regex\.(?:match|find_n|find_all_string_submatch_n|replace|split)"
                         r"|re_match|trim_space|trim|trim_left|trim_right)\s*\(")
_POLYFILLED = {"re_match": "regex_match", "trim_space": "trimmed_space", "trim": "trimmed",
               "trim_left": "trimmed_left", "trim_right": "trimmed_right"}


def route_regex(text: str) -> str:
    """Send the regex built-ins, and the trim built-ins, to `REGOPY_REGEX_MODULE`."""
    def make(match: re.Match[str]) -> str:
        name = match.group(1).replace(".", "_")
        return f"data.{POLYFILL_PACKAGE}.{_POLYFILLED.get(name, name)}("

    return _replace(text, _REGEX_CALL, make)


_INPUT_ROOT = re.compile(r"(?<![\w.$])input(?!\w)")
_BARE_IMPORT_INPUT = re.compile(r"^([ \t]*)import[ \t]+input[ \t]*$", re.MULTILINE)


def redirect_input(text: str) -> str:
    """`input` → `input.pe_policy_input`; the backend nests the document there.

    A bare `import input` (a no-op) is dropped, as it would bind the new key.
    """
    code = blank_non_code(text)
    if not _INPUT_ROOT.search(code):
        return text
    for match in reversed(list(_BARE_IMPORT_INPUT.finditer(code))):
        text = text[:match.start()] + match.group(1) + text[match.end():]
    return _replace(text, _INPUT_ROOT, lambda _m: f"input.{REGOPY_INPUT_KEY}")


_OPEN = "([{"
_CLOSE = ")]}"


_WITH_AS = re.compile(r"\bwith\s+(?:input|data)\b[\w.\[\]\"]*\s+as\s+")
_SIMPLE_REF = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\[\]]*\])*")


def wrap_with_values(text: str) -> str:
    """`with T as rule_ref` → `with T as [rule_ref][0]`."""
    code = blank_non_code(text)
    pieces: list[str] = []
    last = 0
    for match in _WITH_AS.finditer(code):
        end = expression_end(code, match.end(), ("with",), text)
        value = text[match.end():end]
        if not _SIMPLE_REF.fullmatch(value) or value in ("true", "false", "null"):
            continue
        pieces.append(text[last:match.end()])
        pieces.append(f"[{value}][0]")
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


_COMPREHENSIONS = frozenset({"ArrayCompr", "SetCompr", "ObjectCompr"})


def _queries(node: Any) -> Iterator[dict[str, Any]]:
    """Every query (rule body, comprehension body, ...) in a regorus AST."""
    if isinstance(node, dict):
        if isinstance(node.get("stmts"), list) and isinstance(node.get("span"), dict):
            yield node
        for value in node.values():
            yield from _queries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _queries(value)


def _iterated_in_calls(node: Any, in_call: bool = False) -> Iterator[dict[str, Any]]:
    """`RefBrack` nodes indexed by a variable inside a call's arguments (not in comprehensions,
    whose bodies are queries of their own)."""
    if isinstance(node, list):
        for value in node:
            yield from _iterated_in_calls(value, in_call)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "span" or key in _COMPREHENSIONS:
            continue
        if key == "Call" and isinstance(value, dict):
            yield from _iterated_in_calls(value.get("params", []), True)
            continue
        if (key == "RefBrack" and in_call and isinstance(value, dict)
                and "Var" in (value.get("index") or {})):
            yield value
        yield from _iterated_in_calls(value, in_call)


def _char_offsets(text: str) -> list[int] | None:
    """Byte offset → character offset (None when they are the same: ASCII)."""
    if text.isascii():
        return None
    out: list[int] = []
    for index, ch in enumerate(text):
        out.extend([index] * len(ch.encode("utf-8")))
    out.append(len(text))
    return out


def bind_call_iterations(text: str, v0: bool) -> str:
    """`f(x.items[i])` with `i` free → `_ = x.items[i]; f(x.items[i])` (a `_` index gets a name).

    Negated expressions and statements with `with` are left alone: a binding
    before them would change their meaning.
    """
    if "[" not in text:
        return text
    import regorus

    engine = regorus.Engine()
    engine.set_rego_v0(v0)
    try:
        engine.add_policy("policy.rego", text)
        ast = json.loads(engine.get_ast_as_json())[0]["ast"]
    except (RuntimeError, ValueError, LookupError):
        return text  # regopy names the syntax error itself
    offsets = _char_offsets(text)

    def at(byte_offset: int) -> int:
        return byte_offset if offsets is None else offsets[byte_offset]

    code = blank_non_code(text)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), character offsets
    fresh = 0
    for query in _queries(ast):
        query_start = at(query["span"]["start"])
        braceless = code[query_start:query_start + 1] not in ("{", "|")
        for stmt in query["stmts"]:
            literal = stmt.get("literal") or {}
            if "Expr" not in literal or stmt.get("with_mods"):
                continue
            binds: list[str] = []
            for ref in _iterated_in_calls(literal["Expr"]):
                start, end = at(ref["span"]["start"]), at(ref["span"]["end"])
                index = ref["index"]["Var"]
                bound = text[start:end]
                if index.get("value") == "_":
                    fresh += 1
                    name = f"__pe_it{fresh}"
                    var_start, var_end = at(index["span"]["start"]), at(index["span"]["end"])
                    edits.append((var_start, var_end, name))
                    bound = text[start:var_start] + name + text[var_end:end]
                binds.append(bound)
            binds = [b for b in dict.fromkeys(binds)
                     if not any(o != b and o.startswith(b + "[") for o in binds)]
            if not binds:
                continue
            stmt_start = at(stmt["span"]["start"])
            prefix = "".join(f"_ = {b}; " for b in binds)
            if braceless:
                end = expression_end(code, stmt_start, ("else",), text)
                edits.append((stmt_start, stmt_start, "{ " + prefix))
                edits.append((end, end, " }"))
            else:
                edits.append((stmt_start, stmt_start, prefix))
    if not edits:
        return text
    out = text
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


def regopy_source(module: RegoModule) -> str:
    """The module as rego-cpp is given it: every rewrite applied (line numbers kept)."""
    text = bind_call_iterations(module.text, module.v0)
    text = inline_metadata(text, module.package)
    text = route_regex(route_sprintf(expand_sprintf(text)))
    return wrap_with_values(redirect_input(unfold_pair_iteration(text)))
