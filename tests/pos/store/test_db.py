from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from pos.store.db import Database
from pos.store.errors import (
    DatabaseTooNew,
    NotADatabase,
    StoreBusy,
    StoreError,
    StoreNotFound,
    WrongKey,
)
from pos.store.migrate import Migration, Migrations
from tests.pos.store.store_files import snapshot

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SMALL = Migrations([Migration(1, "base", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    with Database.create(path, KEY, migrations=SMALL) as db, db.transaction() as conn:
        conn.execute("INSERT INTO t (v) VALUES ('a')")
    return path


def test_database_file_is_encrypted_and_has_no_plain_header(db_path: Path) -> None:
    data = db_path.read_bytes()
    assert not data.startswith(b"SQLite format 3")
    assert b"CREATE TABLE" not in data


def test_rows_are_read_by_column_name(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db, db.read() as conn:
        row = conn.execute("SELECT id, v FROM t").fetchone()
    assert row["v"] == "a" and row["id"] == 1


def test_connection_settings_are_durable_and_checked(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db, db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "4096"


def test_wrong_key_is_reported_and_files_are_untouched(db_path: Path) -> None:
    before = snapshot(db_path)
    with pytest.raises(WrongKey) as err:
        Database.open(db_path, OTHER_KEY, migrations=SMALL)
    assert "key does not open" in err.value.message and "restore it from a backup" in str(err.value)
    assert err.value.code == "store.db.wrong_key"  # said in the reader's language too
    assert snapshot(db_path) == before


def test_missing_file_is_reported_without_creating_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(StoreNotFound) as err:
        Database.open(path, KEY, migrations=SMALL)
    assert "pos init" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"order_id,total\n1,100\n", "text file"),
        (os.urandom(5000), "whole number"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_file_that_is_not_a_database_is_named_for_what_it_is(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(content)
    before = snapshot(path)
    with pytest.raises(NotADatabase) as err:
        Database.open(path, KEY, migrations=SMALL)
    assert words in err.value.message and "restore" in err.value.render("en").lower()
    assert snapshot(path) == before


def test_plain_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE x (a)")
    plain.commit()
    plain.close()
    before = snapshot(path)
    with pytest.raises(NotADatabase) as err:
        Database.open(path, KEY, migrations=SMALL)
    assert "unencrypted SQLite" in err.value.message
    assert snapshot(path) == before


def test_random_pages_cannot_be_told_from_a_wrong_key_and_say_so(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(os.urandom(4096 * 3))
    before = snapshot(path)
    with pytest.raises(WrongKey) as err:
        Database.open(path, KEY, migrations=SMALL)
    assert "not a database at all" in err.value.message
    assert snapshot(path) == before


def test_database_newer_than_program_is_refused_untouched(db_path: Path) -> None:
    newer = Migrations([*SMALL.items, Migration(2, "more", "CREATE TABLE u (x);")])
    Database.open(db_path, KEY, migrations=newer).close()
    before = snapshot(db_path)
    with pytest.raises(DatabaseTooNew) as err:
        Database.open(db_path, KEY, migrations=SMALL)
    assert "version 2" in err.value.message and "newer release" in err.value.render("en")
    assert snapshot(db_path) == before


def test_database_newer_with_leftover_wal_is_refused_without_checkpointing(
    db_path: Path,
) -> None:
    newer = Migrations([*SMALL.items, Migration(2, "more", "CREATE TABLE u (x);")])
    db = Database.open(db_path, KEY, migrations=newer)
    conn = db.connection()
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    with db.transaction() as c:
        c.execute("INSERT INTO u VALUES (1)")
    # Copy the files while the WAL holds the last commit: what a crash leaves.
    crashed = db_path.with_name("crashed.db")
    for suffix in ("", "-wal"):
        Path(f"{crashed}{suffix}").write_bytes(Path(f"{db_path}{suffix}").read_bytes())
    db.close()
    before = snapshot(crashed)
    assert f"{crashed.name}-wal" in before
    with pytest.raises(DatabaseTooNew):
        Database.open(crashed, KEY, migrations=SMALL)
    after = snapshot(crashed)
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == before


def test_write_lock_held_too_long_reports_busy(db_path: Path) -> None:
    holder = Database.open(db_path, KEY, migrations=SMALL)
    waiter = Database.open(db_path, KEY, migrations=SMALL, busy_timeout_ms=50)
    try:
        with holder.transaction() as conn:
            conn.execute("INSERT INTO t (v) VALUES ('held')")
            with pytest.raises(StoreBusy) as err, waiter.transaction():
                pass
        assert "locked" in err.value.message and "try again" in err.value.remedy
    finally:
        holder.close()
        waiter.close()


def test_failed_transaction_rolls_back_everything(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        with pytest.raises(ValueError), db.transaction() as conn:
            conn.execute("INSERT INTO t (v) VALUES ('lost')")
            raise ValueError("payment failed")
        with db.read() as conn:
            assert [r["v"] for r in conn.execute("SELECT v FROM t")] == ["a"]


def test_nested_transaction_failure_undoes_only_the_inner_block(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t (v) VALUES ('outer')")
            with pytest.raises(ValueError), db.transaction() as inner:
                inner.execute("INSERT INTO t (v) VALUES ('inner')")
                raise ValueError
        with db.read() as conn:
            assert [r["v"] for r in conn.execute("SELECT v FROM t ORDER BY id")] == ["a", "outer"]


def test_write_inside_a_read_is_refused(db_path: Path) -> None:
    with (
        Database.open(db_path, KEY, migrations=SMALL) as db,
        db.read(),
        pytest.raises(StoreError),
        db.transaction(),
    ):
        pass


def test_each_thread_gets_its_own_connection(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        seen: list[object] = []
        all_alive = threading.Barrier(4)

        def work() -> None:
            seen.append(db.connection())
            all_alive.wait()

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        seen.append(db.connection())
        all_alive.wait()
        assert len({id(c) for c in seen}) == 4
        for t in threads:
            t.join()


def test_reader_sees_a_stable_snapshot_while_a_writer_commits(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        with db.read() as conn:
            first = conn.execute("SELECT count(*) FROM t").fetchone()[0]
            writer = threading.Thread(target=_insert_one, args=(db,))
            writer.start()
            writer.join()
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == first
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == first + 1


def _insert_one(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO t (v) VALUES ('b')")


def test_closed_database_refuses_use(db_path: Path) -> None:
    db = Database.open(db_path, KEY, migrations=SMALL)
    db.close()
    with pytest.raises(StoreError), db.read():
        pass


def test_key_never_appears_in_repr(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        assert KEY.hex() not in repr(db)


def test_connection_of_a_finished_thread_is_closed(db_path: Path) -> None:
    with Database.open(db_path, KEY, migrations=SMALL) as db:
        db.connection()
        for _ in range(5):
            worker = threading.Thread(target=_insert_one, args=(db,))
            worker.start()
            worker.join()
        assert db.open_connections == 1
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 6
