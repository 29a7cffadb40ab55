"""GitHub Actions expressions (`${{ }}`): a recursive-descent parser for the language GitHub documents.

https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
Literals (`null`, booleans, numbers incl. hex and exponents, `'single-quoted'` strings with
`''` as the quote), contexts with `.name`, `.*`, `[expr]` and `[*]` property access, the
operators `( ) [ ] . ! < <= > >= == != && ||` with GitHub's precedence, and function calls.

The parser works on offsets into the text it is given; the workflow loader maps them to
lines and columns of the file.  Rules read the JSON this module produces (the AST, and
flat lists of context references and function calls), never the expression text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_DEPTH = 64  # GitHub stops at 50 levels; a little slack, never a RecursionError

# GitHub's functions (case-insensitive), spelled as the docs spell them: what `name` holds
KNOWN_FUNCTIONS = {
    name.lower(): name
    for name in ("contains", "startsWith", "endsWith", "format", "join", "toJSON", "fromJSON",
                 "hashFiles", "success", "always", "cancelled", "failure", "case")
}
# A context passed to these leaves the call as text (or a value built from it); the result of
# every other function is a boolean, a hash or a status: no data of its arguments gets out.
_PASS_THROUGH = frozenset({"format", "join", "tojson", "fromjson", "case"})
# arity GitHub checks: (least, most or None)
_ARITY: dict[str, tuple[int, int | None]] = {
    "contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "format": (1, None),
    "join": (1, 2), "tojson": (1, 1), "fromjson": (1, 1), "hashfiles": (1, None),
    "success": (0, 0), "always": (0, 0), "cancelled": (0, 0), "failure": (0, 0),
}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>[+-]?(?:0x[0-9a-fA-F]+|0o[0-7]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?![\w-]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"true": True, "false": False, "null": None}
_NUMBER_WORDS = {"nan": float("nan"), "infinity": float("inf")}


class ExpressionSyntaxError(ValueError):
    """What is wrong, and the offset in the expression text where it is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class Token:
    """A token of an expression, with its offsets in the text; an `end` token closes the list."""

    kind: str  # string | number | ident | op | end
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`, with their offsets in it."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionSyntaxError(f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


@dataclass
class ContextUse:
    """One reference to a context (`github.event.issue.title`), as the flat list carries it."""

    parts: list[str]  # lower-cased; `*` for `.*`, `[*]` and a computed index
    written: list[str]  # the same parts as written (original case): `secrets.Api_Key`
    start: int
    end: int
    functions: list[str]  # enclosing calls, outermost first
    flows: bool  # its value can be (part of) the expression's value
    dynamic: bool = False  # has a computed index (`matrix[inputs.name]`)


@dataclass
class CallUse:
    """One function call (`format(...)`), as the flat list carries it: its arguments' AST,
    the calls around it, and whether its value can reach the expression's."""

    name: str
    start: int
    end: int
    arguments: list[dict[str, Any]]
    functions: list[str]
    flows: bool


@dataclass
class Parsed:
    """One expression parsed: its AST without offsets, and the flat lists of context
    references and function calls that rules read, in source order."""

    ast: dict[str, Any]
    contexts: list[ContextUse] = field(default_factory=list)
    calls: list[CallUse] = field(default_factory=list)


class _Parser:
    """Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `!`, then `. [] ()`.

    Nodes carry their offsets as `_start`/`_end` until `_uses` reads and drops them.
    """

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.tokens[min(self.index + ahead, len(self.tokens) - 1)]
        return token.kind == "op" and token.text == text

    def accept(self, text: str) -> Token | None:
        return self.advance() if self.at(text) else None

    def expect(self, text: str, what: str) -> Token:
        token = self.accept(text)
        if token is None:
            raise ExpressionSyntaxError(f"expected {text!r} {what}, found {self._found()}".replace(
                "  ", " "), self.token.start)
        return token

    def _found(self) -> str:
        return "the end of the expression" if self.token.kind == "end" else repr(self.token.text)

    def parse(self) -> dict[str, Any]:
        if self.token.kind == "end":
            raise ExpressionSyntaxError("empty expression", self.token.start)
        node = self.or_()
        if self.token.kind != "end":
            raise ExpressionSyntaxError(f"unexpected {self._found()}", self.token.start)
        return node

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels",
                                        self.token.start)

    def _chain(self, operators: tuple[str, ...], operand: Any) -> dict[str, Any]:
        node = operand()
        while self.token.kind == "op" and self.token.text in operators:
            op = self.advance().text
            right = operand()
            node = {"type": "binary", "op": op, "left": node, "right": right,
                    "_start": node["_start"], "_end": right["_end"]}
        return node

    def or_(self) -> dict[str, Any]:
        self._enter()
        node = self._chain(("||",), self.and_)
        self.depth -= 1
        return node

    def and_(self) -> dict[str, Any]:
        return self._chain(("&&",), self.equality)

    def equality(self) -> dict[str, Any]:
        return self._chain(("==", "!="), self.comparison)

    def comparison(self) -> dict[str, Any]:
        return self._chain(("<", "<=", ">", ">="), self.unary)

    def unary(self) -> dict[str, Any]:
        bang = self.accept("!")
        if bang is None:
            return self.postfix()
        self._enter()
        operand = self.unary()
        self.depth -= 1
        return {"type": "not", "operand": operand, "_start": bang.start, "_end": operand["_end"]}

    def postfix(self) -> dict[str, Any]:
        token = self.token
        if token.kind == "ident" and token.text.lower() not in _KEYWORDS and not self.at("(", 1):
            return self.context()
        node = self.primary()
        while self.at(".") or self.at("["):
            _part, index = self.accessor()
            node = {"type": "index", "target": node, "index": index,
                    "_start": node["_start"], "_end": self.tokens[self.index - 1].end}
        return node

    def accessor(self) -> tuple[str, dict[str, Any]]:
        """One `.name`, `.*`, `[expr]` or `[*]`: (its part of a dotted path as written, '' if
        computed; node)."""
        dot = self.accept(".")
        if dot is not None:
            token = self.advance()
            if token.kind == "ident":
                return token.text, {"type": "literal", "value": token.text,
                                    "_start": token.start, "_end": token.end}
            if token.kind == "op" and token.text == "*":
                return "*", {"type": "wildcard", "_start": token.start, "_end": token.end}
            raise ExpressionSyntaxError(
                "expected a property name after '.', found "
                + ("the end of the expression" if token.kind == "end" else repr(token.text)),
                dot.start)
        self.expect("[", "")
        star = self.accept("*")
        if star is not None and self.at("]"):
            self.advance()
            return "*", {"type": "wildcard", "_start": star.start, "_end": star.end}
        if star is not None:
            raise ExpressionSyntaxError("expected ']' after '[*'", self.token.start)
        index = self.or_()
        self.expect("]", "to close '['")
        value = index.get("value") if index["type"] == "literal" else None
        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return str(value), index
        return "", index

    def context(self) -> dict[str, Any]:
        root = self.advance()
        written = [root.text]
        indexes: list[dict[str, Any]] = []
        dynamic = False
        while self.at(".") or self.at("["):
            part, index = self.accessor()
            if not part:
                dynamic = True
                indexes.append(index)
            written.append(part or "*")
        parts = [part.lower() for part in written]
        node: dict[str, Any] = {"type": "context", "path": ".".join(parts), "parts": parts,
                                "_written": written,
                                "_start": root.start, "_end": self.tokens[self.index - 1].end}
        if dynamic:
            node["indexes"] = indexes
        return node

    def primary(self) -> dict[str, Any]:
        token = self.advance()
        if token.kind == "string":
            value: Any = token.text[1:-1].replace("''", "'")
        elif token.kind == "number":
            value = _number(token.text)
            if isinstance(value, float) and not math.isfinite(value):
                value = token.text  # `1e999`: JSON (what the Rego engines read) has no infinity
        elif token.kind == "op" and token.text == "(":
            node = self.or_()
            self.expect(")", "to close '('")
            return node  # its own offsets: a context in parentheses is located without them
        elif token.kind == "ident" and token.text.lower() in _KEYWORDS and not self.at("("):
            value = _KEYWORDS[token.text.lower()]
        elif token.kind == "ident":
            return self.call(token)
        else:
            raise ExpressionSyntaxError("unexpected end of expression" if token.kind == "end"
                                        else f"unexpected {token.text!r}", token.start)
        return {"type": "literal", "value": value, "_start": token.start, "_end": token.end}

    def call(self, name_token: Token) -> dict[str, Any]:
        lower = name_token.text.lower()
        name = KNOWN_FUNCTIONS.get(lower, name_token.text)
        self.expect("(", f"after {name_token.text!r}")
        self._enter()
        arguments: list[dict[str, Any]] = []
        if not self.accept(")"):
            while True:
                arguments.append(self.or_())
                if self.accept(")"):
                    break
                self.expect(",", "or ')' between arguments")
        self.depth -= 1
        arity = _ARITY.get(lower)
        if arity is not None:
            least, most = arity
            if len(arguments) < least or (most is not None and len(arguments) > most):
                wanted = str(least) if least == most else (
                    f"at least {least}" if most is None else f"{least} to {most}")
                raise ExpressionSyntaxError(
                    f"{name}() takes {wanted} argument{'' if wanted == '1' else 's'}, "
                    f"got {len(arguments)}", name_token.start)
        return {"type": "call", "name": name, "arguments": arguments,
                "_start": name_token.start, "_end": self.tokens[self.index - 1].end}


def _uses(ast: dict[str, Any]) -> Parsed:
    """Walk the AST once: every context and call with the calls around it and whether its value
    can reach the result, and the AST without offsets.

    A value reaches the result through `||` (either side), the right side of `&&` (the left
    side only gets out when falsy: empty), parentheses, and the pass-through functions
    (`format`, `join`, `toJSON`, `fromJSON`, `case`); never through a comparison, `!`, a
    computed index (`x[key]`: the key selects, it is not the value) or other functions.
    """
    parsed = Parsed(ast={})
    # (node, flows, enclosing functions, where to put the cleaned node: (parent, key))
    root: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], bool, tuple[str, ...], Any, Any]] = [
        (ast, True, (), root, "ast")]
    while stack:
        node, flows, functions, parent, key = stack.pop()
        clean = {k: v for k, v in node.items() if not k.startswith("_")}
        parent[key] = clean
        kind = node["type"]
        if kind == "context":
            parsed.contexts.append(ContextUse(node["parts"], node["_written"], node["_start"],
                                              node["_end"], list(functions), flows,
                                              "indexes" in node))
            if "indexes" in node:
                clean["indexes"] = list(node["indexes"])
                for position in reversed(range(len(node["indexes"]))):
                    stack.append((node["indexes"][position], False, functions,
                                  clean["indexes"], position))
        elif kind == "call":
            lower = node["name"].lower()
            parsed.calls.append(CallUse(node["name"], node["_start"], node["_end"], [],
                                        list(functions), flows))
            call_use = parsed.calls[-1]
            clean["arguments"] = list(node["arguments"])
            inner = flows and lower in _PASS_THROUGH
            count = len(node["arguments"])
            for position in reversed(range(count)):
                # case(pred1, value1, pred2, value2, default): the predicates only choose
                chooses = lower == "case" and position % 2 == 0 and position != count - 1
                stack.append((node["arguments"][position], inner and not chooses,
                              (*functions, node["name"]), clean["arguments"], position))
            call_use.arguments = clean["arguments"]
        elif kind == "binary":
            op = node["op"]
            boolean = op not in ("||", "&&")
            stack.append((node["right"], flows and not boolean, functions, clean, "right"))
            stack.append((node["left"], flows and op == "||", functions, clean, "left"))
        elif kind == "not":
            stack.append((node["operand"], False, functions, clean, "operand"))
        elif kind == "index":
            stack.append((node["index"], False, functions, clean, "index"))
            stack.append((node["target"], flows, functions, clean, "target"))
    parsed.ast = root["ast"]
    parsed.contexts.sort(key=lambda use: use.start)
    parsed.calls.sort(key=lambda use: use.start)
    return parsed


def _number(text: str) -> int | float:
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body[:2].lower() == "0x":
        return sign * int(body[2:], 16)
    if body[:2].lower() == "0o":
        return sign * int(body[2:], 8)
    value = float(body)
    if value.is_integer() and "." not in body and "e" not in body.lower():
        return sign * int(body)
    return sign * value


def parse_expression(text: str) -> Parsed:
    """Parse one expression (the text between `${{` and `}}`, or a bare `if:`).

    Offsets in the result are offsets in `text` (a caller adds where `text` starts in its
    string: the result may be shared, see parse_expression_shared).  Raises
    ExpressionSyntaxError.
    """
    return _uses(_Parser(tokenize(text)).parse())


# An expression this short is parsed once per process: `${{ secrets.GITHUB_TOKEN }}`,
# `${{ matrix.os }}` and `${{ github.event.pull_request.head.sha }}` recur in most workflows.
SHARED_EXPRESSION_CHARS = 1024


def parse_expression_shared(text: str) -> Parsed:
    """parse_expression(text), parsed once per process for a short text.

    The result is shared by every caller that parses the same text: read it, never change
    it (`copied` gives a caller its own AST).
    """
    if len(text) <= SHARED_EXPRESSION_CHARS:
        return _parse_shared(text)
    return parse_expression(text)


@lru_cache(maxsize=4096)
def _parse_shared(text: str) -> Parsed:
    return parse_expression(text)


def copied(value: Any) -> Any:
    """A JSON-like value (an AST) with lists and mappings of its own, its leaves shared."""
    if isinstance(value, dict):
        return {key: copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copied(item) for item in value]
    return value


@dataclass
class Template:
    """One `${{ ... }}` in a string: offsets of the whole and of its body."""

    start: int  # of `${{`
    end: int  # after `}}`
    body_start: int
    body_end: int


def find_templates(value: str) -> list[Template]:
    """Every `${{ }}` in `value`; a `}}` inside a string literal does not close one.

    Raises ExpressionSyntaxError for a `${{` that is never closed (GitHub refuses it).
    """
    found: list[Template] = []
    position = value.find("${{")
    while position >= 0:
        cursor = position + 3
        while True:
            close = value.find("}}", cursor)
            quote = value.find("'", cursor)
            if close < 0:
                raise ExpressionSyntaxError("'${{' is never closed by '}}'", position)
            if quote < 0 or close < quote:
                break
            # a string literal: `}}` inside it does not close; `''` is a quote inside it
            cursor = quote + 1
            while True:
                end = value.find("'", cursor)
                if end < 0:
                    raise ExpressionSyntaxError("'${{' is never closed by '}}'", position)
                if value.startswith("''", end):
                    cursor = end + 2
                    continue
                cursor = end + 1
                break
        found.append(Template(position, close + 2, position + 3, close))
        position = value.find("${{", close + 2)
    return found
