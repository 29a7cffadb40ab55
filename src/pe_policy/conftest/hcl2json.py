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
    from pe_policy.loaders.terraform import _span as meta_span

    return meta_span(getattr(node, "_meta", None))


def _converter(text: str, path: str) -> Any:
    """hcl2json's `ConvertBody` over python-hcl2's rule tree: the terraform loader's walker
    (objects, tuples, heredocs, spans) with hcl2json's blocks and leaves."""
    from hcl2.rules import expressions, strings

    from pe_policy.loaders.terraform import _Walker

    class Converter(_Walker):
        def __init__(self) -> None:
            super().__init__(path)
            self.text = text
            self._unary = expressions.UnaryOpRule
            self._string = strings.StringRule

        def body(self, body: Any, at: JsonPath) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in body.children:
                if isinstance(child, self._block):
                    self.block(child, out, at)
            for child in body.children:
                if isinstance(child, self._attribute):
                    name = str(child.identifier.serialize(self.options))
                    attribute_path: JsonPath = (*at, name)
                    span = _span(child)
                    if span:
                        self.spans[attribute_path] = span
                    out[name] = self.expression(child.expression, attribute_path)
            return out

        def block(self, block: Any, out: dict[str, Any], at: JsonPath) -> None:
            """A block under its type and each label; bodies of one address in one list."""
            labels = [str(label.serialize(self.options)) for label in block.labels]
            target = out
            key = labels[0]
            where: JsonPath = at
            for label in labels[1:]:
                existing = target.setdefault(key, {})
                if not isinstance(existing, dict):
                    raise _error(block, f"Unable to convert Block to JSON: {'.'.join(labels)}")
                target = existing
                where = (*where, key)
                key = label
            bodies = target.setdefault(key, [])
            if not isinstance(bodies, list):
                raise _error(block, f'invalid HCL detected for "{key}" block, cannot have '
                             "blocks with and without labels")
            item_path: JsonPath = (*where, key, len(bodies))
            span = _span(block)
            if span:
                self.spans.setdefault((*where, key), span)
                self.spans[item_path] = span
            bodies.append(self.body(block.body, item_path))

        def expression(self, expr: Any, at: JsonPath) -> Any:
            """A literal as its value; a template as its text; anything else `${source}`
            (a call too: hcl2json does not evaluate `jsonencode`)."""
            node = self._unwrap(expr)
            if isinstance(node, (self._object, self._tuple, *self._heredoc)):
                return super().expression(expr, at)
            if isinstance(node, self._unary):
                value = _unary_literal(self._source(node))
                if value is not None:
                    return value
            value = expr.serialize(self.options)
            if isinstance(value, str) and not isinstance(node, self._string):
                return "${" + self._source(node) + "}"
            return value

        def _source(self, node: Any) -> str:
            meta = getattr(node, "_meta", None)
            start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
            return self.text[start:end] if isinstance(start, int) and isinstance(end, int) else ""

    def _error(node: Any, message: str) -> ParseError:
        span = _span(node)
        return ParseError(path, message, span.line if span else 1, span.column if span else None)

    return Converter()


def _unary_literal(source: str) -> int | float | None:
    """`-1` is the number -1 (hcl2json evaluates a sign on a literal); else None."""
    source = source.strip()
    try:
        number = float(source)
    except ValueError:
        return None
    whole = number.is_integer() and "." not in source and "e" not in source.lower()
    return int(number) if whole else number


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
    converter = _converter(text, path)
    return converter.body(tree.body, ()), converter.spans
