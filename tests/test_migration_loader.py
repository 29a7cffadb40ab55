"""The migration loader on real Alembic, Django and SQL files: structure, lines, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.discover import detect_kind, kind_by_path
from pe_policy.document import Document
from pe_policy.engine.pack import builtin_policy_dir
from pe_policy.engine.python_rules import import_policy_module
from pe_policy.findings import ParseError
from pe_policy.loaders import Source, load_file, load_text
from pe_policy.loaders import migration as migration_loader
from pe_policy.models.migration import Migration, SqlStatement
from pe_policy.sql import split_statements
from tests.conftest import FIXTURES, REPO, line_of

# what PE-MG-002 counts as destructive, from its package as the rule imports it
destructive_sql = import_policy_module(builtin_policy_dir(), "migration.lib.destructive").destructive_sql

GOOD = FIXTURES / "migration" / "good"
BAD = FIXTURES / "migration" / "bad"
DROP_COLUMNS = BAD / "alembic/versions/b7e3f0c2a915_drop_legacy_session_columns.py"
ENCRYPT = BAD / "alembic/versions/e91c5a7d3b20_encrypt_payment_tokens.py"
MERGE = GOOD / "alembic/versions/8c41d2e5a903_merge_billing_and_auth_heads.py"
DJANGO_GOOD = GOOD / "django/billing/migrations/0004_invoice_due_date_backfill.py"
DJANGO_BAD = BAD / "django/accounts/migrations/0007_remove_profile_legacy_fields.py"
AUDIT_UP = GOOD / "sql/000012_create_audit_log.up.sql"


def load(path: Path) -> tuple[Document, Migration]:
    doc = load_file(path, path.relative_to(REPO).as_posix(), "migration", REPO)
    assert isinstance(doc.model, Migration)
    return doc, doc.model


def test_alembic_revision_functions_and_operations() -> None:
    doc, m = load(DROP_COLUMNS)
    assert (m.framework, m.revision, m.down_revision) == ("alembic", "b7e3f0c2a915", "c2d8e4f61a07")
    assert m.upgrade is not None and m.downgrade is not None
    assert m.upgrade.does_work and not m.downgrade.does_work and not m.downgrade.only_raises
    assert m.upgrade.line == line_of(DROP_COLUMNS, "def upgrade")
    calls = [(op.receiver, op.name, op.table, op.line) for op in m.upgrade.operations]
    assert calls == [
        ("op", "drop_column", None, line_of(DROP_COLUMNS, 'op.drop_column("users"')),
        ("batch_op", "drop_column", "api_keys", line_of(DROP_COLUMNS, "batch_op.drop_column")),
        ("op", "drop_table", None, line_of(DROP_COLUMNS, "op.drop_table")),
        ("op", "execute", None, line_of(DROP_COLUMNS, "TRUNCATE TABLE")),
        ("op", "execute", None, line_of(DROP_COLUMNS, "op.execute(", 2)),
    ]
    assert m.upgrade.operations[0].args == ["users", "legacy_session_token"]
    # a triple-quoted string lines up with the file: each statement has its own line
    statements = m.upgrade.operations[4].sql
    assert [(s.command, s.line, s.exact) for s in statements] == [
        ("DELETE", line_of(DROP_COLUMNS, "DELETE FROM feature_flags"), True),
        ("ALTER", line_of(DROP_COLUMNS, "ALTER TABLE audit_events"), True),
    ]
    assert doc.location(("downgrade",)).line == line_of(DROP_COLUMNS, "def downgrade")
    assert doc.location(("upgrade", "operations", 4, "sql", 1)).line == line_of(
        DROP_COLUMNS, "DROP COLUMN raw_ip")


def test_merge_revision_and_annotated_assignments() -> None:
    _, m = load(MERGE)
    assert m.revision == "8c41d2e5a903"
    assert m.down_revision == ["3f2a9c1d7b4e", "5be0c7a41d29"]
    assert m.upgrade is not None and not m.upgrade.does_work


def test_downgrade_that_only_raises_and_sql_on_a_connection() -> None:
    doc, m = load(ENCRYPT)
    assert m.downgrade is not None and m.downgrade.only_raises and not m.downgrade.does_work
    assert m.upgrade is not None and m.upgrade.does_work
    (execute,) = m.upgrade.operations
    assert (execute.receiver, execute.name) == ("conn", "execute")
    # implicitly concatenated literals: the statement spans the whole literal
    (statement,) = execute.sql
    assert statement.command == "UPDATE" and not statement.exact
    assert statement.line == line_of(ENCRYPT, '"UPDATE payment_methods "')
    assert statement.end_line == line_of(ENCRYPT, '"SET token')
    located = doc.location(("upgrade", "operations", 0, "sql", 0), "SET token")
    assert located.line == line_of(ENCRYPT, '"SET token')


def test_django_operations_reverse_code_and_nesting() -> None:
    doc, m = load(DJANGO_GOOD)
    assert m.framework == "django"
    assert m.dependencies == [["billing", "0003_invoice_currency"]]
    assert [(op.name, op.nested_in) for op in m.operations] == [
        ("AddField", None), ("RunPython", None), ("RunSQL", None),
        ("SeparateDatabaseAndState", None), ("RunSQL", "SeparateDatabaseAndState"),
    ]
    run_python, run_sql = m.operations[1], m.operations[2]
    assert run_python.reverse == "migrations.RunPython.noop"
    assert run_python.line == line_of(DJANGO_GOOD, "migrations.RunPython(")
    assert [s.command for s in run_sql.sql] == ["CREATE"]
    assert [s.command for s in run_sql.reverse_sql] == ["DROP"]
    nested = m.operations[4]
    assert nested.line == line_of(DJANGO_GOOD, "migrations.RunSQL(", 2)
    assert nested.reverse is not None  # positional reverse_sql
    assert doc.location(("operations", 2)).line == line_of(DJANGO_GOOD, "migrations.RunSQL(")


def test_django_without_reverse_and_sql_lists() -> None:
    _, m = load(DJANGO_BAD)
    by_name = {op.name: op for op in m.operations}
    assert by_name["RunPython"].reverse is None
    assert by_name["RunPython"].args == ["copy_avatars_to_storage"]
    assert by_name["RunSQL"].reverse is None
    assert [s.line for s in by_name["RunSQL"].sql] == [
        line_of(DJANGO_BAD, "DROP TABLE IF EXISTS"), line_of(DJANGO_BAD, "UPDATE accounts_profile")]
    assert by_name["RemoveField"].kwargs == {"model_name": "profile", "name": "avatar_blob"}


def test_explicit_none_reverse_is_no_reverse() -> None:
    text = ("from django.db import migrations\n\nclass Migration(migrations.Migration):\n"
            "    operations = [migrations.RunPython(forwards, reverse_code=None)]\n")
    m = load_text(text, "app/migrations/0002_x.py", "migration").model
    assert isinstance(m, Migration) and m.operations[0].reverse is None


def test_sql_statements_respect_dollar_quotes_strings_and_comments() -> None:
    _, m = load(AUDIT_UP)
    assert (m.framework, m.direction, m.partner_exists) == ("sql", "up", True)
    assert m.partner == "fixtures/migration/good/sql/000012_create_audit_log.down.sql"
    assert [s.command for s in m.statements] == [
        "BEGIN", "CREATE", "CREATE", "CREATE", "CREATE", "COMMENT", "COMMIT"]
    assert [s.line for s in m.statements] == [
        line_of(AUDIT_UP, "BEGIN;"), line_of(AUDIT_UP, "CREATE TABLE"),
        line_of(AUDIT_UP, "CREATE INDEX"), line_of(AUDIT_UP, "CREATE OR REPLACE FUNCTION"),
        line_of(AUDIT_UP, "CREATE TRIGGER"), line_of(AUDIT_UP, "COMMENT ON TABLE"),
        line_of(AUDIT_UP, "COMMIT;"),
    ]
    function = m.statements[3]
    assert function.end_line == line_of(AUDIT_UP, "$$ LANGUAGE plpgsql")
    # the words inside the dollar-quoted body and the comment string are not statements
    assert all(destructive_sql(s) is None for s in m.statements)


def test_sql_partner_missing_and_unknown() -> None:
    path = BAD / "sql/000013_drop_sessions_table.up.sql"
    _, m = load(path)
    assert m.partner_exists is False
    assert m.partner == "fixtures/migration/bad/sql/000013_drop_sessions_table.down.sql"
    # without a file on disk nobody can tell: the rule asks the repository instead
    loose = load_text(path.read_text(), "db/000013_drop.up.sql", "migration").model
    assert isinstance(loose, Migration) and loose.partner_exists is None


@pytest.mark.parametrize(("sql", "expected"), [
    ("DROP TABLE sessions", "DROP TABLE"),
    ("drop table if exists a, b", "DROP TABLE"),
    ("TRUNCATE login_attempts RESTART IDENTITY", "TRUNCATE"),
    ("ALTER TABLE users DROP COLUMN legacy", "DROP COLUMN"),
    ("ALTER TABLE users DROP IF EXISTS legacy", "DROP COLUMN"),
    ("ALTER TABLE users DROP legacy", "DROP COLUMN"),  # MySQL: COLUMN is optional
    ("DROP SCHEMA reporting CASCADE", "DROP SCHEMA"),
    ("ALTER TABLE users DROP CONSTRAINT users_email_key", None),
    ("ALTER TABLE users ALTER COLUMN email DROP NOT NULL", None),
    ("ALTER TABLE users ALTER COLUMN plan DROP DEFAULT", None),
    ("DROP INDEX CONCURRENTLY ix_users_email", None),
    ("INSERT INTO audit (note) VALUES ('DROP TABLE users')", None),
    ("UPDATE t SET x = 1 -- then DROP TABLE t", None),
    # only the mask tells these apart from a real DROP COLUMN
    ("ALTER TABLE notes ADD COLUMN hint text DEFAULT 'DROP COLUMN body'", None),
    ("ALTER TABLE notes /* DROP COLUMN body later */ ADD COLUMN hint text", None),
    ('ALTER TABLE notes ADD COLUMN "drop legacy" int', None),
])
def test_destructive_sql(sql: str, expected: str | None) -> None:
    statement = SqlStatement(line=1, sql=sql, command=sql.split()[0].upper())
    found = destructive_sql(statement)
    assert (found[0] if found else None) == expected


def test_python_syntax_error_is_a_parse_error_with_position() -> None:
    text = '"""broken"""\nrevision = "abc"\n\ndef upgrade(:\n    pass\n'
    with pytest.raises(ParseError) as info:
        load_text(text, "migrations/versions/abc_broken.py", "migration")
    assert info.value.line == 4 and info.value.column is not None
    assert "invalid Python" in info.value.message


def test_unterminated_sql_string_is_a_parse_error_at_the_quote() -> None:
    text = "-- 0003\nUPDATE users\n   SET plan = 'free\n WHERE plan IS NULL;\n"
    with pytest.raises(ParseError) as info:
        load_text(text, "db/0003_plans.up.sql", "migration")
    assert (info.value.line, info.value.column) == (3, 15)
    assert "unterminated string" in info.value.message


def test_a_helper_module_beside_migrations_is_no_migration() -> None:
    text = "from django.db import models\n\n\ndef default_plan():\n    return 'free'\n"
    m = load_text(text, "billing/migrations/helpers.py", "migration").model
    assert isinstance(m, Migration) and m.framework is None


def test_kind_detection() -> None:
    assert kind_by_path("migrations/versions/3f2a_add.py") == "migration"
    assert kind_by_path("billing/migrations/0004_x.py") == "migration"
    assert kind_by_path("billing/migrations/__init__.py") is None
    assert kind_by_path("migrations/env.py") is None
    assert kind_by_path("db/000012_create_audit_log.up.sql") == "migration"
    assert kind_by_path("db/000012_create_audit_log.down.sql") == "migration"
    # an Alembic revision outside a versions/ folder is found by its content
    assert detect_kind(DROP_COLUMNS, "db/revisions/b7e3.py") == "migration"


def test_split_statements_offsets() -> None:
    text = "/* a; */ SELECT 1;\n-- b;\nSELECT 'x;y';   ;SELECT $f$;$f$"
    parts = split_statements(text)
    assert [p.text for p in parts] == ["SELECT 1", "SELECT 'x;y'", "SELECT $f$;$f$"]
    assert all(text[p.start:p.end] == p.text for p in parts)


# --- fuzzing: anything in, a Document or a ParseError out -----------------------------------

FIXTURE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(
    (FIXTURES / "migration").rglob("*")) if p.is_file()]
# Python fragments that turn up in migrations, for building plausible ones
FRAGMENTS = [
    "from alembic import op\n", "import sqlalchemy as sa\n", "revision = 'a1'\n",
    "down_revision = ('a0', 'b0')\n", "def upgrade():\n", "def downgrade():\n", "    pass\n",
    "    op.drop_column('t', 'c')\n", "    op.execute(\"DROP TABLE t; SELECT ';'\")\n",
    "    with op.batch_alter_table('t') as b:\n        b.drop_column('c')\n",
    "    op.execute(f'TRUNCATE {name}')\n", "    raise NotImplementedError\n",
    "class Migration(migrations.Migration):\n",
    "    operations = [migrations.RunSQL(['DROP TABLE x', ('UPDATE y', [1])], None)]\n",
    "    operations = [migrations.RunPython(f, *args, **kw), object()]\n",
    "    dependencies = [('a', '0001'), 'bad', ('x',)]\n",
    "    operations = [migrations.SeparateDatabaseAndState(database_operations=[1, op()])]\n",
    "    op.execute(sa.text(\"\"\"\n    ALTER TABLE t DROP legacy;\n    \"\"\"))\n",
]


# 200 examples unless the active profile (e.g. `--hypothesis-profile`) asks for more
FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _load(text: str, path: str) -> None:
    """The loader itself (not load_text, which would turn a crash into a ParseError)."""
    try:
        doc = migration_loader.load(Source(path=path, text=text, kind="migration"))
    except ParseError as exc:
        assert exc.line >= 1
        return
    assert isinstance(doc.model, Migration)
    doc.input  # noqa: B018 - serializes


@FUZZ
@given(st.text(max_size=400), st.sampled_from(["m/versions/a.py", "db/1_a.up.sql"]))
def test_fuzz_arbitrary_text(text: str, path: str) -> None:
    _load(text, path)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_fuzz_assembled_migrations(parts: list[str]) -> None:
    _load("".join(parts), "migrations/versions/abc.py")


@FUZZ
@given(st.data())
def test_fuzz_mutated_fixtures(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(FIXTURE_TEXTS))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 20))
        insert = data.draw(st.sampled_from(["", "'", '"', '"""', "$$", "/*", "--", "(", ")", ";",
                                            "\n", "    ", "DROP TABLE x;", "\x00", "\\"]))
        text = text[:at] + insert + text[at + cut:]
    path = data.draw(st.sampled_from(["migrations/versions/a.py", "db/0001_x.up.sql"]))
    _load(text, path)
