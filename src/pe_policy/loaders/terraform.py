"""Terraform `.tf` files: every block with its values and the line of every attribute.

python-hcl2 parses (a lark LALR parser with positions); this module walks the
resulting rule tree itself instead of using `hcl2.loads`, so each attribute,
nested block, object key and list element gets its span while its value is
built.  The same parse serves the plan loader, which maps a plan's resources
onto the `.tf` blocks beside it (`parse_module`).

Parsed files are cached by (path, text): a directory of `.tf` files is one
Terraform module, and every file of it reads its siblings for the module
context, so each file is parsed once per run, not once per sibling.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source, read_text
from pe_policy.models.terraform import TerraformConfig

if TYPE_CHECKING:
    from hcl2.utils import SerializationOptions

# attributes holding an IAM policy document (JSON string or jsonencode) in AWS resources
POLICY_ATTRIBUTES = ("policy", "assume_role_policy")
MAX_MODULE_FILES = 200  # a directory with more .tf files than this is not read as one module
# python-hcl2's parse tree costs about 1 KB and 40 µs a token: 400 KB of `[1,1,1,...]` was
# 400 MB and 16 s.  Counted (generously: every word and symbol) before parsing.
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


@functools.lru_cache(maxsize=1)
def _options() -> SerializationOptions:
    from hcl2.utils import SerializationOptions

    return SerializationOptions(with_comments=False, with_meta=False, explicit_blocks=False,
                                preserve_heredocs=False, strip_string_quotes=True,
                                wrap_objects=False, wrap_tuples=False)


def _span(meta: Any) -> Span | None:
    line = getattr(meta, "line", None)
    if not isinstance(line, int):
        return None
    return Span(line, getattr(meta, "column", None), getattr(meta, "end_line", None),
                getattr(meta, "end_column", None))


def _syntax_error(path: str, exc: Exception) -> ParseError:
    """lark's UnexpectedInput, said in a sentence."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line = getattr(exc, "line", 1)
    column = getattr(exc, "column", None)
    line = line if isinstance(line, int) and line > 0 else 1
    column = column if isinstance(column, int) and column > 0 else None
    if (isinstance(exc, UnexpectedToken) and exc.token.type == "$END") or isinstance(exc, UnexpectedEOF):
        return ParseError(path, "HCL syntax error: unexpected end of file (an unclosed block, "
                          "bracket or string?)", line, column)
    if isinstance(exc, UnexpectedToken):
        text = str(exc.token.value).strip().splitlines()[0][:40] if str(exc.token.value).strip() else ""
        what = f"{text!r}" if text else "a line break"
        return ParseError(path, f"HCL syntax error: unexpected {what}", line, column)
    if isinstance(exc, UnexpectedCharacters):
        char = getattr(exc, "char", "")
        return ParseError(path, f"HCL syntax error: unexpected character {char!r}", line, column)
    return ParseError(path, f"HCL syntax error: {exc}", line, column)


class _Walker:
    """Builds plain values from hcl2's rule tree, recording a span for every node."""

    def __init__(self, path: str) -> None:
        from hcl2.rules import base, containers, expressions, functions, strings

        self.path = path
        self.spans: dict[JsonPath, Span] = {}
        self.options = _options()
        self._attribute = base.AttributeRule
        self._block = base.BlockRule
        self._expr_term = expressions.ExprTermRule
        self._object = containers.ObjectRule
        self._tuple = containers.TupleRule
        self._call = functions.FunctionCallRule
        self._heredoc = (strings.HeredocTemplateRule, strings.HeredocTrimTemplateRule)

    def body(self, body: Any, path: JsonPath) -> dict[str, Any]:
        values: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        block_keys: set[str] = set()
        for child in body.children:
            if isinstance(child, self._attribute):
                name = str(child.identifier.serialize(self.options))
                span = _span(child._meta)
                line = span.line if span else 1
                if name in first_line:
                    what = "a block" if name in block_keys else f"an attribute at line {first_line[name]}"
                    raise ParseError(self.path, f"attribute {name!r} is already defined as {what}",
                                     line, span.column if span else None)
                first_line[name] = line
                attribute_path: JsonPath = (*path, name)
                if span:
                    self.spans[attribute_path] = span
                values[name] = self.expression(child.expression, attribute_path)
            elif isinstance(child, self._block):
                labels = [str(label.serialize(self.options)) for label in child.labels]
                name = labels[0]
                span = _span(child._meta)
                existing = values.setdefault(name, [])
                if name not in block_keys and name in first_line:
                    raise ParseError(self.path, f"{name!r} is already defined as an attribute at "
                                     f"line {first_line[name]}", span.line if span else 1)
                block_keys.add(name)
                first_line.setdefault(name, span.line if span else 1)
                item_path: JsonPath = (*path, name, len(existing))
                inner_path = (*item_path, *labels[1:])
                value: Any = self.body(child.body, inner_path)
                for label in reversed(labels[1:]):
                    value = {label: value}
                existing.append(value)
                if span:
                    self.spans.setdefault((*path, name), span)
                    self.spans[item_path] = span
                    if labels[1:]:
                        self.spans[inner_path] = span
        return values

    def _unwrap(self, node: Any) -> Any:
        while isinstance(node, self._expr_term) and not node.parentheses:
            node = node.expression
        return node

    def expression(self, expr: Any, path: JsonPath) -> Any:
        node = self._unwrap(expr)
        if isinstance(node, self._object):
            out: dict[str, Any] = {}
            for element in node.elements:
                raw_key = element.key.serialize(self.options)
                key = raw_key if isinstance(raw_key, str) else str(raw_key)
                key_path: JsonPath = (*path, key)
                span = _span(element._meta)
                if span:
                    self.spans[key_path] = span
                out[key] = self.expression(element.expression, key_path)
            return out
        if isinstance(node, self._tuple):
            items: list[Any] = []
            for index, item in enumerate(node.elements):
                item_path: JsonPath = (*path, index)
                span = _span(getattr(item, "_meta", None))
                if span:
                    self.spans[item_path] = span
                items.append(self.expression(item, item_path))
            return items
        if isinstance(node, self._call):
            literal = self._jsonencode_argument(node)
            if literal is not None:
                return self.expression(literal, path)
        if isinstance(node, self._heredoc):
            value = heredoc_value(str(node.heredoc.value))
            self._heredoc_json_spans(value, node, path)
            return value
        return expr.serialize(self.options)

    def _jsonencode_argument(self, call: Any) -> Any:
        """The object/tuple literal inside `jsonencode(...)`, else None."""
        names = [str(i.serialize(self.options)) for i in call.identifiers]
        arguments = call.arguments
        if names != ["jsonencode"] or arguments is None or len(arguments.arguments) != 1:
            return None
        inner = self._unwrap(arguments.arguments[0])
        return inner if isinstance(inner, (self._object, self._tuple)) else None

    def _heredoc_json_spans(self, value: str, node: Any, path: JsonPath) -> None:
        """Lines inside a heredoc holding JSON (an IAM policy), for findings on a statement."""
        if not value.lstrip().startswith(("{", "[")):
            return
        span = _span(getattr(node, "_meta", None))
        if span is None:
            return
        try:
            json.loads(value)
            from pe_policy.loaders.yaml_source import load_yaml

            _, inner = load_yaml(value, self.path, line_offset=span.line)
        except (ValueError, ParseError, RecursionError):
            return
        for sub, sub_span in inner.items():
            if sub:
                inner_path: JsonPath = (*path, *sub)
                self.spans[inner_path] = sub_span


def heredoc_value(token: str) -> str:
    """The string a heredoc token (`<<EOT` / `<<-EOT` ... `EOT`) stands for, as Terraform reads it.

    hcl2's own serialisation escapes quotes in `<<-` heredocs, which breaks
    the JSON policies people write in them; the rule is simple enough to apply here.
    """
    lines = token.replace("\r\n", "\n").split("\n")
    trim = lines[0].startswith("<<-")
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    body = body[:-1]  # the closing marker
    if trim:
        indents = [len(line) - len(line.lstrip(" ")) for line in body if line.strip()]
        cut = min(indents, default=0)
        body = [line[cut:] for line in body]
    return "".join(f"{line}\n" for line in body)


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
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = hcl2.parses(text, discard_comments=True)
    except UnexpectedInput as exc:
        raise _syntax_error(path, exc) from None
    except (LarkError, RuntimeError, ValueError) as exc:
        raise ParseError(path, f"HCL syntax error: {exc}") from None
    walker = _Walker(path)
    blocks: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for child in tree.body.children:
        if isinstance(child, walker._attribute):
            span = _span(child._meta) or Span(1)
            name = child.identifier.serialize(walker.options)
            raise ParseError(path, f"unexpected attribute {name!r} at the top level: Terraform "
                             "files hold blocks (resource, variable, ...)", span.line, span.column)
        if not isinstance(child, walker._block):
            continue
        span = _span(child._meta) or Span(1)
        labels = [str(label.serialize(walker.options)) for label in child.labels]
        index = len(blocks)
        values = walker.body(child.body, ("blocks", index, "values"))
        record = _block_record(labels, values, path, span, path)
        if record["block_type"] in ("resource", "data", "module", "variable", "output"):
            first = seen.setdefault(record["address"], span.line)
            if first != span.line:
                raise ParseError(path, f"{record['address']} is declared twice (first at line {first})",
                                 span.line, span.column)
        walker.spans[("blocks", index)] = span
        blocks.append(record)
    return ParsedFile(path, blocks, walker.spans)


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


def _statement_from_json(index: int, item: dict[str, Any], path: JsonPath, line: int) -> dict[str, Any]:
    sid = item.get("Sid")
    return {
        "index": index,
        **({"sid": sid} if isinstance(sid, str) else {}),
        "effect": str(item.get("Effect", "Allow")),
        "actions": _as_list(item.get("Action")),
        "not_actions": _as_list(item.get("NotAction")),
        "resources": _as_list(item.get("Resource")),
        "not_resources": _as_list(item.get("NotResource")),
        "principals": _json_principals(item.get("Principal")),
        "path": list(path),
        "line": line,
    }


def _statement_from_block(index: int, item: dict[str, Any], path: JsonPath, line: int) -> dict[str, Any]:
    principals: dict[str, list[str]] = {}
    for principal in item.get("principals") or []:
        if isinstance(principal, dict):
            principals.setdefault(str(principal.get("type", "*")), []).extend(
                _as_list(principal.get("identifiers")))
    sid = item.get("sid")
    return {
        "index": index,
        **({"sid": sid} if isinstance(sid, str) else {}),
        "effect": str(item.get("effect", "Allow")),
        "actions": _as_list(item.get("actions")),
        "not_actions": _as_list(item.get("not_actions")),
        "resources": _as_list(item.get("resources")),
        "not_resources": _as_list(item.get("not_resources")),
        "principals": principals,
        "path": list(path),
        "line": line,
    }


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


def module_files(directory: Path, root: Path | None = None) -> list[Path]:
    """The `.tf` files of the module in `directory` (one level, sorted); [] if unreadable.

    With the repository `root`, a symbolic link leading out of it is left out (never read).
    """
    from pe_policy.discover import link_out_of_root

    try:
        files = sorted(p for p in directory.iterdir() if p.suffix == ".tf" and p.is_file()
                       and (root is None or not link_out_of_root(p, root)))
    except OSError:
        return []
    return files[:MAX_MODULE_FILES]


def parse_path(abs_path: Path, display: str) -> ParsedFile | None:
    """A `.tf` file read from disk and parsed (cached); None if it cannot be read or parsed.

    Used for files beside the one being checked: their own problems are
    reported when they are checked themselves.
    """
    try:
        return parse_hcl(read_text(abs_path, display), display)
    except ParseError:
        return None
    except RecursionError:
        return None


def parse_module(directory: Path, display_dir: str, root: Path | None = None) -> list[ParsedFile]:
    """Every parseable `.tf` file of the module in `directory` (see `module_files`)."""
    parsed: list[ParsedFile] = []
    for file in module_files(directory, root):
        display = str(PurePosixPath(display_dir) / file.name) if display_dir else file.name
        result = parse_path(file, display)
        if result is not None:
            parsed.append(result)
    return parsed


def _module_context(source: Source) -> tuple[dict[str, Any], dict[JsonPath, Span]] | None:
    if source.abs_path is None:
        return None
    directory = source.abs_path.parent
    display_dir = str(PurePosixPath(source.path).parent)
    display_dir = "" if display_dir == "." else display_dir
    files: list[str] = []
    blocks: list[dict[str, Any]] = []
    spans: dict[JsonPath, Span] = {}
    for file in module_files(directory, source.root):
        display = f"{display_dir}/{file.name}" if display_dir else file.name
        files.append(display)
        if file.name == source.abs_path.name:
            continue
        parsed = parse_path(file, display)
        if parsed is None:
            continue
        for index, block in enumerate(parsed.blocks):
            span = parsed.spans.get(("blocks", index), Span(block["line"]))
            spans[("module", "blocks", len(blocks))] = Span(span.line, span.column, path=display)
            blocks.append(block)
    return {"directory": display_dir or ".", "files": files, "blocks": blocks}, spans


# ---------------------------------------------------------------------------------- load


def load(source: Source) -> Document:
    try:
        parsed = parse_hcl(source.text, source.path)
        context = _module_context(source)
    except RecursionError:
        raise ParseError(source.path, "HCL nested too deeply to read") from None
    data: dict[str, Any] = {"blocks": parsed.blocks, "policy_documents": policy_documents(parsed)}
    spans = dict(parsed.spans)
    for n, document in enumerate(data["policy_documents"]):
        spans.setdefault(("policy_documents", n), Span(document["line"]))
        for m, statement in enumerate(document["statements"]):
            spans.setdefault(("policy_documents", n, "statements", m), Span(statement["line"]))
    if context is not None:
        data["module"], module_spans = context
        spans.update(module_spans)
    model = TerraformConfig.model_validate(data)
    return Document(kind=source.kind, path=source.path, model=model, source_map=SourceMap(spans),
                    text=source.text, raw=data)
