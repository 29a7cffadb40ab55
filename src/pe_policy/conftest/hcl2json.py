"""HCL2 (`.tf`, `.hcl`, `.tfvars`) in the shape conftest's `hcl2` parser gives it to policies.

conftest converts HCL2 with tmccombs/hcl2json (v0.6.7, `convert.go`): a block is nested under
its type and each of its labels, and the innermost key holds a list of bodies (every block of
the same address appended to it), so a policy reads `input.resource.aws_s3_bucket.logs[0].acl`.
A literal is its JSON value (`-1` and `!true` too); a string is its text, a heredoc its text;
inside a template each `${...}` is its expression's source and each `%{...}` directive is
rewritten as hcl2json writes it (`%{if c}a%{else}b%{endif}`); a reference, call, operator or
`for` is `${source}` (hcl2json evaluates nothing: `jsonencode({...})` stays a string).
pe-policy's own `terraform` model (one record per block, for `check`) stays as it is; this is
only what `test` and `parse` hand out.

Parsing is the terraform loader's (tree-sitter's HCL grammar, `loaders/hcl.py`): the same
syntax errors with line and column, HCL's newline rules, no block left unread; a `Walker`
subclass builds hcl2json's shape.  The positions of every block and attribute are kept, so a
result that names a `path` is located on its line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError

_PARTS = frozenset({"template_interpolation", "template_directive"})
# what HCL's template parser reads as one part (rewritten), and what holds such parts
_KEYWORDS = {"template_else_intro": "%{else}", "template_if_end": "%{endif}",
             "template_for_end": "%{endfor}"}
_CONTROLS = frozenset({"template_interpolation", "template_if_intro", "template_for_start",
                       *_KEYWORDS})
_CONTAINERS = frozenset({"template_directive", "template_if", "template_for"})


@dataclass
class _Token:
    """One part of a template as HCL's parser sees it before it builds the template."""

    text: str
    literal: bool = False
    strip_left: bool = False  # `${~` / `%{~`: the literal before loses its trailing spaces
    strip_right: bool = False  # `~}`: the literal after loses its leading spaces


def _strip(tokens: list[_Token]) -> None:
    for index, token in enumerate(tokens):
        if token.literal:
            continue
        if token.strip_left and index and tokens[index - 1].literal:
            tokens[index - 1].text = tokens[index - 1].text.rstrip()
        if token.strip_right and index + 1 < len(tokens) and tokens[index + 1].literal:
            tokens[index + 1].text = tokens[index + 1].text.lstrip()


def _flush(tokens: list[_Token]) -> None:
    """`<<-`: the spaces common to the starts of lines go (HCL's `flushHeredocTemplateParts`:
    a line starting with `${` or `%{` has none; a blank line does not count)."""
    fewest: int | None = None
    adjust: list[_Token] = []
    newline = True
    for token in tokens:
        if newline:
            newline = False
            if not token.literal:
                return
            trimmed = token.text.lstrip()
            if trimmed or not token.text.endswith("\n"):
                spaces = len(token.text) - len(trimmed)
                fewest = spaces if fewest is None else min(fewest, spaces)
                adjust.append(token)
        if token.literal and token.text.endswith("\n"):
            newline = True
    for token in adjust:
        token.text = token.text[fewest or 0:]


def _joined(tokens: list[_Token]) -> str:
    """The template's text; an `%{else}` with nothing after it is left out, as hcl2json leaves
    out an empty false branch.  Literals stay as written (`$${` is how hcl2json escapes `${`)."""
    out: list[tuple[str, bool]] = []  # (text, whether it is an `%{else}`)
    for token in tokens:
        if token.literal:
            if token.text:
                out.append((token.text, False))
            continue
        if token.text == "%{endif}" and out and out[-1][1]:
            out.pop()
        out.append((token.text, token.text == "%{else}"))
    return "".join(text for text, _ in out)


@functools.cache
def _walker_class() -> Any:
    """The converter class, built on first use (tree-sitter is imported lazily)."""
    from pe_policy.loaders.hcl import Walker, unescape

    class Hcl2JsonWalker(Walker):
        """hcl2json's `ConvertBody` and `ConvertExpression` over tree-sitter's tree."""

        def body(self, body: Any, path: JsonPath) -> dict[str, Any]:
            """Blocks first, then attributes (an attribute replaces blocks of its name, as in
            hcl2json); two attributes of one name are HCL's "Attribute redefined"."""
            out: dict[str, Any] = {}
            attributes: list[tuple[Any, Span]] = []
            for child, span in self.items(body):
                if child.type == "attribute":
                    attributes.append((child, span))
                else:
                    self.block(child, span, out, path)
            first_line: dict[str, int] = {}
            for child, span in attributes:
                name, expression = self.attribute(child, span)
                if name in first_line:
                    raise self.redefined(child, name, first_line[name])
                first_line[name] = span.line
                attribute_path: JsonPath = (*path, name)
                self.spans[attribute_path] = span
                out[name] = self.expression(expression, attribute_path)
            return out

        def block(self, block: Any, span: Span, out: dict[str, Any], at: JsonPath) -> None:
            """A block under its type and each label; the bodies of one address in one list."""
            block_type, labels = self.labels(block)
            target, key, where = out, block_type, at
            for label in labels:
                existing = target.setdefault(key, {})
                if not isinstance(existing, dict):
                    raise self.error(block, "Unable to convert Block to JSON: "
                                     f"{'.'.join([block_type, *labels])}")
                target, where, key = existing, (*where, key), label
            bodies = target.setdefault(key, [])
            if not isinstance(bodies, list):
                raise self.error(block, f'invalid HCL detected for "{key}" block, cannot have '
                                 "blocks with and without labels")
            item_path: JsonPath = (*where, key, len(bodies))
            self.spans.setdefault((*where, key), span)
            self.spans[item_path] = span
            bodies.append(self.block_body(block, item_path))

        def expression(self, node: Any, path: JsonPath) -> Any:
            while node.type == "expression" and node.named_child_count == 1 and node.child_count == 1:
                node = node.children[0]
            kind = node.type
            if kind == "literal_value":
                return _number(self.literal(node.children[0]))
            if kind == "collection_value":
                return self.collection(node.children[0], path)
            if kind == "template_expr":
                return self.template(node.children[0], path)
            if kind == "operation":
                value = self._unary_literal(node.children[0])
                if value is not None:
                    return value
            return self.wrap(node)

        def wrap(self, node: Any) -> str:
            """hcl2json's `wrapExpr`: the expression's source, as written, in `${...}`."""
            return "${" + self.text(node) + "}"

        def _unary_literal(self, unary: Any) -> Any:
            """`-1` and `!true` are evaluated (an operator on a literal); None otherwise."""
            if unary.type != "unary_operation" or unary.child_count != 2:
                return None
            operator, operand = self.text(unary.children[0]), unary.children[1]
            if operand.type != "literal_value":
                return None
            value = self.literal(operand.children[0])
            if operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
                return _number(-value)
            if operator == "!" and isinstance(value, bool):
                return not value
            return None

        def template(self, node: Any, path: JsonPath) -> Any:
            """A string or heredoc: its text when it is all literal; `"${x}"` alone is `x`'s
            value (hcl2json's TemplateWrapExpr); otherwise hcl2json's `convertTemplate`."""
            value = super().template(node, path)  # checks the string; the literal's text
            if not any(c.type in _PARTS for c in node.children):
                return value
            if node.type == "quoted_template" and len(node.children) == 3 \
                    and node.children[1].type == "template_interpolation":
                return self.expression(_interpolated(node.children[1]), path)
            heredoc = node.type == "heredoc_template"
            if heredoc:  # the lines between the marker's line and the closing marker's line
                markers = [c for c in node.children if c.type == "heredoc_identifier"]
                start = self.source.index(b"\n", markers[0].end_byte) + 1
                end = self.source.rindex(b"\n", 0, markers[-1].start_byte) + 1
            else:
                start, end = node.children[0].end_byte, node.children[-1].start_byte
            tokens: list[_Token] = []
            self.template_tokens(node, start, end, tokens, heredoc)
            _strip(tokens)
            if heredoc and self.text(node).startswith("<<-"):
                _flush(tokens)
            return _joined(tokens)

        def template_tokens(self, node: Any, start: int, end: int, tokens: list[_Token],
                            heredoc: bool) -> int:
            """hcl2json's (HCL's) flat template parts of `node` between two byte offsets:
            literal text (a heredoc's one line at a time, as HCL's scanner reads it) and each
            `${...}`, `%{if ...}`, `%{else}`, `%{endif}`, `%{for ...}`, `%{endfor}` rewritten;
            returns the offset it read up to."""
            at = start
            for child in node.children:
                kind = child.type
                if kind in _CONTAINERS:
                    at = self.template_tokens(child, at, child.end_byte, tokens, heredoc)
                    continue
                if kind not in _CONTROLS or child.start_byte < start or child.end_byte > end:
                    continue
                self.literal_tokens(self.source[at:child.start_byte], tokens, heredoc)
                strips = [i for i, c in enumerate(child.children) if c.type == "strip_marker"]
                tokens.append(_Token(self.control(child), strip_left=1 in strips,
                                     strip_right=len(child.children) - 2 in strips))
                at = child.end_byte
            if node.type in ("quoted_template", "heredoc_template"):
                self.literal_tokens(self.source[at:end], tokens, heredoc)
            return at

        def literal_tokens(self, text: bytes, tokens: list[_Token], heredoc: bool) -> None:
            if not text:
                return
            decoded = text.decode("utf-8", "replace")
            if not heredoc:
                tokens.append(_Token(unescape(decoded), literal=True))
                return
            tokens.extend(_Token(line, literal=True) for line in decoded.splitlines(keepends=True))

        def control(self, node: Any) -> str:
            """One `${...}` or directive keyword as hcl2json writes it."""
            kind = node.type
            if kind == "template_interpolation":
                return self.string_part(_interpolated(node))
            if kind == "template_if_intro":
                condition = next(c for c in node.children if c.type == "expression")
                return f"%{{if {self.text(condition)}}}"
            if kind == "template_for_start":
                names = [self.text(c) for c in node.children if c.type == "identifier"]
                collection = next(c for c in node.children if c.type == "expression")
                return f"%{{for {', '.join(names)} in {self.text(collection)}}}"
            return _KEYWORDS[kind]

        def string_part(self, node: Any) -> str:
            """hcl2json's `convertStringPart` of an expression: a literal as its text, a
            template as its string, anything else `${source}`."""
            inner = _unwrapped(node)
            if inner.type == "literal_value":
                return _as_string(self.literal(inner.children[0]))
            if inner.type == "template_expr":
                return _as_string(self.expression(inner, ()))
            return self.wrap(node)

        def object_key(self, node: Any) -> str:
            """hcl2json's `convertKey`: a bare name is itself, anything else as in a string."""
            inner = node.children[0] if node.child_count == 1 else node
            if inner.type == "variable_expr":
                return self.text(inner)
            return self.string_part(node)

    return Hcl2JsonWalker


def _interpolated(interpolation: Any) -> Any:
    """The expression inside `${...}`."""
    return next(c for c in interpolation.children if c.type == "expression")


def _unwrapped(node: Any) -> Any:
    while node.type == "expression" and node.child_count == 1:
        node = node.children[0]
    return node


def _number(value: Any) -> Any:
    """A number as conftest hands it on: a float64 (`1.0` is `1`; an integer past 2**53 is
    rounded to the nearest float64 and written with its shortest digits, as Go writes it)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        from decimal import Decimal

        return int(Decimal(repr(float(value))))
    return value


def _as_string(value: Any) -> str:
    """A literal inside a template, as cty converts it to a string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def convert(text: str, path: str) -> tuple[dict[str, Any], dict[JsonPath, Span]]:
    """(hcl2json-shaped value, spans) of one HCL2 file; ParseError on invalid HCL."""
    from pe_policy.loaders.hcl import check_accounted, parse_source

    walker, root, body = parse_source(text, path, _walker_class())
    if body is None:
        return {}, {}
    value = walker.body(body, ())
    blocks = [child for child in body.children if child.type == "block"]
    check_accounted(walker, root, blocks)  # no top-level block left unread
    return value, walker.spans


__all__ = ["ParseError", "convert"]
