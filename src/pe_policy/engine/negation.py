"""Negated expressions evaluated as OPA evaluates them: what may be undefined, outside the `not`.

OPA's compiler moves the arguments of a call out of a negation before it
evaluates it (`ast/compile.go`: stage RewriteExprTerms lifts nested calls,
RewriteEquals turns `==` into `=`, RewriteDynamicTerms lifts references):

    not is_string(input.job.uses)
    # compiles to
    __local0__ = input.job.uses; not is_string(__local0__)

so when `input.job.uses` is undefined the whole body is undefined.  regorus
evaluates the call inside the `not`: the call is undefined and the `not`
succeeds.  The two engines then disagree on valid Rego, so before a module
reaches regorus every such argument is bound first, as OPA binds it, on the
same line (`__pe_neg_1 := input.job.uses; not is_string(__pe_neg_1)`; a body
without braces, `p if not f(x.y)`, gets them), and every line keeps its number.

OPA's rule, for a negated expression `not E` (`E` in any body: rules, `else`,
functions, comprehensions, `every`):

* `E` a call (built-in or function, and the infix operators that are calls:
  `!=`, `<`, `<=`, `>`, `>=`, `in`, `+ - * / %`, `|`, `&`): each argument that
  is a reference (`input.x`, `x.k`, `data.p`, and a bare name that is a rule or
  an import), a call, or a collection holding some, is evaluated first;
* `E` an equality (`==`, `=`) or a term: an operand that is a reference stays
  inside the `not` (`not x.k`, `not x.k == 1` agree on both engines), but a
  call operand (`not count(x.k) == 0`), a reference inside a collection
  operand (`not [x.k] == [1]`) and a reference or call in a reference's
  brackets (`not a[x.k]`) are evaluated first;
* comprehensions are always defined: they stay where they are (the negations
  inside them are rewritten in turn);
* a `with` of the expression applies to what is bound first as well.

Left as regorus reads it: a negation with `_` in what would be bound first
(`not f(x[_])`, which OPA refuses: var _ is unsafe).

The rewrite is computed once per module text from regorus's parse tree, with
the outline (`rego_ast.py`, cached on disk by content: bump its `_FORMAT` when
the rewrite changes), and applied by `RegorusBackend` only; OPA gets the module
as written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PREFIX = "__pe_neg_"
_TAKEN = re.compile(rb"__pe_neg_(\d+)")
Edit = tuple[int, int, str]  # (start, end) byte offsets in the module's UTF-8 text, replacement

# regorus's expression nodes (src/ast.rs)
_CALLS = frozenset({"Call", "BoolExpr", "ArithExpr", "BinExpr", "Membership", "AssignExpr"})
_REFS = frozenset({"RefDot", "RefBrack"})
_COLLECTIONS = frozenset({"Array", "Set", "Object"})
_COMPREHENSIONS = frozenset({"ArrayCompr", "SetCompr", "ObjectCompr"})
_STRINGS = frozenset({"String", "RawString"})  # their spans leave out the quotes
_ROOTS = frozenset({"input", "data"})


def _node(tagged: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(tagged, dict) and len(tagged) == 1:
        ((tag, body),) = tagged.items()
        if isinstance(body, dict):
            return tag, body
    return "", {}


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key != "span":
                yield child
    elif isinstance(value, list):
        yield from value


def _vars(value: Any, *, comprehensions: bool = True) -> Iterator[str]:
    """The names of every `Var` in a subtree (but those in comprehensions unless asked for)."""
    tag, body = _node(value)
    if tag == "Var":
        yield str(body.get("value"))
        return
    if tag in _COMPREHENSIONS and not comprehensions:
        return
    for child in _children(body if tag else value):
        yield from _vars(child, comprehensions=comprehensions)


@dataclass
class _Lift:
    """An operand bound before its `not` (`__pe_neg_N := ...`): the byte range that the
    variable `name` replaces."""

    start: int
    end: int
    name: str


@dataclass
class _Negation:
    """A negated statement whose operands are bound first, as OPA binds them: its byte range,
    and what the rewrite puts before it on the same line."""

    start: int
    end: int
    lifts: list[_Lift]  # bound before the `not`, in this order
    withs: list[tuple[tuple[int, int], tuple[int, int] | _Lift]]  # (target, value) of each `with`
    braces: bool  # the only literal of a body without braces: `p if not f(x.y)`


@dataclass
class _Rewriter:
    """Walks one module's parse tree for negations and collects the edits (`render`) that
    make regorus evaluate them as OPA does."""

    data: bytes
    globals: frozenset[str]  # the module's rules and imports: references when named bare
    counter: int = 0
    edits: list[_Lift | _Negation] = field(default_factory=list)
    _rule: Any = None  # the rule being read, and how often it names each variable (when asked)
    _rule_vars: Counter[str] | None = None

    # ------------------------------------------------------------ spans

    def span(self, value: Any) -> tuple[int, int]:
        """A node's byte range, quotes included (regorus's spans leave them out of strings, so
        also out of an expression that starts or ends with one)."""
        tag, body = _node(value)
        own = body.get("span") if tag else value.get("span") if isinstance(value, dict) else None
        start, end = (int(own["start"]), int(own["end"])) if own else (len(self.data), 0)
        if tag in _STRINGS:
            return start - 1, end + 1
        for child in _children(body if tag else value):
            if isinstance(child, (dict, list)):
                child_start, child_end = self.span(child)
                start, end = min(start, child_start), max(end, child_end)
        return start, end

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "surrogatepass")

    # ------------------------------------------------------------ walking

    def rule(self, rule: Any) -> None:
        tag, body = _node(rule)
        span = body.get("span") or {}
        if b"not" not in self.data[int(span.get("start", 0)):int(span.get("end", 0)) + 1]:
            return  # most rules: no walk through their tree
        self._rule = rule
        self._rule_vars = None
        declared: set[str] = set()
        head_tag, head = _node(body.get("head"))
        if head_tag == "Func":
            for arg in head.get("args") or ():
                declared.update(_vars(arg))
        for rule_body in body.get("bodies") or () if tag == "Spec" else ():
            query = rule_body.get("query")
            if isinstance(query, dict):
                self.query(query, declared, rule_body=True)
        self.walk(body.get("head"), declared)
        if tag == "Default":
            self.walk(body.get("value"), declared)
        for rule_body in body.get("bodies") or () if tag == "Spec" else ():
            self.walk(rule_body.get("assign"), declared)

    def walk(self, value: Any, declared: set[str]) -> None:
        """Every query under `value` (comprehensions, `every`) with a `not` in it."""
        if isinstance(value, list):
            for child in value:
                if isinstance(child, (dict, list)):
                    self.walk(child, declared)
            return
        if not isinstance(value, dict):
            return
        if "stmts" in value:
            self.query(value, declared)
            return
        tag, body = _node(value)
        node = body if tag else value
        span = node.get("span")
        if isinstance(span, dict) and self.data.find(b"not", span["start"], span["end"]) < 0:
            return  # nothing to rewrite below
        if tag == "Every":
            names = {self.text(*self._name_span(s)) for s in (body.get("key"), body.get("value"))
                     if s}
            self.walk(body.get("domain"), declared)
            self.query(body.get("query"), declared | names)
            return
        for key, child in node.items():
            if key != "span" and isinstance(child, (dict, list)):
                self.walk(child, declared)

    @staticmethod
    def _name_span(span: Any) -> tuple[int, int]:
        span = span[0] if isinstance(span, list) else span
        return int(span["start"]), int(span["end"])

    def query(self, query: Any, outer: set[str], *, rule_body: bool = False) -> None:
        if not isinstance(query, dict):
            return
        stmts = query.get("stmts") or []
        declared = outer | {name for stmt in stmts for name in self._declares(stmt)}
        start = int(query["span"]["start"])
        braceless = rule_body and self.data[start:start + 1] not in (b"{", b"|")
        for stmt in stmts:
            tag, literal = _node(stmt.get("literal"))
            if tag == "NotExpr":
                self.negation(stmt, literal, declared, braceless and len(stmts) == 1)
            self.walk(stmt.get("literal"), declared)
            self.walk(stmt.get("with_mods"), declared)

    def _declares(self, stmt: dict[str, Any]) -> Iterator[str]:
        """The names a literal declares (shadowing a rule of the same name): `some`, `:=`."""
        tag, literal = _node(stmt.get("literal"))
        if tag == "SomeVars":
            for span in literal.get("vars") or ():
                yield self.text(*self._name_span(span))
        elif tag == "SomeIn":
            yield from _vars(literal.get("key"))
            yield from _vars(literal.get("value"))
        elif tag == "Expr":
            expr_tag, expr = _node(literal.get("expr"))
            if expr_tag == "AssignExpr" and expr.get("op") == "ColEq":
                yield from _vars(expr.get("lhs"))

    # ------------------------------------------------------------ OPA's rule

    def negation(self, stmt: dict[str, Any], literal: dict[str, Any], declared: set[str],
                 braces: bool) -> None:
        inside = Counter(_vars(stmt))
        targets: list[Any] = []

        def is_global(name: str) -> bool:
            if name == "_" or name in declared:
                return False
            if name in _ROOTS or name in self.globals:
                return True
            # a name met nowhere else in the rule is not a local: a rule of the package
            if self._rule_vars is None:
                self._rule_vars = Counter(_vars(self._rule))
            return self._rule_vars[name] == inside[name]

        def one(term: Any) -> None:  # OPA: rewriteDynamicsOne after expandExprTerm
            tag, body = _node(term)
            if tag in _CALLS or tag in _REFS or (tag == "Var" and is_global(str(body["value"]))):
                targets.append(term)
            elif tag in _COLLECTIONS:
                for child in _children(body):
                    _collection_items(child)

        def _collection_items(value: Any) -> None:
            if _node(value)[0]:
                one(value)
            elif isinstance(value, list):  # an object's [span, key, value]
                for item in value:
                    _collection_items(item)

        def in_term(term: Any) -> None:  # OPA: rewriteDynamicsInTerm after expandExprTerm
            tag, body = _node(term)
            while tag in _REFS:
                if tag == "RefBrack":
                    one(body.get("index"))
                tag, body = _node(body.get("refr"))
                term = {tag: body}
            if tag in _CALLS:
                targets.append(term)
            elif tag in _COLLECTIONS:
                one(term)

        tag, expr = _node(literal.get("expr"))
        if tag in ("BoolExpr", "AssignExpr") and expr.get("op") in ("Eq", "ColEq"):
            in_term(expr.get("lhs"))  # OPA: an equality, `==` included (RewriteEquals)
            in_term(expr.get("rhs"))
        elif tag == "Call":
            for param in expr.get("params") or ():
                one(param)
        elif tag in ("BoolExpr", "ArithExpr", "BinExpr"):
            one(expr.get("lhs"))
            one(expr.get("rhs"))
        elif tag == "Membership":
            for part in (expr.get("key"), expr.get("value"), expr.get("collection")):
                if part is not None:
                    one(part)
        else:
            in_term({tag: expr})
        # `_` in a negation is unsafe on OPA (the module is refused): leave regorus's reading
        targets = [t for t in targets if "_" not in set(_vars(t, comprehensions=False))]
        if not targets:
            return
        withs: list[tuple[tuple[int, int], tuple[int, int] | _Lift]] = []
        lifts: list[_Lift] = []
        for modifier in stmt.get("with_mods") or ():
            value_span = self.span(modifier.get("as"))
            value: tuple[int, int] | _Lift = value_span
            if b"\n" in self.data[value_span[0]:value_span[1]]:
                value = self.lift(*value_span)  # bound first: the `with` fits on one line
                lifts.append(value)
            withs.append((self.span(modifier.get("refr")), value))
        lifts.extend(self.lift(*self.span(t)) for t in targets)
        start, end = self.span(stmt)
        self.edits.append(_Negation(start, end, lifts, withs, braces))

    def lift(self, start: int, end: int) -> _Lift:
        self.counter += 1
        lifted = _Lift(start, end, f"{PREFIX}{self.counter}")
        self.edits.append(lifted)
        return lifted

    # ------------------------------------------------------------ the new text

    def render(self) -> list[Edit]:
        """The outermost edits, each with its text (the nested ones applied within)."""
        self.edits.sort(key=lambda e: (e.start, -e.end))
        out: list[Edit] = []
        position = 0
        for edit in self.edits:
            if edit.start >= position:
                out.append((edit.start, edit.end, self._render(edit)))
                position = edit.end
        return out

    def _emit(self, start: int, end: int, skip: object = None) -> str:
        pieces: list[str] = []
        position = start
        for edit in self.edits:
            if edit is skip or edit.start < position or edit.end > end:
                continue
            pieces.append(self.text(position, edit.start))
            pieces.append(self._render(edit))
            position = edit.end
        pieces.append(self.text(position, end))
        return "".join(pieces)

    def _render(self, edit: _Lift | _Negation) -> str:
        if isinstance(edit, _Lift):
            return edit.name
        withs = "".join(
            f" with {self._emit(*target)} as "
            + (value.name if isinstance(value, _Lift) else self._emit(*value))
            for target, value in edit.withs)
        with_values = {id(v) for _, v in edit.withs if isinstance(v, _Lift)}
        bound = [f"{lift.name} := {self._emit(lift.start, lift.end, skip=lift)}"
                 + ("" if id(lift) in with_values else withs) for lift in edit.lifts]
        text = "; ".join([*bound, self._emit(edit.start, edit.end, skip=edit)])
        return "{ " + text + " }" if edit.braces else text


def negation_edits(tree: dict[str, Any], data: bytes) -> list[Edit]:
    """The edits that make regorus evaluate `tree`'s negations as OPA does (see above): byte
    ranges of `data` (the module's UTF-8 text) and their replacements, in order, disjoint."""
    if b"not" not in data:
        return []
    names: set[str] = set()
    for rule in tree.get("rules") or ():
        tag, body = _node(rule)
        head = _node(body.get("head"))[1] if tag == "Spec" else body
        ref: Any = head.get("refr")
        while _node(ref)[0] in _REFS:
            ref = _node(ref)[1].get("refr")
        names.update(_vars(ref))
    for imported in tree.get("imports") or ():
        alias = imported.get("as")
        tag, body = _node(imported.get("refr"))
        if next(_vars(imported.get("refr")), "") in ("rego", "future"):
            continue  # `import rego.v1`, `import future.keywords.if`: no name
        if alias:
            names.add(data[int(alias["start"]):int(alias["end"])].decode("utf-8", "replace"))
        elif tag == "RefDot":
            names.add(str(body["field"][1]))
        elif tag == "Var":
            names.add(str(body.get("value")))
    rewriter = _Rewriter(data, frozenset(names))
    # never one of the module's own names
    rewriter.counter = max((int(n) for n in _TAKEN.findall(data)), default=0)
    for rule in tree.get("rules") or ():
        rewriter.rule(rule)
    return rewriter.render()


def apply_edits(text: str, edits: list[Edit] | tuple[Edit, ...]) -> str:
    if not edits:
        return text
    data = text.encode("utf-8", "surrogatepass")
    pieces: list[bytes] = []
    position = 0
    for start, end, replacement in edits:
        pieces.append(data[position:start])
        pieces.append(replacement.encode("utf-8", "surrogatepass"))
        position = end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8", "surrogatepass")
