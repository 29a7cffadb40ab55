"""PE-MG-002: data-destroying statements in the forward direction get a second look."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.migration import Migration, SqlStatement

from .lib.destructive import (
    DESTRUCTIVE_OPERATIONS,
    destructive_sql,
    forward_operations,
    operation_target,
)

_ADVICE = "a rollback cannot bring the data back: back it up first and get the drop reviewed"


def _statement_violations(where: str, statements: list[SqlStatement],
                          path: tuple[str | int, ...]) -> Iterator[Violation]:
    for index, statement in enumerate(statements):
        found = destructive_sql(statement)
        if found is None:
            continue
        what, text = found
        yield Violation(f"{where} runs {what} `{_shown(statement, text)}`: {_ADVICE}",
                        (*path, index), snippet=text)


def _shown(statement: SqlStatement, destructive_text: str) -> str:
    """The statement on one line, shortened around the part that destroys data."""
    collapsed = " ".join(statement.sql.split())
    if len(collapsed) <= 80:
        return collapsed
    part = " ".join(destructive_text.split())
    if collapsed.startswith(part):
        return part[:80]
    head = " ".join(collapsed.split()[:3])  # ALTER TABLE users
    return f"{head} ... {part[:60]}"


@rule(
    "PE-MG-002",
    severity="medium",
    kinds=["migration"],
    title="Destructive statements in forward migrations are reviewed",
    description=(
        "DROP TABLE, DROP COLUMN and TRUNCATE (and Alembic `op.drop_table`/`op.drop_column`, "
        "Django `RemoveField`/`DeleteModel`) destroy data when migrating forward; a rollback "
        "re-creates the table or column but not what was in it. In `downgrade()` or a "
        "`.down.sql` they are expected and not reported."
    ),
    remediation=(
        "Make the drop a deliberate, reviewed step: stop using the column in one release, back "
        "up or archive the data, drop it in a later release, then suppress this finding with "
        "a reason (`# pe-policy: ignore[PE-MG-002] archived to s3 in PE-71`)."
    ),
    source="seed 003 (reversibility, coordinate database migrations)",
)
def destructive(migration: Migration, ctx: RuleContext) -> Iterator[Violation]:
    if migration.framework is None:
        return
    where = "upgrade()" if migration.framework == "alembic" else "operations"
    for path, op in forward_operations(migration):
        what = DESTRUCTIVE_OPERATIONS.get(op.name)
        if what is not None:
            call = f"{op.receiver}.{op.name}" if op.receiver else op.name
            noun = "table" if what == "DROP TABLE" else "column"
            yield Violation(f"{where} drops {noun} {operation_target(op)} ({call}): {_ADVICE}",
                            path)
        runs = where if migration.framework == "alembic" else op.name
        yield from _statement_violations(runs, op.sql, (*path, "sql"))
    if migration.framework == "sql" and migration.direction == "up":
        assert ctx.document is not None  # set for every rule the engine runs
        name = PurePosixPath(ctx.document.path).name
        yield from _statement_violations(name, migration.statements, ("statements",))
