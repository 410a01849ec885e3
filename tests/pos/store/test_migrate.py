from __future__ import annotations

from pathlib import Path

import pytest

from pos.store.db import Database
from pos.store.errors import MigrationError
from pos.store.migrate import Migration, Migrations

KEY = bytes(32)
BUNDLED = Migrations.bundled()


def _schema(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return [
            (r["name"], r["sql"])
            for r in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]


def test_bundled_migrations_start_with_the_terminal_schema() -> None:
    assert BUNDLED.items[0].version == 1 and BUNDLED.items[0].name == "terminal"
    assert BUNDLED.latest >= 2


@pytest.mark.parametrize("previous", [m.version for m in BUNDLED.items[:-1]])
def test_database_made_by_an_earlier_release_upgrades_to_the_current_schema(
    tmp_path: Path, previous: int
) -> None:
    old = tmp_path / "old.db"
    Database.create(old, KEY, migrations=BUNDLED.up_to(previous)).close()
    with Database.open(old, KEY) as upgraded:
        assert upgraded.schema_version == BUNDLED.latest
        upgraded_schema = _schema(upgraded)
    with Database.create(tmp_path / "fresh.db", KEY) as fresh:
        assert upgraded_schema == _schema(fresh)


def test_terminal_tables_hold_data_across_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with Database.create(path, KEY, migrations=BUNDLED.up_to(1)) as db, db.transaction() as c:
        c.execute("INSERT INTO settings (key, value, updated_at) VALUES ('lang', '\"zh\"', 'now')")
    with Database.open(path, KEY) as db, db.read() as conn:
        assert conn.execute("SELECT value FROM settings").fetchone()[0] == '"zh"'


def test_failing_migration_leaves_the_database_at_the_previous_version(tmp_path: Path) -> None:
    base = Migration(1, "base", "CREATE TABLE a (x);")
    broken = Migration(2, "broken", "CREATE TABLE b (x);\nINSERT INTO missing VALUES (1);")
    path = tmp_path / "m.db"
    Database.create(path, KEY, migrations=Migrations([base])).close()
    with pytest.raises(MigrationError) as err:
        Database.open(path, KEY, migrations=Migrations([base, broken]))
    assert "0002_broken" in err.value.message
    with Database.open(path, KEY, migrations=Migrations([base])) as db:
        assert db.schema_version == 1
        with db.read() as conn:
            assert (
                conn.execute("SELECT name FROM sqlite_master WHERE name = 'b'").fetchone() is None
            )


def test_duplicate_numbers_are_refused() -> None:
    with pytest.raises(MigrationError, match="two migrations are numbered 0003"):
        Migrations([Migration(3, "a", ""), Migration(3, "b", "")])


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "7_loyalty.sql").write_text("CREATE TABLE x (a);")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        Migrations.from_directory(tmp_path)


def test_files_are_discovered_in_number_order_not_name_order(tmp_path: Path) -> None:
    (tmp_path / "0010_late.sql").write_text("CREATE TABLE late (a);")
    (tmp_path / "0002_early.sql").write_text("CREATE TABLE early (a);")
    (tmp_path / "notes.txt").write_text("ignored")
    found = Migrations.from_directory(tmp_path)
    assert [m.version for m in found.items] == [2, 10]


def test_triggers_and_quoted_semicolons_stay_single_statements() -> None:
    sql = """
    CREATE TABLE t (a TEXT); -- a comment; with a semicolon
    INSERT INTO t VALUES ('x;y');
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
        UPDATE t SET a = a || ';' WHERE rowid = new.rowid;
    END;
    """
    statements = list(Migration(1, "t", sql).statements())
    assert len(statements) == 3
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")


def test_unterminated_statement_is_refused() -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        list(Migration(1, "t", "CREATE TABLE t (a);\nCREATE TABLE u (b)").statements())


def _tender(conn, tender_id: str, intent_id: str, created_at: str) -> None:
    conn.execute(
        "INSERT INTO tenders (id, order_id, kind, channel, amount_minor, currency, intent_id,"
        " business_date, created_at) VALUES (?, 'O-1', 'payment', 'alipay', 500, 'CNY', ?,"
        " '2026-03-02', ?)",
        (tender_id, intent_id, created_at),
    )


def test_a_store_holding_duplicate_tenders_still_opens_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "doubled.db"
    with Database.create(path, KEY, migrations=BUNDLED.up_to(7)) as db, db.transaction() as c:
        c.execute(
            "INSERT INTO orders (id, state, currency, subtotal_minor, discount_minor, tax_minor,"
            " total_minor, cashier_id, business_date, created_at, updated_at, doc) VALUES"
            " ('O-1', 'paid', 'CNY', 1000, 0, 0, 1000, 'c1', '2026-03-02', 't0', 't0', '{}')"
        )
        _tender(c, "O-1-T1", "PI-1", "2026-03-02T02:00:00Z")
        _tender(c, "O-1-T2", "PI-1", "2026-03-02T02:00:01Z")  # the same payment again
        _tender(c, "O-1-T3", "PI-2", "2026-03-02T02:00:02Z")
    with Database.open(path, KEY) as db, db.read() as conn:
        assert db.schema_version == BUNDLED.latest
        rows = conn.execute("SELECT id, intent_id FROM tenders ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [
            ("O-1-T1", "PI-1"),
            ("O-1-T2", None),
            ("O-1-T3", "PI-2"),
        ]
        dup = conn.execute("SELECT tender_id, intent_id, kept_id FROM tender_duplicates")
        assert [tuple(r) for r in dup] == [("O-1-T2", "PI-1", "O-1-T1")]
