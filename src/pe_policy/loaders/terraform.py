"""Terraform `.tf` files: every block with its values and the line of every attribute.

hcl.py parses (tree-sitter's HCL grammar) and builds each block's values, so each
attribute, nested block, object key and list element gets its span.  The same parse
serves the plan loader, which maps a plan's resources onto the `.tf` blocks beside it
(`parse_module`).

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
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source, read_text
from pe_policy.models.terraform import TerraformConfig

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
    from pe_policy.loaders.hcl import parse_blocks

    nodes, walker, _ = parse_blocks(text, path)
    blocks: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for node, block_type, labels in nodes:
        span = walker.span(node)
        index = len(blocks)
        values = walker.block_body(node, ("blocks", index, "values"))
        record = _block_record([block_type, *labels], values, path, span, path)
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
