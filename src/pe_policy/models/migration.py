"""Database migrations: Alembic revisions, Django migrations and `.up.sql`/`.down.sql` pairs.

The loader reads Python migrations with `ast` and never imports them (a
migration imports the application, its settings and its database driver).
Every node carries its own line, so the source map is built from the model
itself and a rule can point at the exact `op.drop_column(...)` call.

Also here, for rules (built-in or a team's own): what counts as destructive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pe_policy.sql import lex

Framework = Literal["alembic", "django", "sql"]


class Located(BaseModel):
    """A node of the migration, with where it sits in the file."""

    model_config = ConfigDict(extra="forbid")

    line: int = Field(description="1-based line where the node starts.")
    column: int | None = Field(default=None, description="1-based column where the node starts.")
    end_line: int | None = Field(default=None, description="1-based line where the node ends.")


class SqlStatement(Located):
    """One SQL statement, from a `.sql` file or a string literal in Python."""

    sql: str = Field(description="The statement as written, without its closing semicolon.")
    command: str = Field(description="Its first keyword, upper-cased: DROP, ALTER, CREATE, ...")
    exact: bool = Field(
        default=True,
        description="False when the line is the start of the string literal holding the "
        "statement and not of the statement itself.",
    )


class Operation(Located):
    """An `op.*` call of an Alembic revision, or one entry of a Django `operations` list."""

    name: str = Field(description="`drop_column`, `execute` (Alembic); `RemoveField`, `RunSQL` "
                                   "(Django).")
    receiver: str | None = Field(
        default=None, description="What it is called on: `op`, a batch alias, a connection.")
    table: str | None = Field(
        default=None, description="The table of the enclosing `op.batch_alter_table(...)`.")
    args: list[Any] = Field(
        default_factory=list,
        description="Positional arguments: literal values, else their source text.")
    kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments: literal values, else their source text.")
    sql: list[SqlStatement] = Field(
        default_factory=list,
        description="SQL given as a literal: `op.execute(...)`, Django `RunSQL(sql=...)`.")
    reverse: str | None = Field(
        default=None,
        description="Django RunPython `reverse_code` / RunSQL `reverse_sql`, as source text; "
        "absent (or None in the file) means the operation cannot be reversed.")
    reverse_sql: list[SqlStatement] = Field(
        default_factory=list, description="Statements of a literal Django `reverse_sql`.")
    nested_in: str | None = Field(
        default=None, description="The wrapping operation (`SeparateDatabaseAndState`).")


class MigrationFunction(Located):
    """Alembic's `upgrade()` or `downgrade()`."""

    name: str
    does_work: bool = Field(
        description="False when the body is only `pass`, `...`, docstrings and `raise`.")
    only_raises: bool = Field(
        default=False, description="The body does nothing but raise (an explicit refusal).")
    operations: list[Operation] = Field(default_factory=list)


class Migration(BaseModel):
    """One migration file of any of the three frameworks."""

    model_config = ConfigDict(extra="forbid")

    framework: Framework | None = Field(
        default=None,
        description="None: a Python file in a migrations folder that is no migration "
        "(a helper module); rules leave it alone.")
    # Alembic
    revision: str | None = None
    down_revision: str | list[str] | None = Field(
        default=None, description="Parent revision(s); a list for merge revisions.")
    upgrade: MigrationFunction | None = None
    downgrade: MigrationFunction | None = None
    # Django
    dependencies: list[list[str]] = Field(
        default_factory=list, description="Django `(app_label, migration)` pairs.")
    operations: list[Operation] = Field(
        default_factory=list, description="Django operations, nested ones flattened in order.")
    operations_line: int | None = Field(
        default=None, description="Line of Django's `operations =`.")
    # SQL files
    direction: Literal["up", "down"] | None = Field(
        default=None, description="`up` for `*.up.sql` (and other forward SQL), `down` for "
        "`*.down.sql`.")
    statements: list[SqlStatement] = Field(default_factory=list)
    partner: str | None = Field(
        default=None, description="The other half of an up/down pair, relative to the root.")
    partner_exists: bool | None = Field(
        default=None, description="Whether `partner` exists; None when not known at load time.")


# --- what counts as destructive (seed 003: reversibility) -------------------------------

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
