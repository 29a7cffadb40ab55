"""A Rego module's outline, read from regorus's parse tree: package, rules and METADATA.

regorus parses the module (`Engine.add_policy`) and hands back its syntax tree
(`Engine.get_ast_as_json`): the package path, every import, and every rule
with its head (name, and whether it is a `contains` rule, a single value, a
function or a `default`) and its span.  Nothing here reads Rego by pattern: a
rule indented by a space is a rule, and a raw string whose line reads
`deny_x := 1` is a string.

Comments are not in the tree, but what lies between two top-level statements
is: blank lines and comments only (a statement's span ends before the closing
quote of a string it ends with, never earlier).  The `# METADATA` blocks are
read there with OPA's rules (`ast/parser.go`, `parseAnnotations`): a block
starts at a comment in column 1 whose text begins with `METADATA` and goes on
with the comments of the following lines in column 1; it annotates the
statement that follows it (`ast/annotations.go`, `attachAnnotationsNodes`).
Comments inside a rule's body are never read.

The outline also holds what `negation.py` reads from the same tree: the edits
that make regorus evaluate the module's negated calls as OPA does; and what the
sandbox (`sandbox.py`) judges a module by: where its package is, its imports,
and every name it calls, hands to a `with` as a value, or refers to (`NameUse`).

v0 or v1: `v0` keeps the meaning it always had, the parser mode the engines and
bundles use for the module: True for v0 modules, for modules that `import
rego.v1` (v1 syntax the v0 parser reads) and for the few that read the same
either way; False for v1 modules without that import.  The v1 parser goes
first: regorus's v0 parser is lenient and reads some v1 modules as something
else (`test_x if {` as a rule `test_x` and a rule `if`, with a warning on
stderr), so a v0 reading counts only when it matches the v1 one, or when the
v1 parser cannot read the module and the v0 reading is clean (no such warning,
no rule named after a v1 keyword).  A module neither parser reads is reported
with the error of the parse that got further into the file.

Cost: the tree is large (about 50 bytes of JSON per byte of Rego: 5.8 MB for
the 29 policy modules of the built-in pack that `check` reads, 60 ms to parse,
produce and decode, against 3.4 ms for the old regular expressions), so
outlines are cached on disk by content
(`PE_POLICY_CACHE_DIR`, default `$XDG_CACHE_HOME/pe-policy` or
`~/.cache/pe-policy`; an empty value turns the cache off).  A cached module
costs a hash and a small file read, and regorus is not even imported.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pe_policy.cache_dir import cache_directory, read_trusted
from pe_policy.engine.policy_error import PolicyError, RegoSyntaxError, policy_error_from_engine

_FORMAT = "rego-outline-4"  # bump when the outline (or how it is read) changes
# Rego's keywords: a package key spelled like one is written `["if"]`, not `.if`
_KEYWORDS = frozenset({"as", "contains", "default", "else", "every", "false", "if", "import",
                       "in", "not", "null", "package", "some", "true", "with"})
_HEAD_KINDS = {"Set": "multi-value", "Compr": "single-value", "Func": "function"}
_V1_ONLY = frozenset({"if", "contains", "every", "in"})  # keywords v1 has and v0 has not


@dataclass(frozen=True)
class RuleHead:
    """One rule definition, as the parse tree has it."""

    name: str  # the first name of its head: `deny` for `deny contains msg if`, `a` for `a.b := 1`
    kind: str  # "multi-value" (`contains`, v0 `p[x] {`), "single-value", "function", "default"
    line: int
    column: int


@dataclass(frozen=True)
class NameUse:
    """A name a module uses, as the sandbox judges it (`sandbox.py`).

    `role`: "call" for a function called (`f(x)`, `http["send"](x)`); "with" for the value
    of a `with` (`with f as g`: `g` is called in place of `f`, or is the value that
    replaces it); "ref" for a reference anywhere else (`x := opa.runtime`) whose first
    name is neither `input` nor `data` and that has two names or more.  What a `with`
    replaces (`with http.send as ...`) is not a use: nothing is called.
    """

    role: str
    keys: tuple[str | None, ...]  # `http["send"]` -> ("http", "send"); a key computed when run: None
    line: int
    column: int


@dataclass(frozen=True)
class MetadataBlock:
    """A `# METADATA` comment block, delimited as OPA delimits it, and what it annotates."""

    line: int  # the `# METADATA` comment's
    target: str  # what it annotates: "package", "rule", "import", or "" (nothing follows it)
    rule: str | None  # the rule's name when target is "rule"
    text: str  # the YAML below the `METADATA` line
    # `text` read as YAML, when JSON carries the value as it is (so the cache keeps it): read
    # once per content, not on every run; None: `rego._annotations` reads `text`
    parsed: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outline:
    """What pe-policy reads of a module's parse tree (see the module docstring): read once
    per text, and cached on disk by content so a later run need not import regorus."""

    package: str
    v0: bool
    rules: tuple[RuleHead, ...]  # every rule definition, in source order
    blocks: tuple[MetadataBlock, ...]
    # what makes regorus evaluate the module's negations as OPA does (negation.py): byte
    # ranges of the UTF-8 text and their replacements
    negations: tuple[tuple[int, int, str], ...] = ()
    # what the sandbox reads (sandbox.py): the `package` keyword's line and column; each
    # import as (the name the module knows it by, its path); each name the module uses, the
    # first use of each in source order
    package_at: tuple[int, int] = (1, 1)
    imports: tuple[tuple[str, tuple[str, ...]], ...] = ()
    uses: tuple[NameUse, ...] = ()


def import_regorus() -> Any:
    """regorus, with Rust's library backtraces off unless asked for.

    With RUST_BACKTRACE set (CI images and dev shells often set it), every error value
    regorus creates captures a backtrace, and its v0 parser creates some while reading a
    valid module: adding the built-in pack to an engine took 82 ms instead of 10.
    RUST_LIB_BACKTRACE only governs those captured backtraces (not a panic's), and a value
    set explicitly is kept.
    """
    os.environ.setdefault("RUST_LIB_BACKTRACE", "0")
    import regorus

    return regorus


_READ: dict[str, Outline] = {}  # by digest: the outlines this process read (`known_outline`)


def read_outline(path: str, text: str) -> Outline:
    """`text`'s outline: from the cache when this text was read before, else from regorus."""
    digest = _digest(text)
    cache = _cache_file(digest)
    outline = _load(cache) if cache is not None else None
    if outline is None:
        tree, v0 = _parse(path, text)
        outline = _outline(tree, v0, text.encode("utf-8", "surrogatepass"))
        if cache is not None:
            _store(cache, outline)
    _READ[digest] = outline
    return outline


def known_outline(path: str, text: str) -> Outline:
    """`read_outline`, without even a file read for a text this process has read already (a
    module read by `parse_module` and then added to an engine)."""
    return _READ.get(_digest(text)) or read_outline(path, text)


# ---------------------------------------------------------------- parsing


@contextmanager
def _stderr_into(sink: list[str]) -> Iterator[None]:
    """What the process writes on file descriptor 2 meanwhile, into `sink` instead.

    regorus's v0 parser prints a warning there for each v1 keyword it meets (`if` will be
    treated as identifier due to missing `import future.keywords.if`): not for the user's
    terminal, but the sign that a v0 reading of the module is a misreading.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2
        yield
        return
    try:
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
            captured.seek(0)
            sink.append(captured.read().decode("utf-8", "replace"))
    finally:
        os.close(saved)


def _add(regorus: Any, path: str, text: str, v0: bool) -> tuple[Any, PolicyError | None, str]:
    """(engine holding the module, or the parse error; what regorus printed meanwhile)."""
    engine = regorus.Engine()
    engine.set_rego_v0(v0)
    printed: list[str] = []
    try:
        if v0:
            with _stderr_into(printed):
                engine.add_policy(path, text)
        else:
            engine.add_policy(path, text)
    except RuntimeError as exc:
        return None, policy_error_from_engine(path, exc, RegoSyntaxError), "".join(printed)
    return engine, None, "".join(printed)


def _tree(engine: Any) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(engine.get_ast_as_json())[0]["ast"]
    return tree


def _imports_rego_v1(tree: dict[str, Any]) -> bool:
    return any(_ref_keys(i["refr"]) == ["rego", "v1"] for i in tree.get("imports") or ())


def _misread_as_v0(tree: dict[str, Any], printed: str) -> bool:
    """Did regorus's (lenient) v0 parser read v1 syntax as something else?  It then warns that
    a keyword is taken for a name, and `p if {`, `deny contains x if {` come out as a rule
    named `if`."""
    if "treated as identifier" in printed:
        return True
    return any(_rule_head(rule)[0].name in _V1_ONLY for rule in tree.get("rules") or ())


def _parse(path: str, text: str) -> tuple[dict[str, Any], bool]:
    """regorus's syntax tree of the module, and whether it is read as Rego v0 (see above).

    v1 first: regorus's v0 parser accepts some v1 modules as something else (`test_x if {`
    is a rule `test_x` and a rule `if`), so a v0 reading counts only when it is the same as
    the v1 one or the v1 parser cannot read the module and the v0 reading is clean.
    """
    regorus = import_regorus()
    v1_engine, v1_error, _ = _add(regorus, path, text, v0=False)
    if v1_engine is not None:
        tree = _tree(v1_engine)
        if _imports_rego_v1(tree):
            return tree, True  # v1 syntax the v0 parser reads too: v0, as it always was
        v0_engine, _, _ = _add(regorus, path, text, v0=True)
        same = v0_engine is not None and all(
            _tree(v0_engine).get(key) == tree.get(key) for key in ("package", "imports", "rules"))
        return tree, same  # neither v0 nor v1 syntax: v0 as well
    assert v1_error is not None
    v0_engine, v0_error, printed = _add(regorus, path, text, v0=True)
    if v0_engine is not None:
        tree = _tree(v0_engine)
        if not _misread_as_v0(tree, printed):
            return tree, True
        raise v1_error
    assert v0_error is not None
    # Neither parser reads it: the one that got further names the mistake; on a tie v1, unless
    # all it has to say is that the module is written in v0 (a body without `if`).
    v0_at = (v0_error.line or 0, v0_error.column or 0)
    v1_at = (v1_error.line or 0, v1_error.column or 0)
    v0_syntax = "`if` keyword is required" in v1_error.message
    raise v0_error if v0_at > v1_at or (v0_at == v1_at and v0_syntax) else v1_error


def _node(tagged: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """regorus tags each node with its type: {"Var": {...}} -> ("Var", {...})."""
    ((tag, body),) = tagged.items()
    return tag, body


def _ref_keys(tagged: dict[str, Any]) -> list[str]:
    """`a.b["c-d"]` -> ["a", "b", "c-d"] (a key that is not a string: its JSON)."""
    tag, body = _node(tagged)
    if tag == "Var":
        return [str(body["value"])]
    if tag == "RefDot":
        return [*_ref_keys(body["refr"]), str(body["field"][1])]
    if tag == "RefBrack":
        index_tag, index = _node(body["index"])
        value = index.get("value")
        key = value if index_tag in ("String", "RawString") else json.dumps(value)
        return [*_ref_keys(body["refr"]), str(key)]
    return [""]


def _package_name(keys: list[str]) -> str:
    """The package as a Rego reference after `data.`: dotted where it can be, quoted keys else."""
    parts: list[str] = []
    for i, key in enumerate(keys):
        if key.isidentifier() and key.isascii() and key not in _KEYWORDS:
            parts.append(key if i == 0 else f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "".join(parts)


def _rule_head(rule: dict[str, Any]) -> tuple[RuleHead, dict[str, Any]]:
    tag, body = _node(rule)
    if tag == "Default":
        kind, ref = "default", body["refr"]
    else:
        head_tag, head = _node(body["head"])
        kind, ref = _HEAD_KINDS.get(head_tag, "single-value"), head["refr"]
    span = body["span"]
    name = _ref_keys(ref)[0]
    return RuleHead(name, kind, int(span["line"]), int(span["col"])), span


def _outline(tree: dict[str, Any], v0: bool, data: bytes) -> Outline:
    from pe_policy.engine.negation import negation_edits

    package = tree["package"]
    # (start, end, line of start, target kind, rule name) for every top-level statement
    statements: list[tuple[int, int, int, str, str | None]] = []
    span = package["span"]
    statements.append((span["start"], span["end"], span["line"], "package", None))
    for imported in tree.get("imports") or ():
        span = imported["span"]
        statements.append((span["start"], span["end"], span["line"], "import", None))
    heads: list[RuleHead] = []
    for rule in tree.get("rules") or ():
        head, span = _rule_head(rule)
        heads.append(head)
        statements.append((span["start"], span["end"], span["line"], "rule", head.name))
    statements.sort(key=lambda s: s[0])
    lines = _Lines(data)
    imports: list[tuple[str, tuple[str, ...]]] = []
    for imported in tree.get("imports") or ():
        path = tuple(_ref_keys(imported["refr"]))
        alias = imported.get("as")
        named = data[alias["start"]:alias["end"]].decode("utf-8", "replace") if alias else path[-1]
        imports.append((named, path))
    return Outline(
        package=_package_name(_ref_keys(package["refr"])),
        v0=v0,
        rules=tuple(heads),
        blocks=tuple(_metadata_blocks(data, statements)),
        negations=tuple(negation_edits(tree, data)),
        package_at=lines.at(package["span"]["start"]),
        imports=tuple(imports),
        uses=_NameUses(lines).read(tree.get("rules") or []),
    )


# ---------------------------------------------------------------- names used (the sandbox's)

_CHAIN = frozenset({"Var", "RefDot", "RefBrack"})  # a name, `a.b`, `a[k]`
_NOT_BUILTINS = frozenset({"input", "data"})  # a reference from these is never a built-in


class _Lines:
    """Line and column (1-based, in characters) of a byte offset of the module's UTF-8 text."""

    def __init__(self, data: bytes) -> None:
        import bisect

        self._data = data
        self._starts = [0, *(i + 1 for i, byte in enumerate(data) if byte == 0x0A)]
        self._bisect = bisect.bisect_right

    def at(self, offset: int) -> tuple[int, int]:
        line = self._bisect(self._starts, offset)
        start = self._starts[line - 1]
        return line, len(self._data[start:offset].decode("utf-8", "replace")) + 1


class _NameUses:
    """Every name the rules of a module call, hand to a `with`, or refer to (`NameUse`).

    Read from the whole tree: rule heads and bodies, `else`, functions, comprehensions,
    `every`, `with` values, keys in brackets.  Iterative, so no nesting depth a parser
    accepts can stop it.
    """

    def __init__(self, lines: _Lines) -> None:
        self._lines = lines
        self._found: dict[tuple[str, tuple[str | None, ...]], tuple[int, NameUse]] = {}

    def read(self, rules: list[Any]) -> tuple[NameUse, ...]:
        stack: list[Any] = [rules]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not isinstance(node, dict):
                continue
            if len(node) == 1:
                ((tag, body),) = node.items()
                if isinstance(body, dict) and self._special(tag, body, stack):
                    continue
            for key, value in node.items():
                if key == "with_mods":
                    self._with(value, stack)
                else:
                    stack.append(value)
        ordered = sorted(self._found.values(), key=lambda found: found[0])
        return tuple(use for _, use in ordered)

    def _special(self, tag: str, body: dict[str, Any], stack: list[Any]) -> bool:
        """Handle a node whose names are read here; False for any other node."""
        if tag in _CHAIN:
            keys, inner = _chain({tag: body})
            if keys is not None and len(keys) > 1 and keys[0] not in _NOT_BUILTINS:
                self._record("ref", keys, body)
            stack.extend(inner)
        elif tag == "Call":
            fcn = body["fcn"]
            keys, inner = _chain(fcn)
            if keys is not None:
                self._record("call", keys, _node(fcn)[1])
            stack.extend(inner)
            stack.append(body.get("params") or [])
        elif tag == "Default":  # `default p := v`: its name is a definition, not a use
            stack.extend(_chain(body["refr"])[1])
            stack.extend(value for key, value in body.items() if key != "refr")
        elif tag == "Spec":  # a rule: the names in its head are defined, not used
            _, head = _node(body["head"])
            stack.extend(_chain(head["refr"])[1])
            stack.extend(value for key, value in head.items() if key != "refr")
            stack.append(body.get("bodies") or [])
        else:
            return False
        return True

    def _with(self, modifiers: list[Any], stack: list[Any]) -> None:
        for modifier in modifiers or ():
            stack.extend(_chain(modifier["refr"])[1])  # what it replaces is not called
            value = modifier["as"]
            tag, body = _node(value)
            if tag in _CHAIN:
                keys, inner = _chain(value)
                if keys is not None:
                    self._record("with", keys, body)
                stack.extend(inner)
            else:
                stack.append(value)

    def _record(self, role: str, keys: tuple[str | None, ...], body: dict[str, Any]) -> None:
        start = int(body["span"]["start"])
        known = self._found.get((role, keys))
        if known is None or start < known[0]:
            line, column = self._lines.at(start)
            self._found[(role, keys)] = (start, NameUse(role, keys, line, column))


def _chain(tagged: dict[str, Any]) -> tuple[tuple[str | None, ...] | None, list[Any]]:
    """(the names of a reference from a name: `a.b["c"][x]` -> ("a", "b", "c", None), or None
    when it starts elsewhere (`f(x).y`); the expressions inside it to read as expressions:
    computed keys, and a base that is not a name)."""
    keys: list[str | None] = []
    inner: list[Any] = []
    node = tagged
    while True:
        tag, body = _node(node)
        if tag == "Var":
            keys.append(str(body["value"]))
            break
        if tag == "RefDot":
            keys.append(str(body["field"][1]))
        elif tag == "RefBrack":
            index_tag, index = _node(body["index"])
            if index_tag in ("String", "RawString"):
                keys.append(str(index["value"]))
            else:
                keys.append(None)
                inner.append(body["index"])
        else:  # a call's value, a literal...: read as an expression
            inner.append(node)
            return None, inner
        node = body["refr"]
    return tuple(reversed(keys)), inner


# ---------------------------------------------------------------- METADATA comments


def _plain_yaml(text: str) -> dict[str, Any] | None:
    """`text`'s YAML mapping if JSON carries it unchanged (no date, no key that is not a
    string...), else None: then it is read from `text` each time, errors and all."""
    from pe_policy.engine.rego import YAML_LOADER

    try:
        data = yaml.load(text, Loader=YAML_LOADER)
        plain = isinstance(data, dict) and json.loads(json.dumps(data)) == data
    except (yaml.YAMLError, TypeError, ValueError):
        return None
    return data if plain else None


def _metadata_blocks(data: bytes, statements: list[tuple[int, int, int, str, str | None]]
                     ) -> list[MetadataBlock]:
    blocks: list[MetadataBlock] = []
    position, line = 0, 1  # where the previous statement ended, and that offset's line
    for start, end, start_line, target, rule in [*statements, (len(data), len(data), 0, "", None)]:
        gap = data[position:start] if start >= position else b""
        at_line_start = position == 0 or data[position - 1:position] == b"\n"
        for block_line, text in _blocks(_comments(gap, line, at_line_start)):
            blocks.append(MetadataBlock(block_line, target, rule, text, _plain_yaml(text)))
        if target:
            line = start_line + data.count(b"\n", start, end)
            position = max(position, end)
    return blocks


def _comments(gap: bytes, first_line: int, at_line_start: bool
              ) -> list[tuple[int, int, str | None]]:
    """(line, column, text after `#`) of each comment between two statements: column 0 for one
    after code on its line; text None for a line that is not a comment (the closing quote of a
    string the previous statement ended with)."""
    found: list[tuple[int, int, str | None]] = []
    for i, raw in enumerate(gap.split(b"\n")):
        raw = raw.rstrip(b"\r")
        if i == 0 and not at_line_start:  # the rest of the previous statement's last line
            hash_at = raw.find(b"#")
            if hash_at >= 0:
                found.append((first_line, 0, raw[hash_at + 1:].decode("utf-8", "replace")))
            continue
        body = raw.lstrip(b" \t")
        if body.startswith(b"#"):
            column = len(raw) - len(body) + 1
            found.append((first_line + i, column, body[1:].decode("utf-8", "replace")))
        elif body:
            found.append((first_line + i, 0, None))
    return found


def _blocks(comments: list[tuple[int, int, str | None]]) -> list[tuple[int, str]]:
    """(line, YAML text) of each `# METADATA` block among the comments, as OPA groups and reads
    them: a block starts at a comment in column 1 whose text begins with `METADATA` and goes on
    with the comments of the next lines in column 1, up to the next such start; each line of it
    loses one leading blank and ends with a line break (`description: |` keeps its last one)."""
    blocks: list[tuple[int, list[str]]] = []
    last = 0
    for line, column, text in comments:
        if text is None or column != 1:
            last = 0  # code, or a comment after code: ends a block
            continue
        if text.strip().startswith("METADATA"):
            blocks.append((line, []))
        elif blocks and last and line == last + 1:
            blocks[-1][1].append(text[1:] if text.startswith(" ") else text)
        else:
            last = 0
            continue
        last = line
    return [(line, "".join(f"{b}\n" for b in body)) for line, body in blocks]


# ---------------------------------------------------------------- the cache


def _cache_root() -> Path | None:
    directory = cache_directory()
    return None if directory is None else Path(directory) / "rego"


@functools.cache
def _salt() -> bytes:
    """What else an outline depends on: this reader's format and the regorus build."""
    spec = importlib.util.find_spec("regorus")
    origin = (spec.origin if spec is not None else None) or ""
    try:
        stat = os.stat(origin)
        build = f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        build = origin
    return f"{_FORMAT}\0{build}\0".encode()


def _digest(text: str) -> str:
    digest = hashlib.blake2b(_salt(), digest_size=20)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _cache_file(digest: str) -> Path | None:
    root = _cache_root()
    return None if root is None else root / f"{digest}.json"


def cached_value(namespace: str, data: bytes, compute: Callable[[], Any]) -> Any:
    """What `compute()` makes of `data` (a JSON value), from this cache when the same bytes
    were seen before: files of the same policy directories, read by content like outlines."""
    root = _cache_root()
    if root is None:
        return compute()
    digest = hashlib.blake2b(_salt() + namespace.encode() + b"\0", digest_size=20)
    digest.update(data)
    file = root / f"{namespace}-{digest.hexdigest()}.json"
    try:
        return json.loads(_trusted_bytes(file))["value"]
    except (ValueError, KeyError, TypeError):  # missing, or not ours: compute it
        pass
    value = compute()
    from pe_policy.output import write_atomic

    with contextlib.suppress(OSError):  # on a read-only or full disk the next run computes it
        write_atomic(file, json.dumps({"value": value}), mode=0o600)
    return value


def _trusted_bytes(file: Path) -> bytes:
    """A cache file's bytes under cache_dir's rule (ours, written by no one else): an outline
    decides which rules a module has and how its negations are rewritten.  b"" otherwise."""
    return read_trusted(str(file)) or b""


def _load(file: Path) -> Outline | None:
    try:
        raw = json.loads(_trusted_bytes(file))
        return Outline(
            package=str(raw["package"]),
            v0=bool(raw["v0"]),
            rules=tuple(RuleHead(str(n), str(k), int(ln), int(c)) for n, k, ln, c in raw["rules"]),
            blocks=tuple(MetadataBlock(int(ln), str(t), None if r is None else str(r), str(x),
                                       parsed if isinstance(parsed, dict) else None)
                         for ln, t, r, x, parsed in raw["blocks"]),
            negations=tuple((int(s), int(e), str(x)) for s, e, x in raw["negations"]),
            package_at=(int(raw["package_at"][0]), int(raw["package_at"][1])),
            imports=tuple((str(n), tuple(str(k) for k in p)) for n, p in raw["imports"]),
            uses=tuple(NameUse(str(r), tuple(None if k is None else str(k) for k in keys),
                               int(ln), int(c)) for r, keys, ln, c in raw["uses"]),
        )
    except (OSError, ValueError, KeyError, TypeError):  # missing, or not ours: read the module
        return None


def _store(file: Path, outline: Outline) -> None:
    from pe_policy.output import write_atomic

    payload = json.dumps({
        "package": outline.package,
        "v0": outline.v0,
        "rules": [[h.name, h.kind, h.line, h.column] for h in outline.rules],
        "blocks": [[b.line, b.target, b.rule, b.text, b.parsed] for b in outline.blocks],
        "negations": [list(edit) for edit in outline.negations],
        "package_at": list(outline.package_at),
        "imports": [[name, list(path)] for name, path in outline.imports],
        "uses": [[u.role, list(u.keys), u.line, u.column] for u in outline.uses],
    })
    # a concurrent reader sees all of it or nothing; on a read-only or full disk the next run
    # reads the module again
    with contextlib.suppress(OSError):
        write_atomic(file, payload, mode=0o600)


def as_opa_evaluates(path: str, text: str) -> str:
    """`text` with its negations rewritten for regorus (unchanged when none needs it)."""
    if "not" not in text:
        return text
    from pe_policy.engine.negation import apply_edits

    try:
        outline = known_outline(path, text)
    except PolicyError:  # regorus reports it when the module is added
        return text
    return apply_edits(text, outline.negations)
