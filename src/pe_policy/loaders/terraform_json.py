"""Terraform's JSON syntax (`*.tf.json`, what CDK for Terraform writes), read into the blocks `.tf` gives.

https://developer.hashicorp.com/terraform/language/syntax/json: the root is an object whose
properties are block types; a block's labels are levels of nested objects (`resource` ->
type -> name -> body; `variable` -> name -> body; `locals` -> body), and at any of those
levels an array of objects stands for several; a property named `"//"` in a block is a
comment.  Strings are templates: `"${aws_s3_bucket.logs.id}"` is the expression
`aws_s3_bucket.logs.id`, read by the HCL loader's own expression walker (hcl.Walker), so
a rule sees the same value as from `bucket = aws_s3_bucket.logs.id` in a `.tf` file
(`"${jsonencode({...})}"` decoded, `"${true}"` a boolean); a string with literal text
around its interpolations (`"prefix-${local.env}"`) stays as written, as a quoted `.tf`
string does.  Where Terraform reads a string as an expression without `${}` (`depends_on`,
a resource's `provider`, `lifecycle.ignore_changes`, a variable's `type`, a module's
`providers`, `moved`/`import`/`removed` addresses, a `dynamic` block's `iterator`), so
does this loader; a variable's `default` is a literal, never a template.

What the spec leaves to the provider's schema: whether a property holding an object is a
nested block (`"versioning": {"enabled": true}`, which `.tf` gives as a list of one
object) or an argument of map type (`"tags": {...}`).  Without provider schemas, this
loader reads an object (or an array of objects) in a resource, data, provider or nested
block body as nested block(s), except for the map-typed arguments in `MAP_ARGUMENTS` and an
object with a key that cannot name an argument (`"kubernetes.io/role": ...`); the bodies of
`locals` and `module` hold arguments only, `variable`/`output`/`terraform`/`lifecycle`/
`dynamic`/`provisioner` their documented blocks only.

Positions: the text is validated by `json` (its error names line and column), then walked
once more for the offset of every key and value, so every block (at its last label's
key), attribute (at its key), nested block and list element has its line and column.
A value that is not Terraform's shape (a top-level array, a `resource` that is a string)
is a ParseError naming its path in the file and its line.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders.generic import parse_json_text

MAX_DEPTH = 256  # nesting of JSON arrays and objects
MAX_NODES = 200_000  # values and keys, as the HCL loader counts tokens (terraform.MAX_HCL_TOKENS)

# top-level block type -> how many labels it takes (Terraform's configuration schema)
BLOCK_LABELS: dict[str, int] = {
    "resource": 2, "data": 2, "ephemeral": 2, "module": 1, "variable": 1, "output": 1,
    "provider": 1, "check": 1, "locals": 0, "terraform": 0, "moved": 0, "import": 0,
    "removed": 0,
}
# arguments of map type in the providers' resources (an object there is an argument,
# never a nested block)
MAP_ARGUMENTS = frozenset({
    "tags", "tags_all", "labels", "annotations", "triggers", "variables", "environment_variables",
    "app_settings", "parameters", "policy", "assume_role_policy", "user_labels",
    "resource_labels", "default_labels", "freeform_tags", "defined_tags", "attributes",
    "properties", "settings_json", "context", "values", "data", "binary_data",
    "node_selector", "match_labels", "match_expressions_map", "extra_args", "options",
    "environment_vars", "limits", "requests", "keepers", "for_each", "input", "triggers_replace",
})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}

# Which properties of a body are blocks, per kind of body: name -> (labels, kind of its body).
# "schema": a provider-defined body (provider, nested blocks): see `_Converter.block_form`;
# "resource": a resource's or data source's own body (a schema body with the meta-arguments).
_BLOCKS: dict[str, dict[str, tuple[int, str]]] = {
    "locals": {}, "module": {}, "arguments": {}, "connection": {}, "moved": {}, "import": {},
    "variable": {"validation": (0, "arguments")},
    "output": {"precondition": (0, "arguments")},
    "terraform": {"required_providers": (0, "arguments"), "backend": (1, "arguments"),
                  "cloud": (0, "cloud"), "provider_meta": (1, "arguments")},
    "cloud": {"workspaces": (0, "arguments")},
    "lifecycle": {"precondition": (0, "arguments"), "postcondition": (0, "arguments")},
    "dynamic": {"content": (0, "schema")},
    "provisioner": {"connection": (0, "connection")},
    "removed": {"lifecycle": (0, "lifecycle"), "provisioner": (1, "provisioner"),
                "connection": (0, "connection")},
    "check": {"assert": (0, "arguments"), "data": (2, "resource")},
    "schema": {"dynamic": (1, "dynamic")},
    "resource": {"lifecycle": (0, "lifecycle"), "dynamic": (1, "dynamic"),
                 "provisioner": (1, "provisioner"), "connection": (0, "connection")},
}
# (kind of body, argument) -> how its strings are read: "bare" (an expression without `${}`),
# "bare_items" (a list of them), "bare_values" (an object of them), "literal" (no template)
_ARGUMENT_FORMS: dict[tuple[str, str], str] = {
    ("variable", "type"): "bare", ("variable", "default"): "literal",
    ("module", "source"): "literal", ("module", "version"): "literal",
    ("module", "providers"): "bare_values", ("module", "depends_on"): "bare_items",
    ("resource", "depends_on"): "bare_items", ("output", "depends_on"): "bare_items",
    ("check", "depends_on"): "bare_items", ("resource", "provider"): "bare",
    ("lifecycle", "ignore_changes"): "bare_items",
    ("lifecycle", "replace_triggered_by"): "bare_items",
    ("moved", "from"): "bare", ("moved", "to"): "bare", ("import", "to"): "bare",
    ("import", "provider"): "bare", ("removed", "from"): "bare",
    ("dynamic", "iterator"): "bare",
}
# top-level block type -> the kind of its body
_TOP_BODIES = {"resource": "resource", "data": "resource", "ephemeral": "resource",
               "provider": "schema"}
_SCHEMA_BODIES = ("schema", "resource")


class _Node:
    """A JSON value and where it is: `start`/`end` offsets of the value, and for an object
    its members (key, offset of the key, value) in order, repeats included."""

    __slots__ = ("end", "items", "members", "start", "value")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.value: Any = None
        self.members: list[tuple[str, int, _Node]] | None = None
        self.items: list[_Node] | None = None


def _what(node: _Node) -> str:
    if node.members is not None:
        return "an object"
    if node.items is not None:
        return "an array"
    value = node.value
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"


class _Reader:
    """The file's text walked for positions (after `json` has validated it)."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.nodes = 0
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]

    # ---------------------------------------------------------------- positions

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column)

    def error(self, offset: int, message: str) -> ParseError:
        line, column = self.position(offset)
        return ParseError(self.path, message, line, column)

    # ------------------------------------------------------------------- values

    def _skip(self, at: int) -> int:
        match = _WHITESPACE.match(self.text, at)
        return match.end() if match else at

    def value(self, at: int, depth: int = 0) -> tuple[_Node, int]:
        text = self.text
        at = self._skip(at)
        node = _Node(at)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(at, f"Terraform JSON with more than {MAX_NODES:,} values: too large "
                             "to check")
        if depth > MAX_DEPTH:
            raise self.error(at, f"Terraform JSON nested deeper than {MAX_DEPTH} levels: too deep "
                             "to check")
        char = text[at]
        if char == "{":
            node.members = []
            at = self._skip(at + 1)
            while text[at] != "}":
                key_at = at
                key, after = scanstring(text, at + 1)
                child, at = self.value(self._skip(after) + 1, depth + 1)
                node.members.append((key, key_at, child))
                at = self._skip(at)
                if text[at] == ",":
                    at = self._skip(at + 1)
            at += 1
        elif char == "[":
            node.items = []
            at = self._skip(at + 1)
            while text[at] != "]":
                child, at = self.value(at, depth + 1)
                node.items.append(child)
                at = self._skip(at)
                if text[at] == ",":
                    at += 1
                at = self._skip(at)
            at += 1
        elif char == '"':
            node.value, at = scanstring(text, at + 1)
        else:
            number = _NUMBER.match(text, at)
            if number is not None and number.end() > at:
                node.value = (float(number.group()) if number.group(1) or number.group(2)
                              else int(number.group()))
                at = number.end()
            else:
                word = re.match(r"[A-Za-z]+", text[at:at + 16])
                name = word.group() if word else text[at]
                if name not in _LITERALS:
                    raise self.error(at, f"invalid JSON: {name!r} is not a JSON value")
                node.value = _LITERALS[name]
                at += len(name)
        node.end = at
        return node, at


# ------------------------------------------------------------------------- expressions

_HEREDOC = "PE_POLICY_TF_JSON_TEMPLATE"


class _NotAnExpression(ValueError):
    """A string Terraform would read as a template or expression that is not valid HCL."""


def _hcl_expression(text: str, bare: bool) -> Any:
    """The value the HCL loader gives the expression in `text`: a bare expression (`bare`,
    `aws_s3_bucket.logs`) or a template (`"${var.x}"` is `var.x`; literal text around the
    interpolations leaves the string as written).  Values shared by the cache are copied."""
    from pe_policy.loaders.expressions import copied

    return copied(_hcl_expression_cached(text, bare))


@functools.lru_cache(maxsize=4096)
def _hcl_expression_cached(text: str, bare: bool) -> Any:
    from pe_policy.loaders.hcl import Walker, parse_source

    if bare and text.startswith("${") and text.endswith("}"):
        bare = False  # `"${aws.west}"`: Terraform takes a lone interpolation here too (with a warning)
    if bare:
        if "\n" in text:
            raise _NotAnExpression("an expression of one line is expected")
        source = f"a = {text}\n"
    elif any(line.strip() == _HEREDOC for line in text.split("\n")):
        return text  # cannot be read inside the heredoc this reads it in: left as written
    else:
        source = f"a = <<{_HEREDOC}\n{text}\n{_HEREDOC}\n"
    try:
        walker, _, body = parse_source(source, "", Walker)
    except ParseError:  # its position is in the text made here: the caller names the string's
        raise _NotAnExpression("not valid HCL (an unclosed `${`, or an invalid expression "
                               "inside one?)" if not bare else "not a valid HCL expression") from None
    items = [] if body is None else [c for c in body.children if c.type in ("attribute", "block")]
    if len(items) != 1 or items[0].type != "attribute":
        raise _NotAnExpression("one expression is expected")
    expression = next(c for c in items[0].children if c.type == "expression")
    if bare:
        return walker.expression(expression, ())
    template = expression.children[0].children[0]  # template_expr > heredoc_template
    start = len(f"a = <<{_HEREDOC}\n".encode())
    end = start + len(text.encode("utf-8", "surrogatepass"))
    whole = [c for c in template.children if c.start_byte == start and c.end_byte == end]
    if whole and whole[0].type == "template_interpolation":
        inner = next(c for c in whole[0].children if c.type == "expression")
        return walker.expression(inner, ())
    return text


# ------------------------------------------------------------------------- blocks


def _dotted(where: list[str | int]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else
                   (f".{part}" if _IDENTIFIER.match(part) else f"[{json.dumps(part)}]")
                   for part in where).lstrip(".") or "the document"


def _is_identifier_object(node: _Node) -> bool:
    return node.members is not None and all(_IDENTIFIER.match(key) for key, _, _ in node.members)


class _Converter:
    """Builds the blocks of one file, with their spans, from its located JSON."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.spans: dict[JsonPath, Span] = {}

    def fail(self, offset: int, where: list[str | int], message: str) -> ParseError:
        return self.reader.error(offset, f"{_dotted(where)}: {message}")

    def top_level(self, root: _Node) -> Iterator[tuple[list[str], _Node, int]]:
        """(labels with the block type first, body, offset of the block) of every block."""
        if root.members is None:
            raise self.reader.error(root.start, "a Terraform JSON file is an object whose "
                                    f"properties are block types (resource, variable, ...), "
                                    f"found {_what(root)}")
        for key, key_at, child in root.members:
            if key == "//":
                continue
            labels = BLOCK_LABELS.get(key)
            if labels is None:
                raise self.fail(key_at, [key], f"unknown block type {key!r} (Terraform's are "
                                f"{', '.join(BLOCK_LABELS)})")
            yield from self.labelled(child, [key], labels, key_at, [key])

    def labelled(self, node: _Node, labels: list[str], remaining: int, anchor: int,
                 where: list[str | int]) -> Iterator[tuple[list[str], _Node, int]]:
        """The bodies under `node`, `remaining` levels of labels down (an array at any level
        stands for several), each with its labels and where its last label is."""
        if node.items is not None:
            for n, item in enumerate(node.items):
                if item.members is None:
                    raise self.fail(item.start, [*where, n], f"expected an object, found {_what(item)}")
                yield from self.labelled(item, labels, remaining, item.start, [*where, n])
            return
        if node.members is None:
            wanted = ("a block body (an object)" if remaining == 0 else
                      f"an object keyed by the block's {'label' if remaining == 1 else 'labels'}")
            raise self.fail(node.start, where, f"expected {wanted}, found {_what(node)}")
        if remaining == 0:
            yield labels, node, anchor
            return
        for key, key_at, child in node.members:
            if key != "//":
                yield from self.labelled(child, [*labels, key], remaining - 1, key_at, [*where, key])

    def block_form(self, kind: str, key: str, node: _Node) -> tuple[int, str] | None:
        """(labels, kind of body) when property `key` of a `kind` body is a block; None for an
        argument (see the module's docstring for how a provider's body is told)."""
        known = _BLOCKS[kind].get(key)
        if known is not None or kind not in _SCHEMA_BODIES or key in MAP_ARGUMENTS:
            return known
        if _is_identifier_object(node):
            return 0, "schema"
        if node.items and all(_is_identifier_object(item) for item in node.items):
            return 0, "schema"
        return None

    def body(self, node: _Node, kind: str, path: JsonPath, where: list[str | int]) -> dict[str, Any]:
        assert node.members is not None
        values: dict[str, Any] = {}
        attribute_lines: dict[str, int] = {}
        for key, key_at, child in node.members:
            if key == "//":
                continue
            form = self.block_form(kind, key, child)
            line = self.reader.position(key_at)[0]
            if form is None or key in attribute_lines:
                if key in values:
                    first = attribute_lines.get(key)
                    raise self.fail(key_at, [*where, key], f"{key!r} is already defined" +
                                    (f" at line {first}" if first else " as a block"))
                attribute_lines[key] = line
                attribute_path: JsonPath = (*path, key)
                self.spans[attribute_path] = self.reader.span(key_at, child.end)
                values[key] = self.argument(child, _ARGUMENT_FORMS.get((kind, key)), attribute_path,
                                            [*where, key])
                continue
            labels, inner_kind = form
            existing = values.setdefault(key, [])
            self.spans.setdefault((*path, key), self.reader.span(key_at, child.end))
            for body_labels, body_node, anchor in self.labelled(child, [], labels, key_at, [*where, key]):
                item_path: JsonPath = (*path, key, len(existing))
                inner_path: JsonPath = (*item_path, *body_labels)
                value: Any = self.body(body_node, inner_kind, inner_path,
                                       [*where, key, *body_labels])
                for label in reversed(body_labels):
                    value = {label: value}
                existing.append(value)
                span = self.reader.span(anchor, body_node.end)
                self.spans[item_path] = span
                if body_labels:
                    self.spans[inner_path] = span
        return values

    def argument(self, node: _Node, form: str | None, path: JsonPath, where: list[str | int]) -> Any:
        """An argument's value: strings as templates (or as `form` says), objects and arrays
        with every member and element located."""
        if node.members is not None:
            out: dict[str, Any] = {}
            inner_form = "bare" if form == "bare_values" else form if form == "literal" else None
            for key, key_at, child in node.members:
                if key in out:
                    raise self.fail(key_at, [*where, key], f"key {key!r} is repeated in this object")
                item_path: JsonPath = (*path, key)
                self.spans[item_path] = self.reader.span(key_at, child.end)
                out[key] = self.argument(child, inner_form, item_path, [*where, key])
            return out
        if node.items is not None:
            items: list[Any] = []
            inner_form = "bare" if form == "bare_items" else form if form == "literal" else None
            for n, child in enumerate(node.items):
                item_path = (*path, n)
                self.spans[item_path] = self.reader.span(child.start, child.end)
                items.append(self.argument(child, inner_form, item_path, [*where, n]))
            return items
        value = node.value
        if not isinstance(value, str) or form == "literal":
            return value
        bare = form in ("bare", "bare_items")
        if not bare and "${" not in value and "%{" not in value:
            return value
        try:
            result = _hcl_expression(value, bare)
        except _NotAnExpression as exc:
            what = "expression" if bare else "template"
            raise self.fail(node.start, where, f"invalid {what} {value[:60]!r}: {exc}") from None
        if isinstance(result, (dict, list)):
            self._locate_inside(result, path, self.reader.span(node.start, node.end))
        return result

    def _locate_inside(self, value: Any, path: JsonPath, span: Span) -> None:
        """Every member of a value decoded from a string (`${jsonencode({...})}`) lies at the
        string."""
        stack: list[tuple[JsonPath, Any]] = [(path, value)]
        while stack:
            here, node = stack.pop()
            pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
                node, list) else ()
            for key, child in pairs:
                inner: JsonPath = (*here, key)
                self.spans[inner] = span
                stack.append((inner, child))


def body_kind(block_type: str) -> str:
    """The kind of body (see `_BLOCKS`) of a top-level block."""
    return _TOP_BODIES.get(block_type, block_type)


def read_blocks(text: str, path: str) -> tuple[list[tuple[list[str], dict[str, Any], Span]],
                                                dict[JsonPath, Span]]:
    """([(labels, values, span)] of every top-level block in order, spans of their values at
    ("blocks", n, "values", ...)).  ParseError when `text` is not JSON, or not Terraform's."""
    parse_json_text(text, path)  # validated (errors at their line and column), then located
    reader = _Reader(text, path)
    root, _ = reader.value(0)
    converter = _Converter(reader)
    blocks: list[tuple[list[str], dict[str, Any], Span]] = []
    for labels, body, anchor in converter.top_level(root):
        values = converter.body(body, body_kind(labels[0]), ("blocks", len(blocks), "values"),
                                list(labels))
        blocks.append((labels, values, reader.span(anchor, body.end)))
    return blocks, converter.spans
