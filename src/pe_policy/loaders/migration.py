"""Migrations: Alembic revisions and Django migrations (read with `ast`, never imported or
run) and `*.up.sql` / `*.down.sql` files (split into statements with their lines)."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.located import located_document
from pe_policy.models.migration import Migration, MigrationFunction, Operation, SqlStatement
from pe_policy.sql import LineIndex, SqlSyntaxError, first_keyword, split_statements

MAX_TEXT = 200  # source text kept for a non-literal argument
# About 2 KB of model each: 1,000,000 `SELECT 1;` lines (10 MB) were 1.9 GB.
MAX_STATEMENTS = 100_000


class _TooManyStatements(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line
_SQL_RECEIVER_METHODS = frozenset({"execute", "exec_driver_sql"})
_TEXT_CALLS = frozenset({"text", "sa.text", "sqlalchemy.text", "sql.text"})
_OP_HELPERS = frozenset({"f", "get_bind", "get_context", "inline_literal", "batch_alter_table"})


def load(source: Source) -> Document:
    try:
        if source.path.lower().endswith(".sql"):
            return located_document(source, _load_sql(source))
        return located_document(source, _load_python(source))
    except _TooManyStatements as exc:
        raise ParseError(source.path, f"SQL with more than {MAX_STATEMENTS:,} statements: too "
                         "large to check", exc.line) from None


# --- SQL files -----------------------------------------------------------------------------

def sql_statements(text: str, *, strict: bool, first_line: int = 1) -> list[SqlStatement]:
    """Statements of `text` with lines counted from `first_line`.

    More than MAX_STATEMENTS (`;` counted first, then only those outside strings and
    comments) is refused before any is made."""
    if text.count(";") >= MAX_STATEMENTS:
        from pe_policy.sql import lex

        semicolons = lex(text, strict=False).semicolons
        if len(semicolons) >= MAX_STATEMENTS:
            raise _TooManyStatements(first_line + text.count("\n", 0, semicolons[MAX_STATEMENTS - 1]))
    index = LineIndex(text)
    out = []
    for raw in split_statements(text, strict=strict):
        line, column = index.position(raw.start)
        end_line, _ = index.position(max(raw.start, raw.end - 1))
        out.append(SqlStatement(
            line=first_line + line - 1, column=column if line > 1 or first_line == 1 else None,
            end_line=first_line + end_line - 1, sql=raw.text, command=first_keyword(raw.mask),
        ))
    return out


def _load_sql(source: Source) -> Migration:
    try:
        statements = sql_statements(source.text, strict=True)
    except SqlSyntaxError as exc:
        line, column = LineIndex(source.text).position(exc.offset)
        raise ParseError(source.path, f"invalid SQL: {exc}", line, column) from None
    name = PurePosixPath(source.path).name
    lower = name.lower()
    direction: str = "up"
    partner: str | None = None
    for this, other in ((".up.sql", ".down.sql"), (".down.sql", ".up.sql")):
        if lower.endswith(this):
            direction = this[1:-4]
            partner_name = name[: -len(this)] + other
            partner = (PurePosixPath(source.path).parent / partner_name).as_posix()
            break
    partner_exists: bool | None = None
    if partner is not None and source.abs_path is not None:
        partner_exists = (source.abs_path.parent / PurePosixPath(partner).name).is_file()
    return Migration.model_validate({
        "framework": "sql", "direction": direction, "statements": statements,
        "partner": partner, "partner_exists": partner_exists,
    })


# --- Python ----------------------------------------------------------------------------------

def _parse_python(source: Source) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for "\d" in old migrations
            return ast.parse(source.text, filename=source.path)
    except SyntaxError as exc:
        raise ParseError(source.path, f"invalid Python: {exc.msg}", exc.lineno or 1,
                         exc.offset) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(source.path, f"invalid Python: {exc}") from None


class _Reader:
    """Turns AST nodes of one file into model values."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def text_of(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source.text, node) or ""
        return segment if len(segment) <= MAX_TEXT else segment[: MAX_TEXT - 3] + "..."

    def value(self, node: ast.AST) -> Any:
        """A literal's value (JSON-friendly), else the expression's source text."""
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return self.text_of(node)
        return _jsonable(value) if _is_plain(value) else self.text_of(node)

    def sql_of(self, node: ast.expr | None) -> list[SqlStatement]:
        """Statements of a SQL literal: a string, `text("...")`, an f-string, or a list of
        them (Django's RunSQL also takes `(sql, params)` pairs)."""
        if node is None:
            return []
        if isinstance(node, (ast.List, ast.Tuple)):
            out: list[SqlStatement] = []
            for element in node.elts:
                if isinstance(element, (ast.List, ast.Tuple)) and element.elts:
                    element = element.elts[0]
                out.extend(self.sql_of(element))
            return out
        if isinstance(node, ast.Call) and _dotted(node.func) in _TEXT_CALLS and node.args:
            return self.sql_of(node.args[0])
        text = _string_value(node)
        if text is None:
            return []
        if self._newlines_are_real(node, text):
            return sql_statements(text, strict=False, first_line=node.lineno)
        # lines inside the value do not match the file's: span the whole literal instead
        return [statement.model_copy(update={"line": node.lineno, "column": None,
                                             "end_line": node.end_lineno, "exact": False})
                for statement in sql_statements(text, strict=False)]

    def _newlines_are_real(self, node: ast.expr, text: str) -> bool:
        """Whether the literal's value lines up with the file line for line (one plain or
        triple-quoted token, no escaped newlines), so a statement's own line is known."""
        if node.lineno == node.end_lineno:
            return "\n" not in text
        segment = ast.get_source_segment(self.source.text, node) or ""
        body = segment.lstrip("rRbBuUfF")
        return (body[:3] in ('"""', "'''") and body.endswith(body[:3])
                and segment.count("\n") == text.count("\n") and isinstance(node, ast.Constant))


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _string_value(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"DROP TABLE {name}": keep the words, mark the holes
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                       else "{...}" for v in node.values)
    return None


def _is_plain(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif not (item is None or isinstance(item, (str, int, float, bool))):
            return False
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return repr(value)
    return value


def _position(node: ast.AST) -> dict[str, int | None]:
    col = getattr(node, "col_offset", None)
    return {"line": getattr(node, "lineno", 1), "column": None if col is None else col + 1,
            "end_line": getattr(node, "end_lineno", None)}


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            out[stmt.target.id] = stmt.value
    return out


def _load_python(source: Source) -> Migration:
    tree = _parse_python(source)
    reader = _Reader(source)
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Migration":
            return _django(reader, stmt)
    functions = {stmt.name: stmt for stmt in tree.body if isinstance(stmt, ast.FunctionDef)}
    assigned = _module_assignments(tree)
    if "upgrade" in functions or "revision" in assigned:
        return _alembic(reader, tree, functions, assigned)
    return Migration()  # a helper module beside the migrations


# --- Alembic ---------------------------------------------------------------------------------

def _revision(reader: _Reader, node: ast.expr | None) -> str | list[str] | None:
    if node is None:
        return None
    value = reader.value(node)
    if isinstance(value, list):
        return [str(v) for v in value]
    return None if value is None else str(value)


def _op_aliases(tree: ast.Module) -> set[str]:
    """Names `alembic.op` is bound to (`from alembic import op [as x]`); `op` by default."""
    names = {"op"}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "alembic":
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "op")
    return names


def _alembic(reader: _Reader, tree: ast.Module, functions: dict[str, ast.FunctionDef],
             assigned: dict[str, ast.expr]) -> Migration:
    ops = _op_aliases(tree)
    data: dict[str, Any] = {
        "framework": "alembic",
        "revision": _revision(reader, assigned.get("revision")),
        "down_revision": _revision(reader, assigned.get("down_revision")),
    }
    for name in ("upgrade", "downgrade"):
        func = functions.get(name)
        if func is not None:
            data[name] = _function(reader, func, ops)
    return Migration.model_validate(data)


def _is_noise(stmt: ast.stmt) -> bool:
    """`pass`, `...` and bare string literals (docstrings, commented-out code in strings)."""
    if isinstance(stmt, ast.Pass):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and (
        stmt.value.value is Ellipsis or isinstance(stmt.value.value, str))


def _function(reader: _Reader, func: ast.FunctionDef, ops: set[str]) -> MigrationFunction:
    body = [stmt for stmt in func.body if not _is_noise(stmt)]
    only_raises = bool(body) and all(isinstance(stmt, ast.Raise) for stmt in body)
    return MigrationFunction(
        name=func.name, does_work=bool(body) and not only_raises, only_raises=only_raises,
        operations=list(_alembic_operations(reader, func, ops)), **_position(func),
    )


def _batch_tables(reader: _Reader, func: ast.FunctionDef, ops: set[str]) -> dict[str, str | None]:
    """`with op.batch_alter_table("users") as batch_op:` → {"batch_op": "users"}."""
    out: dict[str, str | None] = {}
    for node in ast.walk(func):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        for item in node.items:
            call = item.context_expr
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "batch_alter_table"
                    and _dotted(call.func.value) in ops
                    and isinstance(item.optional_vars, ast.Name)):
                table = reader.value(call.args[0]) if call.args else None
                out[item.optional_vars.id] = table if isinstance(table, str) else None
    return out


def _call_arguments(reader: _Reader, call: ast.Call) -> dict[str, Any]:
    return {
        "args": [reader.value(a) for a in call.args if not isinstance(a, ast.Starred)],
        "kwargs": {k.arg: reader.value(k.value) for k in call.keywords if k.arg is not None},
    }


def _alembic_operations(reader: _Reader, func: ast.FunctionDef, ops: set[str]) -> Iterator[Operation]:
    batches = _batch_tables(reader, func, ops)
    calls = [(node, node.func) for node in ast.walk(func)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]
    calls.sort(key=lambda pair: (pair[0].lineno, pair[0].col_offset))
    for call, attribute in calls:
        receiver = _dotted(attribute.value) or reader.text_of(attribute.value)
        name = attribute.attr
        on_op = receiver in ops or receiver in batches
        if (not on_op and name not in _SQL_RECEIVER_METHODS) or name in _OP_HELPERS:
            continue
        sql_node = call.args[0] if call.args else _keyword(call, "sqltext", "statement")
        yield Operation(
            name=name, receiver=receiver, table=batches.get(receiver),
            sql=reader.sql_of(sql_node) if name in _SQL_RECEIVER_METHODS else [],
            **_call_arguments(reader, call), **_position(call),
        )


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


# --- Django ----------------------------------------------------------------------------------

def _django(reader: _Reader, cls: ast.ClassDef) -> Migration:
    data: dict[str, Any] = {"framework": "django"}
    for stmt in cls.body:
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        if "dependencies" in names:
            value = reader.value(stmt.value)
            if isinstance(value, list):
                data["dependencies"] = [[str(part) for part in dep] for dep in value
                                        if isinstance(dep, list)]
        if "operations" in names:
            data["operations_line"] = stmt.lineno
            data["operations"] = list(_django_operations(reader, stmt.value, None))
    return Migration.model_validate(data)


def _elements(node: ast.AST | None) -> Iterable[ast.expr]:
    return node.elts if isinstance(node, (ast.List, ast.Tuple)) else ()


def _django_operations(reader: _Reader, node: ast.AST | None,
                       parent: str | None) -> Iterator[Operation]:
    for element in _elements(node):
        if not isinstance(element, ast.Call):
            continue
        name = _dotted(element.func).rpartition(".")[2] or reader.text_of(element.func)
        op: dict[str, Any] = {"name": name, "nested_in": parent, **_call_arguments(reader, element),
                              **_position(element)}

        def argument(index: int, keyword: str, call: ast.Call = element) -> ast.expr | None:
            found = _keyword(call, keyword)
            if found is None and index < len(call.args):
                found = call.args[index]
            return found

        if name in ("RunPython", "RunSQL"):
            reverse = argument(1, "reverse_code" if name == "RunPython" else "reverse_sql")
            if reverse is not None and not (isinstance(reverse, ast.Constant)
                                            and reverse.value is None):
                op["reverse"] = reader.text_of(reverse)
            if name == "RunSQL":
                op["sql"] = reader.sql_of(argument(0, "sql"))
                op["reverse_sql"] = reader.sql_of(reverse)
        yield Operation.model_validate(op)
        if name == "SeparateDatabaseAndState":
            yield from _django_operations(reader, argument(0, "database_operations"), name)


__all__ = ["load", "sql_statements"]
