"""Database migrations: Alembic revisions, Django migrations and `.up.sql`/`.down.sql` pairs.

The loader reads Python migrations with `ast` and never imports them (a
migration imports the application, its settings and its database driver).
Every node carries its own line, so the source map is built from the model
itself and a rule can point at the exact `op.drop_column(...)` call.
What counts as destructive is the rules' business: `policies/migration/lib/`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
