from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pos.clock import FakeClock
from pos.store import backup
from pos.store.errors import BackupError, StoreError, StoreRolledBack
from pos.store.migrate import Migrations
from pos.store.terminal import DB_FILE, Terminal, open_terminal, provision
from tests.pos.store.store_files import snapshot


def _sales(terminal: Terminal, n: int, tag: str = "s") -> None:
    for i in range(n):
        with terminal.db.transaction() as conn:
            terminal.journal.append(conn, "sale.paid", {"tag": tag, "i": i})


def test_backup_round_trip_restores_every_entry(tmp_terminal: Terminal, tmp_path: Path) -> None:
    _sales(tmp_terminal, 5)
    out = tmp_path / "b.db"
    made = backup.create(tmp_terminal, out)
    assert made.last_seq == 6 and made.schema_version == Migrations.bundled().latest
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    restored = backup.restore(data_dir, out, FakeClock(), force=True)
    assert restored.kept_aside is not None and restored.kept_aside.exists()
    with open_terminal(data_dir, FakeClock()) as again:
        report = again.verify_journal()
        assert report.ok and report.last_seq == 6 and not again.losses
        with again.db.transaction() as conn:
            assert again.journal.append(conn, "sale.paid", {}).seq == 7


def test_restoring_an_older_backup_names_the_loss_and_holds_the_till(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    _sales(tmp_terminal, 5)
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    _sales(tmp_terminal, 3, "after")
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    with pytest.raises(BackupError, match="loses 3 entries") as refused:
        backup.restore(data_dir, out, FakeClock(), force=True)
    assert "--accept-loss 3" in refused.value.message
    with pytest.raises(BackupError, match="loses 3 entries"):
        backup.restore(data_dir, out, FakeClock(), force=True, accept_loss=2)
    backup.restore(data_dir, out, FakeClock(), force=True, accept_loss=3)
    with open_terminal(data_dir, FakeClock()) as again:
        assert [(loss.kind, loss.lost) for loss in again.losses] == [("rolled_back", 3)] * 2
        assert not again.verify_journal().ok
        with pytest.raises(StoreRolledBack), again.db.transaction() as conn:
            again.journal.append(conn, "sale.paid", {})
        again.acknowledge_loss("boss")
        with again.db.transaction() as conn:
            assert again.journal.append(conn, "sale.paid", {}).seq == 8
    with open_terminal(data_dir, FakeClock()) as later:
        assert not later.losses and later.verify_journal().ok


def test_backup_is_encrypted_with_the_terminal_key(tmp_terminal: Terminal, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    data = out.read_bytes()
    assert not data.startswith(b"SQLite format 3") and b"terminal.provisioned" not in data
    other = provision(tmp_path / "other", "demo", "S001", "T-OTHER", FakeClock())
    try:
        with pytest.raises(BackupError, match="another terminal"):
            backup.verify_file(other, out)
    finally:
        other.close()


def test_backup_taken_while_a_writer_commits_is_consistent(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            _sales(tmp_terminal, 1, "busy")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [backup.create(tmp_terminal, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for result in results:
        check = backup.verify_file(tmp_terminal, result.path)
        assert check.ok, check.summary()
        assert check.journal is not None and check.journal.last_seq == result.last_seq


def test_verify_reports_a_tampered_backup(tmp_terminal: Terminal, tmp_path: Path) -> None:
    _sales(tmp_terminal, 3)
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    from pos.store.db import connect
    from pos.store.keys import DB_KEY

    key = tmp_terminal.keystore.get(DB_KEY)
    assert key is not None
    conn = connect(out, key, "rw", 1000)
    conn.execute('UPDATE journal SET payload = \'{"i":9,"tag":"s"}\' WHERE seq = 3')
    conn.close()
    check = backup.verify_file(tmp_terminal, out)
    assert not check.ok
    assert check.journal is not None and check.journal.first_bad_seq == 3


def test_verify_never_modifies_the_backup(tmp_terminal: Terminal, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    before = snapshot(out)
    assert backup.verify_file(tmp_terminal, out).ok
    assert snapshot(out) == before


def test_restore_refuses_to_replace_the_database_without_force(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    tmp_terminal.close()
    live = tmp_terminal.data_dir / DB_FILE
    before = snapshot(live)
    with pytest.raises(BackupError) as err:
        backup.restore(tmp_terminal.data_dir, out, FakeClock())
    assert "--force" in err.value.render("en")
    assert snapshot(live) == before


def test_restore_refuses_while_the_terminal_has_the_database_open(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    out = tmp_path / "b.db"
    backup.create(tmp_terminal, out)
    with tmp_terminal.db.read(), pytest.raises(StoreError, match="in use"):
        backup.restore(tmp_terminal.data_dir, out, FakeClock(), force=True)
    assert tmp_terminal.verify_journal().ok


def test_restore_refuses_a_backup_that_fails_verification(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not a backup\n")
    tmp_terminal.close()
    with pytest.raises(StoreError, match="text file"):
        backup.restore(tmp_terminal.data_dir, bad, FakeClock(), force=True)
    with open_terminal(tmp_terminal.data_dir, FakeClock()) as again:
        assert again.verify_journal().ok


def test_create_refuses_to_overwrite_an_existing_file(
    tmp_terminal: Terminal, tmp_path: Path
) -> None:
    out = tmp_path / "b.db"
    out.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup.create(tmp_terminal, out)
    assert out.read_bytes() == b"keep me"


def test_backup_of_an_earlier_release_is_upgraded_on_restore(tmp_path: Path) -> None:
    old_release = Migrations.bundled().up_to(2)
    terminal = provision(
        tmp_path / "t", "demo", "S001", "T-OLD", FakeClock(), migrations=old_release
    )
    try:
        out = tmp_path / "old.db"
        assert backup.create(terminal, out).schema_version == 2
    finally:
        terminal.close()
    backup.restore(tmp_path / "t", out, FakeClock(), force=True)
    with open_terminal(tmp_path / "t", FakeClock()) as again:
        assert again.db.schema_version == Migrations.bundled().latest
