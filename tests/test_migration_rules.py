"""PE-MG-001 (reversible) and PE-MG-002 (destructive forward statements) through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, check_paths, line_of, rule_hits

MIGRATIONS = FIXTURES / "migration"
BAD = MIGRATIONS / "bad"
ALEMBIC = BAD / "alembic/versions"
DROP_COLUMNS = ALEMBIC / "b7e3f0c2a915_drop_legacy_session_columns.py"
ENCRYPT = ALEMBIC / "e91c5a7d3b20_encrypt_payment_tokens.py"
DJANGO = BAD / "django/accounts/migrations/0007_remove_profile_legacy_fields.py"
SESSIONS_UP = BAD / "sql/000013_drop_sessions_table.up.sql"
TIERS_UP = BAD / "sql/000014_backfill_plan_tiers.up.sql"
TIERS_DOWN = BAD / "sql/000014_backfill_plan_tiers.down.sql"


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def result(builtin_ruleset):  # type: ignore[no-untyped-def]
    return check_paths([MIGRATIONS], ruleset=builtin_ruleset)


def test_reversible_findings_are_exactly_the_bad_ones(result) -> None:  # type: ignore[no-untyped-def]
    assert rule_hits(result, "PE-MG-001") == sorted([
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, "def downgrade")),
        (rel(ENCRYPT), line_of(ENCRYPT, "def downgrade")),
        (rel(DJANGO), line_of(DJANGO, "migrations.RunPython(")),
        (rel(DJANGO), line_of(DJANGO, "migrations.RunSQL(")),
        (rel(SESSIONS_UP), 1),  # the missing .down.sql: the up file as a whole
        (rel(TIERS_DOWN), 1),  # a .down.sql with nothing in it
    ])


def test_destructive_findings_are_exactly_the_forward_drops(result) -> None:  # type: ignore[no-untyped-def]
    assert rule_hits(result, "PE-MG-002") == sorted([
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, 'op.drop_column("users"')),
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, "batch_op.drop_column")),
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, "op.drop_table")),
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, "TRUNCATE TABLE")),
        (rel(DROP_COLUMNS), line_of(DROP_COLUMNS, "DROP COLUMN raw_ip")),
        (rel(DJANGO), line_of(DJANGO, "migrations.RemoveField(")),
        (rel(DJANGO), line_of(DJANGO, "migrations.DeleteModel(")),
        (rel(DJANGO), line_of(DJANGO, "DROP TABLE IF EXISTS")),
        (rel(SESSIONS_UP), line_of(SESSIONS_UP, "DROP COLUMN last_session_id")),
        (rel(SESSIONS_UP), line_of(SESSIONS_UP, "DROP TABLE sessions")),
        (rel(TIERS_UP), line_of(TIERS_UP, "TRUNCATE plan_tier_cache")),
    ])


def test_good_migrations_have_no_findings(result) -> None:  # type: ignore[no-untyped-def]
    good = [f for f in result.findings if f.location.path.startswith("fixtures/migration/good/")]
    assert good == []


def test_messages_name_the_thing_and_the_fix(result) -> None:  # type: ignore[no-untyped-def]
    messages = {f.message for f in result.active if f.location.path == rel(DROP_COLUMNS)}
    assert any("users.legacy_session_token" in m and "op.drop_column" in m for m in messages)
    assert any("api_keys.plaintext_secret" in m for m in messages)
    assert any("b7e3f0c2a915" in m and "write the inverse of upgrade()" in m for m in messages)
    django = {f.message for f in result.active if f.location.path == rel(DJANGO)}
    assert any("RunPython(copy_avatars_to_storage) has no reverse_code" in m for m in django)


def test_finding_points_at_the_column_of_the_statement(result) -> None:  # type: ignore[no-untyped-def]
    (finding,) = [f for f in result.active if f.rule_id == "PE-MG-002"
                  and f.location.path == rel(DROP_COLUMNS) and "raw_ip" in f.message]
    line = DROP_COLUMNS.read_text().splitlines()[finding.location.line - 1]
    assert finding.location.column == line.index("DROP COLUMN raw_ip") + 1


def _check(repo: Path, files: dict[str, str], builtin_ruleset):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    return check_paths([repo], repo, ruleset=builtin_ruleset)


ALEMBIC_HEAD = 'from alembic import op\n\nrevision = "a1b2c3"\ndown_revision = None\n\n'


def test_alembic_without_downgrade_points_at_upgrade(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    text = ALEMBIC_HEAD + 'def upgrade():\n    op.add_column("users", sa.Column("x"))\n'
    result = _check(tmp_repo, {"migrations/versions/a1b2c3_x.py": text}, builtin_ruleset)
    assert rule_hits(result, "PE-MG-001") == [("migrations/versions/a1b2c3_x.py", 6)]
    assert "has no downgrade()" in result.active[0].message


def test_empty_upgrade_needs_no_downgrade(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    text = ALEMBIC_HEAD + "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    result = _check(tmp_repo, {"migrations/versions/a1b2c3_x.py": text}, builtin_ruleset)
    assert result.active == []


def test_forward_sql_edge_cases(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    text = ALEMBIC_HEAD + (
        "def upgrade():\n"
        '    op.execute("INSERT INTO notes (body) VALUES (\'DROP TABLE users\')")\n'
        '    op.execute("ALTER TABLE users DROP CONSTRAINT users_email_key")\n'
        '    op.execute(f"DROP TABLE {legacy_table}")\n'
        "\n\ndef downgrade():\n"
        '    op.execute("DROP TABLE notes")\n'
    )
    result = _check(tmp_repo, {"migrations/versions/a1b2c3_x.py": text}, builtin_ruleset)
    # only the f-string drop: not the quoted words, not a constraint, not the downgrade
    assert rule_hits(result, "PE-MG-002") == [("migrations/versions/a1b2c3_x.py", 9)]


def test_django_reverse_none_and_noop(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    text = (
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        "    operations = [\n"
        "        migrations.RunPython(forwards, reverse_code=None),\n"
        "        migrations.RunPython(forwards, migrations.RunPython.noop),\n"
        "        migrations.RunSQL('UPDATE shop_item SET x = 1', migrations.RunSQL.noop),\n"
        "    ]\n"
    )
    result = _check(tmp_repo, {"shop/migrations/0002_x.py": text}, builtin_ruleset)
    assert rule_hits(result, "PE-MG-001") == [("shop/migrations/0002_x.py", 7)]


def test_sql_pairs(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    result = _check(tmp_repo, {
        "db/0001_init.up.sql": "CREATE TABLE a (id int);\n",
        "db/0001_init.down.sql": "DROP TABLE a;\n",  # expected in a down migration
        "db/0002_noop.up.sql": "-- nothing yet\n",
        "db/0002_noop.down.sql": "-- nothing to undo\n",  # an empty pair is fine
        "db/0003_seed.up.sql": "INSERT INTO a VALUES (1);\n",  # no partner
    }, builtin_ruleset)
    assert rule_hits(result, "PE-MG-001") == [("db/0003_seed.up.sql", 1)]
    assert rule_hits(result, "PE-MG-002") == []


def test_partner_checked_when_only_the_up_file_is_named(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    (tmp_repo / "db").mkdir()
    (tmp_repo / "db/0004_x.up.sql").write_text("CREATE TABLE b (id int);\n")
    (tmp_repo / "db/0004_x.down.sql").write_text("DROP TABLE b;\n")
    result = check_paths([tmp_repo / "db/0004_x.up.sql"], tmp_repo, ruleset=builtin_ruleset)
    assert rule_hits(result, "PE-MG-001") == []


def test_demo_shows_a_migration_finding(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    demo = FIXTURES / "demo"
    (revision,) = (demo / "migrations/versions").glob("*.py")
    result = check_paths([demo], demo, ruleset=builtin_ruleset)
    path = revision.relative_to(demo).as_posix()
    assert rule_hits(result, "PE-MG-001") == [(path, line_of(revision, "def downgrade"))]
    assert rule_hits(result, "PE-MG-002") == [(path, line_of(revision, "op.drop_table"))]
