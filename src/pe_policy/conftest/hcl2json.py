"""HCL2 (`.tf`, `.hcl`, `.tfvars`) in the shape conftest's `hcl2` parser gives it to policies.

conftest converts HCL2 with tmccombs/hcl2json: a block is nested under its type and each of
its labels, and the innermost key holds a list of bodies (every block of the same address
appended to it), so a policy reads `input.resource.aws_s3_bucket.logs[0].acl`.  A literal is
its JSON value; a string template, heredoc, reference, call or operator is a string of its
source text, `${...}` around each expression.  pe-policy's own `terraform` model (one record
per block, for `check`) stays as it is; this is only what `test` and `parse` hand out.

Parsing is python-hcl2's (the same parse the terraform loader does, lark with positions);
the positions of every block and attribute are kept, so a result that names a `path` is
located on its line.
"""

from __future__ import annotations

from typing import Any

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError


def _span(node: Any) -> Span | None:
    meta = getattr(node, "_meta", None)
    line = getattr(meta, "line", None)
    if not isinstance(line, int):
        return None
    return Span(line, getattr(meta, "column", None), getattr(meta, "end_line", None),
                getattr(meta, "end_column", None))


class _Converter:
    """hcl2json's `ConvertBody` over python-hcl2's rule tree, recording spans."""

    def __init__(self, text: str, path: str) -> None:
        from hcl2.rules import base, containers, expressions, strings

        from pe_policy.loaders.terraform import _options

        self.text = text
        self.path = path
        self.options = _options()
        self.spans: dict[JsonPath, Span] = {}
        self._attribute = base.AttributeRule
        self._block = base.BlockRule
        self._expr_term = expressions.ExprTermRule
        self._unary = expressions.UnaryOpRule
        self._object = containers.ObjectRule
        self._tuple = containers.TupleRule
        self._heredoc = (strings.HeredocTemplateRule, strings.HeredocTrimTemplateRule)
        self._string = strings.StringRule

    def body(self, body: Any, path: JsonPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in body.children:
            if isinstance(child, self._block):
                self.block(child, out, path)
        for child in body.children:
            if isinstance(child, self._attribute):
                name = str(child.identifier.serialize(self.options))
                attribute_path: JsonPath = (*path, name)
                span = _span(child)
                if span:
                    self.spans[attribute_path] = span
                out[name] = self.expression(child.expression, attribute_path)
        return out

    def block(self, block: Any, out: dict[str, Any], path: JsonPath) -> None:
        labels = [str(label.serialize(self.options)) for label in block.labels]
        target = out
        key = labels[0]
        where: JsonPath = path
        for label in labels[1:]:
            existing = target.setdefault(key, {})
            if not isinstance(existing, dict):
                raise self._error(block, f"Unable to convert Block to JSON: {'.'.join(labels)}")
            target = existing
            where = (*where, key)
            key = label
        bodies = target.setdefault(key, [])
        if not isinstance(bodies, list):
            raise self._error(block, f'invalid HCL detected for "{key}" block, cannot have '
                              "blocks with and without labels")
        item_path: JsonPath = (*where, key, len(bodies))
        span = _span(block)
        if span:
            self.spans.setdefault((*where, key), span)
            self.spans[item_path] = span
        bodies.append(self.body(block.body, item_path))

    def _error(self, node: Any, message: str) -> ParseError:
        span = _span(node)
        return ParseError(self.path, message, span.line if span else 1,
                          span.column if span else None)

    def _unwrap(self, node: Any) -> Any:
        while isinstance(node, self._expr_term) and not node.parentheses:
            node = node.expression
        return node

    def expression(self, expr: Any, path: JsonPath) -> Any:
        from pe_policy.loaders.terraform import heredoc_value

        node = self._unwrap(expr)
        if isinstance(node, self._object):
            out: dict[str, Any] = {}
            for element in node.elements:
                raw_key = element.key.serialize(self.options)
                key = raw_key if isinstance(raw_key, str) else str(raw_key)
                key_path: JsonPath = (*path, key)
                span = _span(element)
                if span:
                    self.spans[key_path] = span
                out[key] = self.expression(element.expression, key_path)
            return out
        if isinstance(node, self._tuple):
            items: list[Any] = []
            for index, item in enumerate(node.elements):
                item_path: JsonPath = (*path, index)
                span = _span(item)
                if span:
                    self.spans[item_path] = span
                items.append(self.expression(item, item_path))
            return items
        if isinstance(node, self._heredoc):
            return heredoc_value(str(node.heredoc.value))
        if isinstance(node, self._unary):
            value = self._unary_literal(node)
            if value is not None:
                return value
        value = expr.serialize(self.options)
        if isinstance(value, str) and not isinstance(node, self._string):
            return "${" + self._source(node) + "}"  # a reference, call or operator: its source
        return value

    def _unary_literal(self, node: Any) -> int | float | None:
        """`-1` is the number -1 (hcl2json evaluates a sign on a literal); else None."""
        source = self._source(node).strip()
        try:
            number = float(source)
        except ValueError:
            return None
        return int(number) if number.is_integer() and "." not in source and "e" not in source.lower() else number

    def _source(self, node: Any) -> str:
        meta = getattr(node, "_meta", None)
        start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
        return self.text[start:end] if isinstance(start, int) and isinstance(end, int) else ""


def convert(text: str, path: str) -> tuple[dict[str, Any], dict[JsonPath, Span]]:
    """(hcl2json-shaped value, spans) of one HCL2 file; ParseError on invalid HCL."""
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    from pe_policy.loaders.terraform import _check_tokens, _syntax_error

    _check_tokens(text, path)
    try:
        tree = hcl2.parses(text, discard_comments=True)
    except UnexpectedInput as exc:
        raise _syntax_error(path, exc) from None
    except (LarkError, RuntimeError, ValueError) as exc:
        raise ParseError(path, f"HCL syntax error: {exc}") from None
    converter = _Converter(text, path)
    return converter.body(tree.body, ()), converter.spans
