"""HCL native syntax (Terraform's `.tf`) read with tree-sitter's HCL grammar, every node located.

Why tree-sitter (`tree-sitter-hcl`): it reads what Terraform reads (heredocs whose end
marker carries spaces, `<<-`, templates and directives, `for` expressions, splats,
provider-defined functions) at C speed with a position on every node, and where text is
not valid HCL it says where (an ERROR or MISSING node), never a shorter tree.
python-hcl2 (lark) cost 17 ms per 4 KB file in the walk below, 10x tree-sitter, and
read a heredoc whose end marker has trailing spaces as running on to the next one,
swallowing the blocks in between.

tree-sitter's grammar is more lenient than HashiCorp's parser in one respect: it
ignores newlines, which HCL requires after each argument and block.  `Walker` checks
those (Terraform's "Missing newline after argument", "Invalid single-argument block
definition"), and `_check_accounted` verifies, independently of the tree, that every
line of the text that opens a top-level block is one the walk produced: a parse that
does not account for every block is an error, never a partial document.

Values are built the way `terraform show -json` holds them: literals as JSON values,
nested blocks as lists of objects, `jsonencode(<literal>)` decoded, heredocs and quoted
strings as their text (escapes decoded, `$${` kept as written), and every other
expression as a Terraform template string, `"${var.x}"`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError

# the keywords that open a top-level block in Terraform (the language's block types)
TOP_LEVEL_BLOCKS = ("resource", "data", "module", "variable", "output", "locals", "provider",
                    "terraform", "moved", "import", "check", "removed", "ephemeral")
_BLOCK_OPENING = re.compile(
    rb"^(?:" + b"|".join(t.encode() for t in TOP_LEVEL_BLOCKS) + rb')(?:[ \t]+(?:"[^"\n]*"|[\w-]+))*[ \t]*\{',
    re.MULTILINE)
_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_INTEGER = re.compile(r"[0-9]+")
_SPACES = re.compile(r"\s*\n\s*")
# inside these, HCL ignores line breaks (tuples, calls' arguments, indexes, `for`, templates)
_NEWLINES_FREE = frozenset({"tuple", "function_arguments", "index", "new_index", "legacy_index",
                            "for_tuple_expr", "for_object_expr", "template_interpolation",
                            "template_directive", "heredoc_template", "quoted_template",
                            "string_lit", "template_expr"})


@functools.cache
def _language() -> Any:
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Language(tree_sitter_hcl.language())


@functools.cache
def _parser() -> Any:
    import tree_sitter

    return tree_sitter.Parser(_language())


def unescape(text: str) -> str:
    """A quoted string's literal part as Terraform reads it (`\\n`, `\\"`, `\\u00e9`)."""
    if "\\" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        escape = match.group(0)[1:]
        if escape[0] in "uU":
            return chr(int(escape[1:], 16))
        return _SIMPLE_ESCAPES.get(escape, match.group(0))

    return _ESCAPE.sub(one, text)


def heredoc_value(token: str) -> str:
    """The string a heredoc (`<<EOT` / `<<-EOT` ... `EOT`) stands for, as Terraform reads it.

    `<<-` removes the indentation common to the lines that have text; the closing
    marker's line (with any spaces around the marker) is not part of the value.
    """
    lines = token.replace("\r\n", "\n").split("\n")
    trim = lines[0].startswith("<<-")
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    body = body[:-1]  # the closing marker
    if trim:
        indents = [len(line) - len(line.lstrip(" \t")) for line in body if line.strip()]
        cut = min(indents, default=0)
        body = [line[cut:] for line in body]
    return "".join(f"{line}\n" for line in body)


class Walker:
    """Builds plain values from tree-sitter's HCL tree, recording a span for every node.
    Terraform's shape; conftest's hcl2json subclasses it for tmccombs/hcl2json's."""

    def __init__(self, source: bytes, path: str) -> None:
        self.source = source
        self.path = path
        self.spans: dict[JsonPath, Span] = {}
        self._lines: list[bytes] | None = None
        self.ascii = source.isascii()
        self.heredocs_walked = 0

    # ------------------------------------------------------------------ positions

    def _column(self, row: int, byte_column: int) -> int:
        """1-based column in characters (tree-sitter counts bytes)."""
        if byte_column == 0:
            return 1
        if self._lines is None:
            self._lines = self.source.split(b"\n")
        line = self._lines[row] if row < len(self._lines) else b""
        prefix = line[:byte_column]
        if prefix.isascii():
            return byte_column + 1
        return len(prefix.decode("utf-8", "replace")) + 1

    def span(self, node: Any) -> Span:
        (start_row, start_column), (end_row, end_column) = node.start_point, node.end_point
        if self.ascii:  # columns in bytes are columns in characters
            return Span(start_row + 1, start_column + 1, end_row + 1, end_column + 1)
        return Span(start_row + 1, self._column(start_row, start_column), end_row + 1,
                    self._column(end_row, end_column))

    def error(self, node: Any, message: str) -> ParseError:
        start = node.start_point
        return ParseError(self.path, message, start[0] + 1, self._column(start[0], start[1]))

    def text(self, node: Any) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    # ----------------------------------------------------------------------- bodies

    def labels(self, block: Any) -> tuple[str, list[str]]:
        """(block type, labels) of a block node."""
        block_type = ""
        labels: list[str] = []
        row = block.start_point[0]
        for child in block.children:
            kind = child.type
            if child.start_point[0] != row and kind != "comment":
                raise self.error(block, "a block's type, its labels and its `{` go on one line")
            if kind == "identifier":
                if not block_type:
                    block_type = self.text(child)
                else:
                    labels.append(self.text(child))
            elif kind == "string_lit":
                labels.append(self.quoted(child))
            elif kind == "block_start":
                break
            elif kind != "comment":
                raise self.error(child, "a block label is a name or a plain quoted string")
        return block_type, labels

    def check_layout(self, block: Any, items: list[Any]) -> None:
        """HCL's newline rules, which tree-sitter's grammar does not enforce."""
        start = next(c for c in block.children if c.type == "block_start")
        end = block.children[-1]
        if not items:
            return
        if items[0].start_point[0] == start.end_point[0]:  # a single-line block
            if len(items) != 1 or items[0].type != "attribute" or end.start_point[0] != start.end_point[0]:
                raise self.error(items[0], "invalid single-argument block definition: an argument "
                                 "on the same line as its block's `{` makes a single-line block, "
                                 "which holds one argument and closes on the same line")
        elif items[-1].end_point[0] == end.start_point[0]:
            raise self.error(end, "missing newline before `}`: a block's closing brace goes on "
                             "a line of its own")

    def items(self, body: Any) -> Iterator[tuple[Any, Span]]:
        """The attributes and blocks of a body with their spans, each checked to start on a
        line of its own (HCL's rule, which tree-sitter's grammar does not enforce)."""
        previous_end = -1
        for child in body.children:
            if child.type not in ("attribute", "block"):
                continue
            if child.start_point[0] == previous_end:
                raise self.error(child, "missing newline after an argument or block: each goes "
                                 "on a line of its own")
            previous_end = child.end_point[0]
            yield child, self.span(child)

    def attribute(self, child: Any, span: Span) -> tuple[str, Any]:
        """(name, expression node) of an attribute node, its layout checked."""
        parts = child.children  # identifier, "=", expression (and any comment)
        name = self.text(parts[0])
        if parts[1].start_point[0] != span.line - 1 or parts[2].start_point[0] != span.line - 1:
            raise self.error(parts[0], f"unexpected line break in the definition of "
                             f"{name!r}: its name, `=` and value start on one line")
        expression = parts[2] if parts[2].type == "expression" else next(
            c for c in parts if c.type == "expression")
        if expression.start_point[0] != expression.end_point[0]:
            self.check_newlines(expression)
        return name, expression

    def redefined(self, child: Any, name: str, first_line: int) -> ParseError:
        return self.error(child, f"attribute {name!r} is already defined at line {first_line}")

    def body(self, body: Any, path: JsonPath) -> dict[str, Any]:
        values: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        block_keys: set[str] = set()
        for child, span in self.items(body):
            if child.type == "attribute":
                name, expression = self.attribute(child, span)
                if name in first_line and name not in block_keys:
                    raise self.redefined(child, name, first_line[name])
                if name in block_keys:  # blocks of that name came first: see `_merge_attribute`
                    self._merge_attribute(child, name, expression, values, path)
                    continue
                first_line[name] = span.line
                attribute_path: JsonPath = (*path, name)
                self.spans[attribute_path] = span
                values[name] = self.expression(expression, attribute_path)
                continue
            name, labels = self.labels(child)
            if name not in block_keys and name in first_line and not isinstance(values[name], list):
                raise self.error(child, f"{name!r} is already defined as an attribute (not a "
                                 f"list) at line {first_line[name]}")
            block_keys.add(name)
            first_line.setdefault(name, span.line)
            existing = values.setdefault(name, [])
            item_path: JsonPath = (*path, name, len(existing))
            inner_path = (*item_path, *labels)
            value: Any = self.block_body(child, inner_path)
            for label in reversed(labels):
                value = {label: value}
            existing.append(value)
            self.spans.setdefault((*path, name), span)
            self.spans[item_path] = span
            if labels:
                self.spans[inner_path] = span
        return values

    def _merge_attribute(self, child: Any, name: str, expression: Any, values: dict[str, Any],
                         path: JsonPath) -> None:
        """An attribute named like blocks before it in the same body (a provider's "attributes
        as blocks": `ingress { ... }` and `ingress = [...]`): its items follow the blocks',
        in one list, so nothing is dropped; a value that is not a list cannot be merged."""
        scratch: JsonPath = (*path, name, "\x00attribute")
        value = self.expression(expression, scratch)
        if not isinstance(value, list):
            raise self.error(child, f"attribute {name!r} is already defined as a block")
        existing = values[name]
        offset = len(existing)
        for key in [k for k in self.spans if k[:len(scratch)] == scratch]:
            rest = key[len(scratch):]
            if rest and isinstance(rest[0], int):
                moved: JsonPath = (*path, name, rest[0] + offset, *rest[1:])
                self.spans[moved] = self.spans[key]
            del self.spans[key]
        existing.extend(value)

    def block_body(self, block: Any, path: JsonPath) -> dict[str, Any]:
        inner = next((c for c in block.children if c.type == "body"), None)
        items = [] if inner is None else [c for c in inner.children if c.type in ("attribute", "block")]
        self.check_layout(block, items)
        return {} if inner is None else self.body(inner, path)

    def check_newlines(self, node: Any) -> None:
        """Outside brackets, a line break ends an expression in HCL (tree-sitter reads on):
        `bucket = aws_s3_bucket` then `.uploads.id` on the next line is invalid."""
        kind = node.type
        if kind in _NEWLINES_FREE or node.start_point[0] == node.end_point[0]:
            return
        children = [c for c in node.children if c.type != "comment"]
        if kind != "object" and children and children[0].type == "(":
            return  # a parenthesised expression
        previous = None
        for child in children:
            if (previous is not None and kind not in ("object", "collection_value")
                    and child.start_point[0] > previous.end_point[0]):
                raise self.error(child, "unexpected line break inside an expression: outside "
                                 "brackets or parentheses an expression ends with its line")
            previous = child
            if kind == "function_call" and child.type == "(":
                return
            self.check_newlines(child)

    # ------------------------------------------------------------------ expressions

    def expression(self, node: Any, path: JsonPath) -> Any:
        while node.type == "expression" and node.named_child_count == 1 and node.child_count == 1:
            node = node.children[0]
        kind = node.type
        if kind == "literal_value":
            return self.literal(node.children[0])
        if kind == "collection_value":
            return self.collection(node.children[0], path)
        if kind == "template_expr":
            return self.template(node.children[0], path)
        if kind == "variable_expr":  # a bare name (`type = string`, `iterator = port`)
            return self.text(node)
        if kind == "function_call":
            argument = self._jsonencode_argument(node)
            if argument is not None:
                return self.collection(argument, path)
        if kind == "operation":
            number = self._negative_number(node)
            if number is not None:
                return number
        return "${" + _SPACES.sub(" ", self.text(node)) + "}"

    def literal(self, node: Any) -> Any:
        kind = node.type
        if kind == "string_lit":
            return self.quoted(node)
        text = self.text(node)
        if kind == "numeric_lit":
            return int(text) if _INTEGER.fullmatch(text) else float(text)
        if kind == "bool_lit":
            return text == "true"
        return None  # null_lit

    def quoted(self, node: Any) -> str:
        """A quoted string or template: its literal text unescaped, `${...}` and `%{...}` as
        written.  Whitespace is not a node of tree-sitter's tree: the text between the
        children is read from the source."""
        children = node.children
        if len(children) < 2:
            return ""
        source = self.source
        if len(children) <= 3 and children[-1].start_point[0] == children[0].start_point[0] and (
                len(children) == 2 or children[1].type == "template_literal"):  # a plain string
            literal = source[children[0].end_byte:children[-1].start_byte].decode("utf-8", "replace")
            self._check_literal(node, literal)
            return unescape(literal)
        parts: list[str] = []
        at = children[0].end_byte
        for child in children[1:-1]:
            if child.type == "template_literal" or child.start_byte > at:
                literal_end = child.end_byte if child.type == "template_literal" else child.start_byte
                literal = source[at:literal_end].decode("utf-8", "replace")
                self._check_literal(node, literal)
                if "\n" in literal:
                    raise self.error(node, "invalid multi-line string: a quoted string ends on "
                                     "the line it starts (use a heredoc, <<EOT, for text of "
                                     "several lines)")
                parts.append(unescape(literal))
                if child.type == "template_literal":
                    at = child.end_byte
                    continue
            parts.append(source[child.start_byte:child.end_byte].decode("utf-8", "replace"))
            at = child.end_byte
        tail = source[at:children[-1].start_byte].decode("utf-8", "replace")
        self._check_literal(node, tail)
        if "\n" in tail:
            raise self.error(node, "invalid multi-line string: a quoted string ends on the line "
                             "it starts (use a heredoc, <<EOT, for text of several lines)")
        parts.append(unescape(tail))
        return "".join(parts)

    def _check_literal(self, node: Any, literal: str) -> None:
        """`${` and `%{` always open a sequence in HCL (`$${` and `%%{` are the escapes);
        tree-sitter reads an unclosed one as text."""
        if "{" in literal and ("${" in literal or "%{" in literal):
            bare = literal.replace("$${", "").replace("%%{", "")
            if "${" in bare or "%{" in bare:
                raise self.error(node, "unterminated template sequence: `${` or `%{` without "
                                 "its `}` (write `$${` or `%%{` for the characters themselves)")

    def template(self, node: Any, path: JsonPath) -> str:
        if node.type == "heredoc_template":
            _check_heredoc(self, node)
            self.heredocs_walked += 1
            value = heredoc_value(self.text(node))
            self._heredoc_json_spans(value, node, path)
            return value
        return self.quoted(node)

    def collection(self, node: Any, path: JsonPath) -> Any:
        if node.type == "tuple":
            items: list[Any] = []
            for child in node.children:
                if child.type != "expression":
                    continue
                item_path: JsonPath = (*path, len(items))
                self.spans[item_path] = self.span(child)
                items.append(self.expression(child, item_path))
            return items
        out: dict[str, Any] = {}
        previous = None
        for element in node.children:
            if element.type != "object_elem":
                if element.type == "," and previous is not None:
                    if element.start_point[0] != previous.end_point[0]:
                        raise self.error(element, "unexpected `,` at the start of a line: an "
                                         "object attribute ends with a comma or a line break")
                    previous = None
                continue
            if previous is not None and previous.end_point[0] == element.start_point[0]:
                raise self.error(element, "missing attribute separator: object attributes are "
                                 "separated by a comma or a line break")
            previous = element
            key_node, value_node = [c for c in element.children if c.type == "expression"][:2]
            key = self.object_key(key_node)
            key_path: JsonPath = (*path, key)
            self.spans[key_path] = self.span(element)
            out[key] = self.expression(value_node, key_path)
        return out

    def object_key(self, node: Any) -> str:
        """A bare name or a string is the key itself; any other expression is its template."""
        inner = node.children[0] if node.child_count == 1 else node
        if inner.type == "variable_expr":
            return self.text(inner)
        value = self.expression(node, ())
        return value if isinstance(value, str) else str(value)

    def _jsonencode_argument(self, call: Any) -> Any:
        """The object/tuple literal inside `jsonencode(...)`, else None."""
        if self.text(call.children[0]) != "jsonencode":
            return None
        arguments = next((c for c in call.children if c.type == "function_arguments"), None)
        if arguments is None:
            return None
        expressions = [c for c in arguments.children if c.type == "expression"]
        if len(expressions) != 1 or arguments.child_count != 1:  # `jsonencode(x...)` expands
            return None
        inner = expressions[0]
        if inner.child_count == 1 and inner.children[0].type == "collection_value":
            return inner.children[0].children[0]
        return None

    def _negative_number(self, node: Any) -> int | float | None:
        """`-1` is a number, as in `terraform show -json`."""
        unary = node.children[0]
        if (unary.type == "unary_operation" and unary.child_count == 2
                and self.text(unary.children[0]) == "-" and unary.children[1].type == "literal_value"
                and unary.children[1].children[0].type == "numeric_lit"):
            value = self.literal(unary.children[1].children[0])
            return -value if isinstance(value, (int, float)) else None
        return None

    def _heredoc_json_spans(self, value: str, node: Any, path: JsonPath) -> None:
        """Lines inside a heredoc holding JSON (an IAM policy), for findings on a statement."""
        if not value.lstrip().startswith(("{", "[")):
            return
        import json

        from pe_policy.loaders.yaml_source import load_yaml

        try:
            json.loads(value)
            _, inner = load_yaml(value, self.path, line_offset=node.start_point[0] + 1)
        except (ValueError, ParseError, RecursionError):
            return
        for sub, sub_span in inner.items():
            if sub:
                inner_path: JsonPath = (*path, *sub)
                self.spans[inner_path] = sub_span


def _first_error(node: Any) -> Any:
    """The first ERROR or MISSING node, in the order of the text; inside an ERROR that holds
    others (an unclosed `{` swallows what follows), the first one it holds: the text is
    read correctly up to there."""
    for child in node.children:
        if child.is_missing:
            return child
        if child.type == "ERROR":
            inner = _first_error(child)
            return inner if inner is not child else child
        if child.has_error:
            return _first_error(child)
    return node


def syntax_error(walker: Walker, root: Any) -> ParseError:
    """Where tree-sitter could not read the text, said in a sentence."""
    node = _first_error(root)
    if node.is_missing:
        if node.start_byte >= len(walker.source.rstrip()):
            return walker.error(node, "HCL syntax error: unexpected end of file (an unclosed "
                                "block, bracket or string?)")
        return walker.error(node, f"HCL syntax error: missing {node.type!r}")
    first = node
    while first.child_count:
        first = first.children[0]
    text = walker.text(first).strip().splitlines()
    what = repr(text[0][:40]) if text else "a line break"
    if node.start_byte >= len(walker.source.rstrip()):
        return walker.error(node, "HCL syntax error: unexpected end of file (an unclosed block, "
                            "bracket or string?)")
    return walker.error(first, f"HCL syntax error: unexpected {what}")


def _check_accounted(walker: Walker, root: Any, starts: set[int]) -> None:  # byte offsets
    """Every line that opens a top-level block (`resource "a" "b" {` at column 1) is a block
    the walk produced, or lies inside a string or heredoc; and no heredoc runs past a line
    that would have closed it.  Independent of the walk, so a misread is an error."""
    source = walker.source
    heredocs: list[Any] = []
    if source.count(b"<<") > walker.heredocs_walked:  # some heredoc inside an expression?
        heredocs = _captures(root, "heredoc")
        for heredoc in heredocs:
            _check_heredoc(walker, heredoc)
    strings: list[Any] = []
    if _odd_quotes(source):  # a quoted string may run over a line break: find it
        strings = _captures(root, "string")
        for string in strings:  # one not walked (inside an expression) is checked here
            if string.start_point[0] != string.end_point[0]:
                walker.quoted(string)
    strays = [m.start() for m in _BLOCK_OPENING.finditer(source) if m.start() not in starts]
    if not strays:
        return
    heredocs = heredocs or _captures(root, "heredoc")
    strings = strings or _captures(root, "string")
    inside = [(n.start_byte, n.end_byte) for n in [*heredocs, *strings]]
    for at in strays:
        if not any(lo < at < hi for lo, hi in inside):
            raise ParseError(walker.path, "the block opened here was not read by the HCL parser "
                             "(pe-policy never checks part of a file)",
                             walker.source.count(b"\n", 0, at) + 1, 1)


def _odd_quotes(source: bytes) -> bool:
    """Whether some line has an odd number of `"` (escapes aside): the one way a quoted
    string can run over a line break.  Most files have none, and skip the search."""
    return any((line.count(b'"') - line.count(b'\\"')) % 2 for line in source.split(b"\n"))


_QUERIES = {"heredoc": "(heredoc_template) @node",
            "string": "[(quoted_template) (string_lit)] @node"}


@functools.cache
def _query(name: str) -> Any:
    import tree_sitter

    return tree_sitter.Query(_language(), _QUERIES[name])


def _captures(root: Any, name: str) -> list[Any]:
    """The nodes of one kind in the tree, found by tree-sitter (in C, not a walk in Python)."""
    import tree_sitter

    return list(tree_sitter.QueryCursor(_query(name)).captures(root).get("node", []))


def _check_heredoc(walker: Walker, node: Any) -> None:
    identifiers = [c for c in node.children if c.type == "heredoc_identifier"]
    if len(identifiers) != 2:
        return
    marker = walker.text(identifiers[0]).strip()
    body_start = identifiers[0].end_byte
    body_end = identifiers[1].start_byte
    for line in walker.source[body_start:body_end].split(b"\n")[1:-1]:
        if line.strip().decode("utf-8", "replace") == marker:
            raise walker.error(identifiers[1], f"heredoc {marker} is closed before this line "
                               "by a line holding only its marker")


_W = TypeVar("_W", bound=Walker)


# A number with an exponent and no fraction (`1e3`, `2E-4`): valid HCL, but tree-sitter-hcl's
# grammar wants a fraction before an exponent.  Not after a word character or a dot, so an
# identifier (`x1e3`) or an attribute (`a.1e3`) is never touched.
_EXPONENT_NO_FRACTION = re.compile(rb"(?<![\w.])\d+[eE][+-]?\d+(?![\w.])")


def _parseable(source: bytes) -> bytes:
    """`source` as tree-sitter-hcl parses it: each `1e3` becomes digits of the same length
    (`111`), so every node keeps its byte offsets.  Only the tree is built from this copy; the
    walker reads every value from the original source (the literal's text `1e3`, 1000.0)."""
    if not _EXPONENT_NO_FRACTION.search(source):
        return source
    return _EXPONENT_NO_FRACTION.sub(lambda m: b"1" * len(m.group(0)), source)


def parse_source(text: str, path: str, walker_class: type[_W]) -> tuple[_W, Any, Any]:
    """(walker, root, top-level body or None) of `text` in tree-sitter's tree, the walker of
    `walker_class` (a subclass builds another shape of value: conftest's hcl2json).
    ParseError (with line and column) if it is not valid HCL."""
    source = text.encode("utf-8", "surrogatepass")
    root = _parser().parse(_parseable(source)).root_node
    walker = walker_class(source, path)
    if root.has_error:
        raise syntax_error(walker, root)
    return walker, root, next((c for c in root.children if c.type == "body"), None)


def parse_blocks(text: str, path: str) -> tuple[list[tuple[Any, str, list[str]]], Walker, Any]:
    """tree-sitter's tree of `text`: its top-level block nodes (node, type, labels), the walker
    that reads them, and the root.  ParseError (with line and column) if it is not valid HCL."""
    walker, root, body = parse_source(text, path, Walker)
    blocks: list[tuple[Any, str, list[str]]] = []
    previous_end = -1
    for child in [] if body is None else body.children:
        if child.type == "attribute":
            name = walker.text(child.children[0])
            raise walker.error(child, f"unexpected attribute {name!r} at the top level: Terraform "
                               "files hold blocks (resource, variable, ...)")
        if child.type != "block":
            continue
        if child.start_point[0] == previous_end:
            raise walker.error(child, "missing newline after a block: each block starts on a "
                               "line of its own")
        previous_end = child.end_point[0]
        block_type, labels = walker.labels(child)
        blocks.append((child, block_type, labels))
    return blocks, walker, root


def check_accounted(walker: Walker, root: Any, blocks: Iterable[Any]) -> None:
    """After the walk of the top-level block nodes `blocks`: see `_check_accounted`."""
    _check_accounted(walker, root, {node.start_byte for node in blocks})
