from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pos.clock import FakeClock
from pos.errors import InvalidInput
from pos.store import keys
from pos.store.anchor import ANCHOR_FILE
from pos.store.errors import (
    AlreadyProvisioned,
    MigrationError,
    MissingKey,
    NotProvisioned,
    WrongKey,
)
from pos.store.migrate import Migration, Migrations
from pos.store.terminal import (
    DB_FILE,
    STAGING_DB,
    TERMINAL_FILE,
    Terminal,
    open_terminal,
    provision,
)
from tests.pos.store.store_files import dir_snapshot


def test_provisioned_terminal_records_identity_and_first_journal_entry(
    tmp_terminal: Terminal,
) -> None:
    with tmp_terminal.db.read() as conn:
        row = conn.execute("SELECT * FROM terminal").fetchone()
        first = conn.execute("SELECT type, payload FROM journal WHERE seq = 1").fetchone()
    assert (row["terminal_id"], row["store_id"]) == ("T-TEST-1", "S001")
    assert row["public_key"] == tmp_terminal.public_key
    assert first["type"] == "terminal.provisioned"
    assert tmp_terminal.verify_journal().ok


def test_terminal_json_holds_no_secret(tmp_terminal: Terminal) -> None:
    text = (tmp_terminal.data_dir / TERMINAL_FILE).read_text()
    for name in keys.ALL_KEYS:
        secret = tmp_terminal.keystore.get(name)
        assert secret is not None
        assert secret.hex() not in text
    assert '"keystore": "demo"' in text


def test_demo_keystore_file_is_private_and_labelled(tmp_terminal: Terminal) -> None:
    path = tmp_terminal.data_dir / keys.DEMO_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "DEMO KEYSTORE" in path.read_text()
    assert tmp_terminal.demo_keystore


def test_reopened_terminal_appends_after_the_last_entry(tmp_terminal: Terminal) -> None:
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    with open_terminal(data_dir, FakeClock()) as again:
        with again.db.transaction() as conn:
            entry = again.journal.append(conn, "user.login", {"user": "u1"})
        assert entry.seq == 2 and again.verify_journal().ok


def test_provisioning_twice_refuses_and_changes_nothing(tmp_terminal: Terminal) -> None:
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    before = dir_snapshot(data_dir)
    with pytest.raises(AlreadyProvisioned) as err:
        provision(data_dir, "demo", "S002", None, FakeClock())
    assert "never overwrites" in err.value.render("en")
    assert dir_snapshot(data_dir) == before


def test_unprovisioned_directory_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(NotProvisioned) as err:
        open_terminal(tmp_path, FakeClock())
    assert "pos init" in err.value.render("en")


def test_database_without_terminal_json_is_explained(tmp_terminal: Terminal) -> None:
    tmp_terminal.close()
    (tmp_terminal.data_dir / TERMINAL_FILE).unlink()
    with pytest.raises(NotProvisioned, match=r"no terminal\.json"):
        open_terminal(tmp_terminal.data_dir, FakeClock())


def test_missing_key_is_reported_and_files_are_untouched(tmp_terminal: Terminal) -> None:
    tmp_terminal.close()
    tmp_terminal.keystore.delete(keys.DB_KEY)
    before = dir_snapshot(tmp_terminal.data_dir)
    with pytest.raises(MissingKey) as err:
        open_terminal(tmp_terminal.data_dir, FakeClock())
    assert "database-key" in err.value.message and "keyring" in err.value.render("en")
    assert dir_snapshot(tmp_terminal.data_dir) == before


def test_keys_of_another_terminal_are_refused_untouched(tmp_terminal: Terminal) -> None:
    tmp_terminal.close()
    store = tmp_terminal.keystore
    store.set(keys.SIGNING_KEY, keys.new_secret())
    before = dir_snapshot(tmp_terminal.data_dir)
    with pytest.raises(WrongKey, match="signing key"):
        open_terminal(tmp_terminal.data_dir, FakeClock())
    assert dir_snapshot(tmp_terminal.data_dir) == before


def test_wrong_database_key_is_refused_and_database_untouched(tmp_terminal: Terminal) -> None:
    tmp_terminal.close()
    tmp_terminal.keystore.set(keys.DB_KEY, keys.new_secret())
    before = dir_snapshot(tmp_terminal.data_dir)
    with pytest.raises(WrongKey):
        open_terminal(tmp_terminal.data_dir, FakeClock())
    assert dir_snapshot(tmp_terminal.data_dir) == before


def test_invalid_terminal_id_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        provision(tmp_path / "t", "demo", "S001", "bad id with spaces", FakeClock())
    assert not (tmp_path / "t").exists()


def test_failed_provisioning_leaves_no_keys_and_no_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "t"
    broken = Migrations([*Migrations.bundled().up_to(1).items, Migration(2, "x", "NONSENSE;")])
    with pytest.raises(MigrationError):
        provision(data_dir, "demo", "S001", None, FakeClock(), migrations=broken)
    assert not (data_dir / TERMINAL_FILE).exists()
    assert not (data_dir / keys.DEMO_FILE).exists()
    assert not data_dir.exists()  # the directory init created is gone too


_SLOW_INIT = """
import sys
from pathlib import Path
from pos.clock import SystemClock
from pos.store.migrate import Migration, Migrations
from pos.store.terminal import provision

slow = Migration(2, "slow", "CREATE TABLE filler AS WITH RECURSIVE c(x) AS "
                 "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
                 "SELECT x FROM c;")
provision(Path(sys.argv[1]), "demo", "S001", "T-KILLED", SystemClock(),
          migrations=Migrations([*Migrations.bundled().up_to(1).items, slow]))
"""


def test_init_killed_half_way_is_cleared_and_redone_by_the_next_init(tmp_path: Path) -> None:
    data_dir = tmp_path / "t"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_INIT, str(data_dir)])
    try:
        deadline = time.monotonic() + 60
        while not (data_dir / STAGING_DB).exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert '"provisioning": true' in (data_dir / TERMINAL_FILE).read_text()
    with pytest.raises(NotProvisioned, match="did not finish") as err:
        open_terminal(data_dir, FakeClock())
    assert "pos init" in err.value.render("en")
    with provision(data_dir, "demo", "S001", "T-AGAIN", FakeClock()) as terminal:
        assert terminal.verify_journal().ok
    assert sorted(p.name for p in data_dir.iterdir()) == [
        keys.DEMO_FILE,
        ANCHOR_FILE,
        DB_FILE,
        TERMINAL_FILE,
    ]
