"""PE-MG-001: every migration can be rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from pe_policy.document import Document
from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.models.migration import Migration

_REVERSE_ARGUMENT = {"RunPython": "reverse_code", "RunSQL": "reverse_sql"}


def _alembic(migration: Migration) -> Iterator[Violation]:
    up, down = migration.upgrade, migration.downgrade
    if up is None or not up.does_work:
        return  # nothing to undo (a merge revision, an empty placeholder)
    revision = f"revision {migration.revision}" if migration.revision else "this revision"
    if down is None:
        yield Violation(
            f"{revision} has no downgrade(): add one that undoes what upgrade() does",
            ("upgrade",),
        )
    elif down.only_raises:
        yield Violation(
            f"downgrade() of {revision} only raises, so it can never be rolled back: "
            "write the inverse of upgrade() (restore columns, copy data back)",
            ("downgrade",),
        )
    elif not down.does_work:
        yield Violation(
            f"downgrade() of {revision} does nothing (`pass`) although upgrade() changes the "
            "database: write the inverse of upgrade()",
            ("downgrade",),
        )


def _django(migration: Migration) -> Iterator[Violation]:
    for index, op in enumerate(migration.operations):
        argument = _REVERSE_ARGUMENT.get(op.name)
        if argument is None or op.reverse is not None:
            continue
        forward = op.args[0] if op.args and isinstance(op.args[0], str) else "..."
        noop = f"migrations.{op.name}.noop"
        call = f"{op.name}({forward})" if op.name == "RunPython" else op.name
        yield Violation(
            f"{call} has no {argument}, so this migration cannot be unapplied: pass "
            f"{argument}= (use {noop} when nothing needs undoing)",
            ("operations", index),
        )


def _sql(migration: Migration, doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    if migration.partner is None:
        return
    partner_name = PurePosixPath(migration.partner).name
    if migration.direction == "up":
        exists = migration.partner_exists
        if exists is None:
            exists = ctx.file_exists(migration.partner)
        if not exists:
            yield Violation(
                f"{PurePosixPath(doc.path).name} has no {partner_name}: add the down "
                "migration that undoes it",
            )
    elif migration.direction == "down" and not migration.statements:
        up = ctx.document_at(migration.partner)
        if up is not None and isinstance(up.model, Migration) and not up.model.statements:
            return  # an empty pair undoes nothing, correctly
        yield Violation(
            f"{PurePosixPath(doc.path).name} has no statements, so {partner_name} cannot be "
            "rolled back: write the SQL that undoes it",
        )


@rule(
    "PE-MG-001",
    severity="high",
    kinds=["migration"],
    title="Migrations are reversible",
    description=(
        "Every deployment must be rollback-capable, and a deployment that migrated the database "
        "can only be rolled back if the migration can be unapplied: an Alembic `downgrade()` "
        "that does the inverse of `upgrade()`, Django `RunPython`/`RunSQL` with reverse code, "
        "and a `.down.sql` beside every `.up.sql`."
    ),
    remediation=(
        "Write the inverse migration: `downgrade()` re-creates what `upgrade()` dropped; "
        "`RunPython(forwards, reverse_code=backwards)` (or `migrations.RunPython.noop` when "
        "nothing needs undoing); `RunSQL(sql, reverse_sql=...)`; a `NNN_name.down.sql` for "
        "each `NNN_name.up.sql`."
    ),
    source="seed 003 (reversibility: database migration is reversible)",
)
def reversible(migration: Migration, ctx: RuleContext) -> Iterator[Violation]:
    if migration.framework == "alembic":
        yield from _alembic(migration)
    elif migration.framework == "django":
        yield from _django(migration)
    elif migration.framework == "sql":
        assert ctx.document is not None  # set for every rule the engine runs
        yield from _sql(migration, ctx.document, ctx)
