"""What counts as destructive in a migration (seed 003: reversibility), for the migration rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pe_policy.models.migration import Migration, Operation, SqlStatement
from pe_policy.sql import lex

# Non-column things `ALTER TABLE ... DROP <x>` may drop without losing a column's data.
_NOT_A_COLUMN = (r"CONSTRAINT|INDEX|KEY|PRIMARY|FOREIGN|CHECK|DEFAULT|NOT|IDENTITY|EXPRESSION"
                 r"|PARTITION|TRIGGER|ROW|SYSTEM|PERIOD|STATISTICS")
_DESTRUCTIVE_SQL: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("DROP TABLE", re.compile(r"^\s*DROP\s+(?:TEMPORARY\s+)?TABLE\b", re.I)),
    ("DROP SCHEMA", re.compile(r"^\s*DROP\s+(?:SCHEMA|DATABASE)\b", re.I)),
    ("TRUNCATE", re.compile(r"^\s*TRUNCATE\b", re.I)),
    ("DROP COLUMN", re.compile(
        rf"\bDROP\s+(?:COLUMN\b|(?!(?:{_NOT_A_COLUMN})\b)(?:IF\s+EXISTS\s+)?[A-Za-z_\"`])", re.I)),
)


def destructive_sql(statement: SqlStatement) -> tuple[str, str] | None:
    """(what, the text that does it) when the statement drops or empties a table or column."""
    mask = lex(statement.sql, strict=False).mask
    for what, pattern in _DESTRUCTIVE_SQL:
        if what == "DROP COLUMN" and not re.match(r"\s*ALTER\s+TABLE\b", mask, re.I):
            continue
        match = pattern.search(mask)
        if match:
            start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
            return what, statement.sql[start:].splitlines()[0].strip()
    return None


# Alembic op.* / batch_op.* calls and Django operations that destroy data.
DESTRUCTIVE_OPERATIONS: dict[str, str] = {
    "drop_table": "DROP TABLE",
    "drop_column": "DROP COLUMN",
    "RemoveField": "DROP COLUMN",
    "DeleteModel": "DROP TABLE",
}


def operation_target(op: Operation) -> str:
    """What a destructive operation removes, as readable text: `users.legacy_flag`."""

    def arg(index: int, *names: str) -> str | None:
        for name in names:
            if isinstance(op.kwargs.get(name), str):
                return str(op.kwargs[name])
        value = op.args[index] if index < len(op.args) else None
        return value if isinstance(value, str) else None

    if op.name == "drop_table":
        return arg(0, "table_name") or "?"
    if op.name == "drop_column":
        if op.table is not None:  # batch_op.drop_column("col")
            return f"{op.table}.{arg(0, 'column_name') or '?'}"
        return f"{arg(0, 'table_name') or '?'}.{arg(1, 'column_name') or '?'}"
    if op.name == "RemoveField":
        return f"{arg(0, 'model_name') or '?'}.{arg(1, 'name') or '?'}"
    if op.name == "DeleteModel":
        return arg(0, "name") or "?"
    return op.name


def forward_operations(migration: Migration) -> Iterator[tuple[tuple[str | int, ...], Operation]]:
    """Operations that run when migrating forward, with their JSON paths."""
    if migration.upgrade is not None:
        for index, op in enumerate(migration.upgrade.operations):
            yield ("upgrade", "operations", index), op
    for index, op in enumerate(migration.operations):
        yield ("operations", index), op
