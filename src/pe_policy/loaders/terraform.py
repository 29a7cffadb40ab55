"""Terraform `.tf` and `.tf.json` files: every block with its values and the line of every attribute.

hcl.py parses `.tf` (tree-sitter's HCL grammar) and builds each block's values, so each
attribute, nested block, object key and list element gets its span; terraform_json.py
reads `.tf.json` (Terraform's JSON syntax) into the same blocks (`parse_config` picks by
the file's name, as Terraform does).  The same parse
serves the plan loader, which maps a plan's resources onto the `.tf` blocks beside it
(`parse_module`).

Parsed files are cached by (path, text): a directory of `.tf` files is one
Terraform module, and every file of it reads its siblings for the module
context, so each file is parsed once per run, not once per sibling.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import DEFAULT_MAX_BYTES, Source, read_text
from pe_policy.models.terraform import TerraformConfig

# attributes holding an IAM policy document (JSON string or jsonencode) in AWS resources
POLICY_ATTRIBUTES = ("policy", "assume_role_policy")
MAX_MODULE_FILES = 5000  # a directory with more .tf files than this is not read as one module
# every token costs a tree-sitter node and, as a value, a Python object and a span: a file of
# millions of `1,` would exhaust memory.  Counted (generously: every word and symbol) first.
MAX_HCL_TOKENS = 200_000
_TOKEN = re.compile(r"[\w.-]+|[^\w\s]")
_CACHE_SIZE = 512


@dataclass(frozen=True)
class ParsedFile:
    """One parsed `.tf` file: its blocks (TerraformBlock-shaped dicts) and their spans.

    Span keys are paths into `{"blocks": blocks}`: ("blocks", 3, "values", "ingress", 0).
    """

    path: str
    blocks: list[dict[str, Any]]
    spans: dict[JsonPath, Span] = field(repr=False)

    def block_index(self) -> dict[tuple[str, str], int]:
        """(block_type, "type.name") -> index, for resource and data blocks."""
        out: dict[tuple[str, str], int] = {}
        for index, block in enumerate(self.blocks):
            if block["block_type"] in ("resource", "data"):
                out.setdefault((block["block_type"], f"{block['type']}.{block['name']}"), index)
        return out


# ---------------------------------------------------------------------------------- parsing


_ADDRESS_PREFIX = {"data": "data.", "module": "module.", "variable": "var.", "output": "output.",
                   "provider": "provider."}


def _block_record(labels: list[str], values: dict[str, Any], file: str, span: Span,
                  path: str) -> dict[str, Any]:
    block_type = labels[0]
    rest = labels[1:]
    record: dict[str, Any] = {"block_type": block_type, "labels": rest}
    if block_type in ("resource", "data"):
        if len(rest) != 2:
            raise ParseError(path, f"a {block_type} block needs two labels (type and name), "
                             f"found {len(rest)}", span.line, span.column)
        record["type"], record["name"] = rest
        address = f"{_ADDRESS_PREFIX.get(block_type, '')}{rest[0]}.{rest[1]}"
    elif rest:
        record["name"] = rest[-1]
        address = _ADDRESS_PREFIX.get(block_type, f"{block_type}.") + ".".join(rest)
        if block_type == "provider" and isinstance(values.get("alias"), str):
            address += f".{values['alias']}"
    else:
        address = block_type
    record["address"] = address
    record["file"] = file
    record["line"] = span.line
    if span.end_line is not None:
        record["end_line"] = span.end_line
    record["values"] = values
    return record


def parse_hcl(text: str, path: str) -> ParsedFile:
    """Parse one `.tf` file's text; ParseError (with line and column) when it is not valid HCL,
    or too large to parse (MAX_HCL_TOKENS)."""
    _check_tokens(text, path)
    return _parse_cached(text, path)


def _check_tokens(text: str, path: str) -> None:
    if len(text) <= MAX_HCL_TOKENS:  # every token is a character at least
        return
    for count, match in enumerate(_TOKEN.finditer(text), start=1):
        if count > MAX_HCL_TOKENS:
            raise ParseError(path, f"Terraform with more than {MAX_HCL_TOKENS:,} tokens (words "
                             "and symbols): too large to check",
                             text.count("\n", 0, match.start()) + 1)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_cached(text: str, path: str) -> ParsedFile:
    from pe_policy.loaders.hcl import check_accounted, parse_blocks

    nodes, walker, root = parse_blocks(text, path)
    blocks: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, int | None]] = {}
    for node, block_type, labels in nodes:
        span = walker.span(node)
        index = len(blocks)
        values = walker.block_body(node, ("blocks", index, "values"))
        blocks.append(_declared_once(_block_record([block_type, *labels], values, path, span, path),
                                     span, seen, path))
        walker.spans[("blocks", index)] = span
    check_accounted(walker, root, (node for node, _, _ in nodes))
    return ParsedFile(path, blocks, walker.spans)


def _declared_once(record: dict[str, Any], span: Span, seen: dict[str, tuple[int, int | None]],
                   path: str) -> dict[str, Any]:
    """`record`, unless a block of its address came before (`seen`: address -> its place;
    two blocks of a `.tf.json` file may share a line)."""
    if record["block_type"] in ("resource", "data", "module", "variable", "output"):
        first = seen.setdefault(record["address"], (span.line, span.column))
        if first != (span.line, span.column):
            raise ParseError(path, f"{record['address']} is declared twice (first at line "
                             f"{first[0]})", span.line, span.column)
    return record


def is_json_config(path: str) -> bool:
    """A file in Terraform's JSON syntax (`main.tf.json`), by its name as Terraform tells."""
    return path.endswith(".tf.json")


def parse_config(text: str, path: str) -> ParsedFile:
    """One Terraform file's text parsed, in the syntax its name says (`.tf` or `.tf.json`);
    ParseError (with line and column) when it is not valid or too large to check."""
    if is_json_config(path):
        return _parse_json_cached(text, path)
    return parse_hcl(text, path)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_json_cached(text: str, path: str) -> ParsedFile:
    from pe_policy.loaders.terraform_json import read_blocks

    found, spans = read_blocks(text, path)
    blocks: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, int | None]] = {}
    for index, (labels, values, span) in enumerate(found):
        blocks.append(_declared_once(_block_record(labels, values, path, span, path), span, seen, path))
        spans[("blocks", index)] = span
    return ParsedFile(path, blocks, spans)


# ------------------------------------------------------------------------- IAM documents


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return [value if isinstance(value, str) else json.dumps(value)]


def _json_principals(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): _as_list(v) for k, v in value.items()}
    return {"*": _as_list(value)}


# where each field of a normalised statement is, in a JSON policy document and in an
# `aws_iam_policy_document` `statement` block
_JSON_STATEMENT_KEYS = {"sid": "Sid", "effect": "Effect", "actions": "Action",
                        "not_actions": "NotAction", "resources": "Resource",
                        "not_resources": "NotResource"}
_BLOCK_STATEMENT_KEYS = {field: field for field in _JSON_STATEMENT_KEYS}


def _statement(index: int, item: dict[str, Any], keys: dict[str, str],
               principals: dict[str, list[str]], path: JsonPath, line: int) -> dict[str, Any]:
    """One statement in the one shape rules read, whichever way it was written."""
    sid = item.get(keys["sid"])
    return {
        "index": index,
        **({"sid": sid} if isinstance(sid, str) else {}),
        "effect": str(item.get(keys["effect"], "Allow")),
        **{field: _as_list(item.get(keys[field]))
           for field in ("actions", "not_actions", "resources", "not_resources")},
        "principals": principals,
        "path": list(path),
        "line": line,
    }


def _statement_from_json(index: int, item: dict[str, Any], path: JsonPath, line: int) -> dict[str, Any]:
    return _statement(index, item, _JSON_STATEMENT_KEYS, _json_principals(item.get("Principal")),
                      path, line)


def _statement_from_block(index: int, item: dict[str, Any], path: JsonPath, line: int) -> dict[str, Any]:
    principals: dict[str, list[str]] = {}
    for principal in item.get("principals") or []:
        if isinstance(principal, dict):
            principals.setdefault(str(principal.get("type", "*")), []).extend(
                _as_list(principal.get("identifiers")))
    return _statement(index, item, _BLOCK_STATEMENT_KEYS, principals, path, line)


def _json_document(value: Any) -> tuple[dict[str, Any], str] | None:
    if isinstance(value, dict):
        return value, "jsonencode"
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return None
        if isinstance(decoded, dict):
            return decoded, "json"
    return None


def _policy_sites(parsed: ParsedFile) -> Iterator[tuple[int, str, JsonPath, Any]]:
    """(block index, attribute, path, value) of every attribute that may hold a policy."""
    for index, block in enumerate(parsed.blocks):
        values = block["values"]
        base: JsonPath = ("blocks", index, "values")
        if block["block_type"] == "data" and block.get("type") == "aws_iam_policy_document":
            yield index, "statement", (*base, "statement"), values.get("statement")
            continue
        if block["block_type"] != "resource":
            continue
        for attribute in POLICY_ATTRIBUTES:
            if attribute in values:
                yield index, attribute, (*base, attribute), values[attribute]
        for n, inline in enumerate(values.get("inline_policy") or []):
            if isinstance(inline, dict) and "policy" in inline:
                yield index, "policy", (*base, "inline_policy", n, "policy"), inline["policy"]


def policy_documents(parsed: ParsedFile) -> list[dict[str, Any]]:
    """Every IAM policy in the file, its statements normalised, each with its line."""
    smap = SourceMap(parsed.spans)
    documents: list[dict[str, Any]] = []
    for index, attribute, path, value in _policy_sites(parsed):
        address = parsed.blocks[index]["address"]
        statements: list[dict[str, Any]] = []
        if attribute == "statement":
            if not isinstance(value, list):
                continue
            form = "policy_document"
            for n, item in enumerate(value):
                if isinstance(item, dict):
                    statements.append(_statement_from_block(n, item, (*path, n),
                                                            smap.locate((*path, n)).line))
        else:
            found = _json_document(value)
            if found is None:
                continue
            document, form = found
            raw = document.get("Statement")
            items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
            for n, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                item_path = (*path, "Statement", n) if isinstance(raw, list) else (*path, "Statement")
                statements.append(_statement_from_json(n, item, item_path,
                                                       smap.locate(item_path).line))
        documents.append({"address": address, "attribute": attribute, "form": form,
                          "path": list(path), "line": smap.locate(path).line,
                          "statements": statements})
    return documents


# ------------------------------------------------------------------------------- modules


def ignored_by_terraform(name: str) -> bool:
    """A file name Terraform never loads from a module directory (configs.IsIgnoredFile):
    hidden files, editors' backups (`main.tf~`) and autosaves (`#main.tf#`)."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def is_config_name(name: str) -> bool:
    """A name Terraform loads as configuration in a module directory (hidden files aside):
    `*.tf` and `*.tf.json`, override files (`override.tf`, `*_override.tf.json`) included."""
    return name.endswith((".tf", ".tf.json"))


def module_files(directory: Path, root: Path | None = None) -> list[Path]:
    """The `.tf` files of the module in `directory` that Terraform loads (one level, sorted);
    [] if unreadable.

    With the repository `root`, a symbolic link leading out of it is left out (never read).
    Listed once per run and directory: every file of a module asks.
    """
    return list(_module_listing(directory, root))


@functools.lru_cache(maxsize=64)
def _module_listing(directory: Path, root: Path | None) -> tuple[Path, ...]:
    from pe_policy.discover import link_out_of_root

    try:
        files = sorted(p for p in directory.iterdir() if is_config_name(p.name)
                       and not ignored_by_terraform(p.name) and p.is_file()
                       and (root is None or not link_out_of_root(p, root)))
    except OSError:
        return ()
    return tuple(files[:MAX_MODULE_FILES])


def parse_path(abs_path: Path, display: str) -> ParsedFile | None:
    """A `.tf` file read from disk and parsed (cached); None if it cannot be read or parsed.

    Used for files beside the one being checked: their own problems are
    reported when they are checked themselves.
    """
    try:
        return parse_config(read_text(abs_path, display), display)
    except (ParseError, RecursionError):
        return None


def _display_dir(source: Source) -> str:
    parent = str(PurePosixPath(source.path).parent)
    return "" if parent == "." else parent


def _display(display_dir: str, name: str) -> str:
    return f"{display_dir}/{name}" if display_dir else name


def parse_module(directory: Path, display_dir: str, root: Path | None = None,
                 skip: Container[str] = ()) -> list[ParsedFile]:
    """Every parseable `.tf` file of the module in `directory` (see `module_files`), but
    those whose display path is in `skip` (never read)."""
    parsed: list[ParsedFile] = []
    for file in module_files(directory, root):
        display = _display(display_dir, file.name)
        result = None if display in skip else parse_path(file, display)
        if result is not None:
            parsed.append(result)
    return parsed


def _gather_blocks(parsed_files: Iterable[ParsedFile], prefix: JsonPath,
                   spans: dict[JsonPath, Span]) -> list[dict[str, Any]]:
    """The blocks of `parsed_files` in one list, each block's span (in its own file) at
    `(*prefix, n)` in `spans`."""
    blocks: list[dict[str, Any]] = []
    for parsed in parsed_files:
        for index, block in enumerate(parsed.blocks):
            span = parsed.spans.get(("blocks", index), Span(block["line"]))
            key: JsonPath = (*prefix, len(blocks))
            spans[key] = Span(span.line, span.column, path=parsed.path)
            blocks.append(block)
    return blocks


@dataclass
class _Assembly:
    """A document's blocks gathered from one or more parsed files, spans moved to match."""

    data: dict[str, Any] = field(default_factory=lambda: {"blocks": [], "policy_documents": []})
    spans: dict[JsonPath, Span] = field(default_factory=dict)
    later: list[tuple[int, int, ParsedFile]] = field(default_factory=list)  # spans moved lazily

    def add(self, parsed: ParsedFile, own: bool) -> None:
        """`parsed`'s blocks and IAM documents; `own`: the document's own file (spans as they
        are), else another file of the module (its spans carry its path, built on demand)."""
        offset = len(self.data["blocks"])
        first_document = len(self.data["policy_documents"])
        self.data["blocks"].extend(parsed.blocks)
        for document in policy_documents(parsed):
            if offset:
                document["path"][1] += offset
                for statement in document["statements"]:
                    statement["path"][1] += offset
            self.data["policy_documents"].append(document)
        if own:
            self.spans.update(parsed.spans)
        else:
            self.later.append((offset, first_document, parsed))
            for index, block in enumerate(parsed.blocks):  # the blocks themselves, right away
                span = parsed.spans.get(("blocks", index), Span(block["line"]))
                self.spans[("blocks", offset + index)] = replace(span, path=parsed.path)
        for n, document in enumerate(self.data["policy_documents"][first_document:], first_document):
            where = None if own else parsed.path
            self.spans.setdefault(("policy_documents", n), Span(document["line"], path=where))
            for m, statement in enumerate(document["statements"]):
                self.spans.setdefault(("policy_documents", n, "statements", m),
                                      Span(statement["line"], path=where))

    def moved_spans(self) -> dict[JsonPath, Span]:
        """Every span of the other files' blocks, at its place in this document."""
        out: dict[JsonPath, Span] = {}
        for offset, _, parsed in self.later:
            path = parsed.path
            for key, span in parsed.spans.items():
                if key[0] == "blocks" and len(key) >= 2:
                    moved: JsonPath = ("blocks", key[1] + offset, *key[2:])  # type: ignore[operator]
                    out[moved] = Span(span.line, span.column, span.end_line, span.end_column, path)
        return out

    def source_map(self) -> SourceMap:
        return _ModuleSourceMap(self) if self.later else SourceMap(self.spans)


class _ModuleSourceMap(SourceMap):
    """A module document's spans: its own file's as they are; a path into another file's
    block is looked up in that file's spans (no copy of them all, only the few findings
    need are made), the whole map built only if someone asks for it."""

    def __init__(self, assembly: _Assembly) -> None:
        super().__init__(assembly.spans, resolver=assembly.moved_spans)
        self._offsets = [offset for offset, _, _ in assembly.later]
        self._files = [parsed for _, _, parsed in assembly.later]

    def locate(self, path: Iterable[str | int]) -> Span:
        key = tuple(path)
        if self._resolver is not None and len(key) >= 2 and key[0] == "blocks" and isinstance(key[1], int):
            at = bisect.bisect_right(self._offsets, key[1]) - 1
            if at >= 0 and key[1] - self._offsets[at] < len(self._files[at].blocks):
                parsed = self._files[at]
                inner: JsonPath = ("blocks", key[1] - self._offsets[at], *key[2:])
                span = SourceMap(parsed.spans).locate(inner)
                return Span(span.line, span.column, span.end_line, span.end_column, parsed.path)
        if self._resolver is not None:  # the document's own spans, without building the rest
            return SourceMap(self._spans).locate(key)
        return super().locate(key)


def _context(source: Source, skip: set[str]) -> tuple[dict[str, Any], dict[JsonPath, Span]]:
    """`module`: the module's files, and the blocks of those not in `skip`: files not judged
    in this run, that rules read as context (a companion resource, say)."""
    assert source.abs_path is not None
    display_dir = _display_dir(source)
    files = _module_displays(source.abs_path.parent, source.root, display_dir)
    spans: dict[JsonPath, Span] = {}
    blocks = _gather_blocks(parse_module(source.abs_path.parent, display_dir, source.root, skip),
                            ("module", "blocks"), spans)
    return {"directory": display_dir or ".", "files": list(files), "blocks": blocks}, spans


@functools.lru_cache(maxsize=64)
def _module_displays(directory: Path, root: Path | None, display_dir: str) -> tuple[str, ...]:
    return tuple(_display(display_dir, file.name) for file in _module_listing(directory, root))


MAX_CHILD_DEPTH = 4  # module calls followed below a module: children, grandchildren...


def _child_modules(blocks: list[dict[str, Any]], directory: Path, root: Path | None,
                   path: JsonPath, spans: dict[JsonPath, Span], seen: set[Path],
                   depth: int = 1) -> dict[str, Any]:
    """call name -> {source, directory, blocks, children} for each `module` block whose source
    is a local directory (`./modules/y`) inside the repository: what the configuration
    creates through its child modules (a public access block for the root's bucket, say).
    A source outside the root, through a link or `..`, is never read."""
    from pe_policy.discover import relative_to_root

    if root is None or depth > MAX_CHILD_DEPTH:
        return {}
    out: dict[str, Any] = {}
    for block in blocks:
        source = block["values"].get("source") if block["block_type"] == "module" else None
        name = block.get("name")
        if not (isinstance(source, str) and source.startswith(("./", "../")) and name) or name in out:
            continue
        try:
            child = (directory / source).resolve()
            child.relative_to(root.resolve())
        except (OSError, RuntimeError, ValueError):
            continue
        if child in seen or not child.is_dir():
            continue
        display_dir = relative_to_root(child, root)
        child_path: JsonPath = (*path, name)
        child_blocks = _gather_blocks(parse_module(child, display_dir, root),
                                      (*child_path, "blocks"), spans)
        out[name] = {"source": source, "directory": display_dir, "blocks": child_blocks}
        grandchildren = _child_modules(child_blocks, child, root, (*child_path, "children"), spans,
                                       seen | {child}, depth + 1)
        if grandchildren:
            out[name]["children"] = grandchildren
    return out


# ---------------------------------------------------------------------------------- load


def load(source: Source) -> Document:
    """One `.tf` file, the rest of its module in `module.blocks` (see `load_module`)."""
    try:
        parsed = parse_config(source.text, source.path)
        return _document(source, [parsed], [])
    except RecursionError:
        raise ParseError(source.path, "HCL nested too deeply to read") from None


def load_module(files: Sequence[tuple[Path, str]], root: Path | None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """The `.tf` files of one module (directory) that a run checks, as one document.

    Terraform's unit is the module: its files are loaded and judged once, together,
    not each with all the others (which made a run quadratic in the module's size).
    The document is the first file that parses; its `blocks` are every file's, each
    naming its `file`, each span its file, so every finding lands in its own file and
    line.  A file that does not load is a `problem` of the document (a PE-PARSE at that
    file), and every other file is still judged.  The module's files that the run does
    not check are context, in `module.blocks`.
    """
    loaded: list[tuple[Path, ParsedFile]] = []
    problems: list[ParseError] = []
    for (abs_path, _), result in zip(files, _parse_files(files, max_bytes), strict=True):
        if isinstance(result, ParseError):
            problems.append(result)
        else:
            loaded.append((abs_path, result))
    if not loaded:
        document = Document(kind="terraform", path=files[0][1],
                            model=TerraformConfig(), raw={"blocks": [], "policy_documents": []})
        document.problems = problems
        return document
    abs_path, first = loaded[0]
    text = read_text(abs_path, first.path, max_bytes)  # a ParseError if changed since parsed
    source = Source(path=first.path, text=text, kind="terraform", abs_path=abs_path, root=root)
    try:
        document = _document(source, [parsed for _, parsed in loaded],
                             [display for _, display in files])
    except RecursionError:
        raise ParseError(first.path, "HCL nested too deeply to read") from None
    document.problems = problems
    return document


PARALLEL_MIN_FILES = 64  # a module with fewer `.tf` files is parsed in one process


def _parse_one(abs_path: Path, display: str, max_bytes: int) -> ParsedFile | ParseError:
    try:
        return parse_config(read_text(abs_path, display, max_bytes), display)
    except ParseError as exc:
        return exc
    except RecursionError:
        return ParseError(display, "HCL nested too deeply to read")


def _parse_files(files: Sequence[tuple[Path, str]], max_bytes: int) -> list[ParsedFile | ParseError]:
    """Each file parsed, or why not; a large module on every core.

    Parsing is most of the cost of a module, and a module is one document, judged in one
    process: that process forks a helper per spare core, each parses its share of the
    files (a batch at a time, in turns) and sends the results back (pickled: our own
    dataclasses, made by our own code in our own fork).  A helper that fails leaves its
    share to be parsed here.
    """
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    helpers = min(cores - 1, len(files) // PARALLEL_MIN_FILES)
    if helpers <= 0 or not hasattr(os, "fork"):
        return [_parse_one(abs_path, display, max_bytes) for abs_path, display in files]
    chunk = 16
    shares: list[list[int]] = [[] for _ in range(helpers + 1)]
    for first in range(0, len(files), chunk):
        shares[(first // chunk) % len(shares)].extend(range(first, min(first + chunk, len(files))))
    children = [(_fork_parser(files, share, max_bytes), share) for share in shares[1:]]
    results: dict[int, ParsedFile | ParseError] = {
        i: _parse_one(*files[i], max_bytes) for i in shares[0]}
    for (pid, reader), share in children:
        results.update(_collect(pid, reader, files, share, max_bytes))
    return [results[i] for i in range(len(files))]


def _fork_parser(files: Sequence[tuple[Path, str]], share: list[int], max_bytes: int) -> tuple[int, int]:
    import os
    import pickle

    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: parse, send, exit without running the parent's clean-up
        status = 1
        try:
            os.close(reader)
            data = pickle.dumps([(i, _parse_one(*files[i], max_bytes)) for i in share],
                                protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:  # the pipe to the parent (a pipe, never a file)
                view = view[os.write(writer, view):]
            os.close(writer)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    return pid, reader


def _collect(pid: int, reader: int, files: Sequence[tuple[Path, str]], share: list[int],
             max_bytes: int) -> dict[int, ParsedFile | ParseError]:
    import os
    import pickle

    with os.fdopen(reader, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    if status == 0 and data:
        return dict(pickle.loads(data))  # written by our own fork, above
    return {i: _parse_one(*files[i], max_bytes) for i in share}


def _document(source: Source, members: list[ParsedFile], checked: list[str]) -> Document:
    """The document of `members` (the first is `source`'s file); `checked`: the module's
    files the run checks (the others are context)."""
    assembly = _Assembly()
    for member in members:
        assembly.add(member, own=member is members[0])
    data = assembly.data
    spans = assembly.spans
    if source.abs_path is not None:
        data["module"], module_spans = _context(source, {source.path, *checked})
        spans.update(module_spans)
        children = _child_modules([*data["blocks"], *data["module"]["blocks"]],
                                  source.abs_path.parent, source.root, ("module", "children"),
                                  spans, {source.abs_path.parent.resolve()})
        if children:
            data["module"]["children"] = children
    model = TerraformConfig.model_validate(data)
    return Document(kind=source.kind, path=source.path, model=model,
                    source_map=assembly.source_map(), text=source.text, raw=data,
                    files=tuple(member.path for member in members) if len(members) > 1 else ())
