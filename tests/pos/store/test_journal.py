from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos.clock import FakeClock
from pos.store.db import Connection
from pos.store.errors import JournalMisuse
from pos.store.journal import Journal, records
from pos.store.journal_format import make_record
from pos.store.terminal import Terminal, open_terminal


def _append_sales(terminal: Terminal, n: int) -> None:
    for i in range(n):
        with terminal.db.transaction() as conn:
            terminal.journal.append(conn, "sale.paid", {"order": f"O{i}", "total_minor": 100 + i})
            terminal.clock.advance(1)  # type: ignore[attr-defined]


def _raw(terminal: Terminal, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Edit the database behind the program's back, as an attacker with the key would."""
    conn = terminal.db.dedicated_connection()
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _resign_from(terminal: Terminal, start: int, key: Ed25519PrivateKey) -> None:
    """Rebuild entries start.. as a valid chain signed by `key`."""
    with terminal.db.read() as conn:
        rows = list(records(conn, start))
        prev = conn.execute("SELECT hash FROM journal WHERE seq = ?", (start - 1,)).fetchone()
    prev_hash = prev["hash"] if prev else "0" * 64
    edits = []
    for rec in rows:
        new = make_record(
            key, rec.terminal_id, rec.seq, rec.time, rec.type, rec.payload_data(), prev_hash
        )
        edits.append(
            (
                "UPDATE journal SET prev_hash = ?, hash = ?, signature = ? WHERE seq = ?",
                (new.prev_hash, new.hash, new.signature, rec.seq),
            )
        )
        prev_hash = new.hash
    _raw(terminal, *edits)


def test_appended_entries_form_a_verified_gap_free_chain(tmp_terminal: Terminal) -> None:
    _append_sales(tmp_terminal, 5)
    report = tmp_terminal.verify_journal()
    assert report.ok, report.summary()
    assert report.checked == 6 and report.last_seq == 6  # 1 is terminal.provisioned
    with tmp_terminal.db.read() as conn:
        seqs = [r.seq for r in records(conn)]
        chain = list(records(conn))
    assert seqs == list(range(1, 7))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))


def test_entry_carries_time_from_the_injected_clock(tmp_terminal: Terminal) -> None:
    tmp_terminal.clock.advance(3600)  # type: ignore[attr-defined]
    with tmp_terminal.db.transaction() as conn:
        entry = tmp_terminal.journal.append(conn, "day.closed", {"date": "2026-01-05"})
    assert entry.time == "2026-01-05T10:00:00.000000Z"


def test_append_writes_the_outbox_row_in_the_same_transaction(tmp_terminal: Terminal) -> None:
    with pytest.raises(RuntimeError), tmp_terminal.db.transaction() as conn:
        tmp_terminal.journal.append(conn, "sale.paid", {"order": "X"})
        raise RuntimeError("crash before commit")
    with tmp_terminal.db.read() as conn:
        assert conn.execute("SELECT max(seq) FROM journal").fetchone()[0] == 1
        assert conn.execute("SELECT max(seq) FROM outbox").fetchone()[0] == 1
    with tmp_terminal.db.transaction() as conn:
        entry = tmp_terminal.journal.append(conn, "sale.paid", {"order": "Y"})
    assert entry.seq == 2  # the rolled-back entry left no gap
    with tmp_terminal.db.read() as conn:
        assert conn.execute("SELECT seq FROM outbox WHERE seq = 2").fetchone() is not None


def test_append_outside_a_transaction_is_refused(tmp_terminal: Terminal) -> None:
    conn = tmp_terminal.db.connection()
    with pytest.raises(JournalMisuse):
        tmp_terminal.journal.append(conn, "sale.paid", {})


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [("Sale Paid", {}), ("sale.", {}), ("sale.paid\n", {}), ("sale.paid", {"total": 1.5})],
    ids=["spaces", "trailing-dot", "newline", "float"],
)
def test_malformed_events_are_refused(
    tmp_terminal: Terminal, event_type: str, payload: dict[str, object]
) -> None:
    with pytest.raises(JournalMisuse), tmp_terminal.db.transaction() as conn:
        tmp_terminal.journal.append(conn, event_type, payload)


Tamper = Callable[[Terminal], None]

TAMPERS: dict[str, tuple[Tamper, int, str]] = {
    "edited payload": (
        lambda t: _raw(
            t, ("UPDATE journal SET payload = ? WHERE seq = 3", ('{"order":"O1","total_minor":1}',))
        ),
        3,
        "edited",
    ),
    "edited type": (
        lambda t: _raw(t, ("UPDATE journal SET type = 'sale.voided' WHERE seq = 4", ())),
        4,
        "edited",
    ),
    "edited time": (
        lambda t: _raw(
            t, ("UPDATE journal SET time = '2026-01-01T00:00:00.000000Z' WHERE seq = 2", ())
        ),
        2,
        "edited",
    ),
    "payload no longer canonical": (
        lambda t: _raw(
            t,
            (
                "UPDATE journal SET payload = ? WHERE seq = 3",
                ('{"total_minor":101, "order":"O1"}',),
            ),
        ),
        3,
        "malformed",
    ),
    "deleted middle entry": (
        lambda t: _raw(
            t, ("DELETE FROM journal WHERE seq = 4", ()), ("DELETE FROM outbox WHERE seq = 4", ())
        ),
        4,
        "missing",
    ),
    "deleted last entry": (
        lambda t: _raw(t, ("DELETE FROM journal WHERE seq = 6", ())),
        6,
        "missing",
    ),
    "deleted and renumbered": (
        lambda t: _raw(
            t,
            ("DELETE FROM outbox", ()),
            ("DELETE FROM journal WHERE seq = 3", ()),
            ("UPDATE journal SET seq = seq - 1 WHERE seq > 3", ()),
        ),
        3,
        "edited",
    ),
    "inserted entry": (
        lambda t: _raw(
            t,
            ("DELETE FROM outbox", ()),
            ("UPDATE journal SET seq = seq + 100 WHERE seq >= 3", ()),
            ("UPDATE journal SET seq = seq - 99 WHERE seq >= 100", ()),
            (
                "INSERT INTO journal SELECT 3, terminal_id, time, type, payload, prev_hash, "
                "'ab' || substr(hash, 3), signature FROM journal WHERE seq = 2",
                (),
            ),
        ),
        3,
        "edited",
    ),
    "reordered entries": (
        lambda t: _raw(
            t,
            ("UPDATE journal SET seq = 1000 WHERE seq = 3", ()),
            ("UPDATE journal SET seq = 3 WHERE seq = 4", ()),
            ("UPDATE journal SET seq = 4 WHERE seq = 1000", ()),
        ),
        3,
        "edited",
    ),
    "re-signed with another key": (
        lambda t: _resign_from(t, 3, Ed25519PrivateKey.generate()),
        3,
        "signature",
    ),
    "other terminal's entry": (
        lambda t: _raw(t, ("UPDATE journal SET terminal_id = 'T-OTHER' WHERE seq = 5", ())),
        5,
        "terminal",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_tampering_is_detected_at_the_first_bad_sequence_number(
    tmp_terminal: Terminal, kind: str
) -> None:
    tamper, bad_seq, bad_kind = TAMPERS[kind]
    _append_sales(tmp_terminal, 5)
    assert tmp_terminal.verify_journal().ok
    tamper(tmp_terminal)
    report = tmp_terminal.verify_journal()
    assert not report.ok
    assert report.first_bad is not None, report.summary()
    assert (report.first_bad_seq, report.first_bad.kind) == (bad_seq, bad_kind), report.summary()
    assert f"seq {bad_seq}" in report.summary()


def test_rehashed_edit_without_the_key_fails_on_the_signature(tmp_terminal: Terminal) -> None:
    _append_sales(tmp_terminal, 3)
    stolen_chain_key = Ed25519PrivateKey.generate()
    _resign_from(tmp_terminal, 2, stolen_chain_key)
    report = tmp_terminal.verify_journal()
    assert report.first_bad is not None and report.first_bad.kind == "signature"
    assert report.first_bad_seq == 2


def test_swapped_public_key_in_the_database_is_reported(tmp_terminal: Terminal) -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    _raw(tmp_terminal, ("UPDATE terminal SET public_key = ?", (other,)))
    report = tmp_terminal.verify_journal()
    assert not report.ok
    assert any("public key" in p for p in report.problems)


def test_extra_checks_report_other_tables_disagreeing(tmp_terminal: Terminal) -> None:
    def orders_match(conn: Connection) -> list[str]:
        n = conn.execute("SELECT count(*) FROM journal WHERE type = 'sale.paid'").fetchone()[0]
        return [] if n == 0 else [f"{n} paid sales in the journal but no orders"]

    assert tmp_terminal.verify_journal([orders_match]).ok
    _append_sales(tmp_terminal, 1)
    report = tmp_terminal.verify_journal([orders_match])
    assert not report.ok and report.first_bad is None
    assert report.problems == ["1 paid sales in the journal but no orders"]


def test_concurrent_writers_on_two_threads_never_break_the_chain(tmp_terminal: Terminal) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(40):
                with tmp_terminal.db.transaction() as conn:
                    tmp_terminal.journal.append(conn, "sale.paid", {"by": name, "i": i})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = tmp_terminal.verify_journal()
    assert report.ok, report.summary()
    assert report.last_seq == 81


def test_journal_object_never_shows_the_signing_key(tmp_terminal: Terminal) -> None:
    key = Ed25519PrivateKey.generate()
    journal = Journal("T-1", key, tmp_terminal.clock)
    raw = key.private_bytes_raw().hex()
    assert raw not in repr(journal) and raw not in repr(tmp_terminal)


_WRITER = """
import sys
from pathlib import Path
from pos.clock import SystemClock
from pos.store.terminal import open_terminal

with open_terminal(Path(sys.argv[1]), SystemClock()) as terminal:
    for i in range(int(sys.argv[2])):
        with terminal.db.transaction() as conn:
            terminal.journal.append(conn, "sale.paid", {"by": sys.argv[3], "i": i})
"""


def test_writers_in_two_processes_never_break_the_chain(tmp_terminal: Terminal) -> None:
    tmp_terminal.close()
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_terminal.data_dir), "30", name])
        for name in ("p1", "p2")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with open_terminal(tmp_terminal.data_dir, FakeClock()) as again:
        report = again.verify_journal()
    assert report.ok, report.summary()
    assert report.last_seq == 61
