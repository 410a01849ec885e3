from __future__ import annotations

from datetime import timedelta

import pytest

from pos.store import outbox
from pos.store.errors import StoreError
from pos.store.terminal import Terminal


def _sales(terminal: Terminal, n: int) -> list[str]:
    hashes = []
    for i in range(n):
        with terminal.db.transaction() as conn:
            hashes.append(terminal.journal.append(conn, "sale.paid", {"i": i}).hash)
        terminal.clock.advance(60)  # type: ignore[attr-defined]
    return hashes


def test_pending_entries_come_in_sequence_order(tmp_terminal: Terminal) -> None:
    _sales(tmp_terminal, 4)
    with tmp_terminal.db.read() as conn:
        assert [r.seq for r in outbox.pending(conn)] == [1, 2, 3, 4, 5]
        assert [r.seq for r in outbox.pending(conn, limit=2, after_seq=2)] == [3, 4]
        assert outbox.backlog(conn) == 5


def test_acknowledged_entries_leave_the_backlog(tmp_terminal: Terminal) -> None:
    hashes = _sales(tmp_terminal, 3)
    with tmp_terminal.db.transaction() as conn:
        assert outbox.mark_sent(conn, 3, hashes[1], tmp_terminal.clock.now()) == 3
    with tmp_terminal.db.read() as conn:
        assert [r.seq for r in outbox.pending(conn)] == [4]
        assert outbox.backlog(conn) == 1 and outbox.acked_seq(conn) == 3
    assert tmp_terminal.verify_journal().ok


def test_ack_with_a_different_hash_marks_nothing(tmp_terminal: Terminal) -> None:
    _sales(tmp_terminal, 2)
    with pytest.raises(StoreError, match="differs"), tmp_terminal.db.transaction() as conn:
        outbox.mark_sent(conn, 2, "f" * 64, tmp_terminal.clock.now())
    with tmp_terminal.db.read() as conn:
        assert outbox.backlog(conn) == 3


def test_ack_beyond_the_journal_is_refused(tmp_terminal: Terminal) -> None:
    with pytest.raises(StoreError, match="does not have"), tmp_terminal.db.transaction() as conn:
        outbox.mark_sent(conn, 9, "0" * 64, tmp_terminal.clock.now())


def test_an_older_ack_never_lowers_the_acknowledged_point(tmp_terminal: Terminal) -> None:
    hashes = _sales(tmp_terminal, 3)
    now = tmp_terminal.clock.now()
    with tmp_terminal.db.transaction() as conn:
        outbox.mark_sent(conn, 4, hashes[2], now)
        outbox.mark_sent(conn, 2, hashes[0], now)
        assert outbox.acked_seq(conn) == 4


def test_oldest_age_measures_the_longest_waiting_entry(tmp_terminal: Terminal) -> None:
    _sales(tmp_terminal, 2)  # entry 1 at 09:00, then 2 and 3 one minute apart
    with tmp_terminal.db.read() as conn:
        assert outbox.oldest_age(conn, tmp_terminal.clock.now()) == timedelta(minutes=2)


def test_nothing_waiting_has_no_age(tmp_terminal: Terminal) -> None:
    with tmp_terminal.db.read() as conn:
        first = outbox.pending(conn)[0]
    with tmp_terminal.db.transaction() as conn:
        outbox.mark_sent(conn, 1, first.hash, tmp_terminal.clock.now())
    with tmp_terminal.db.read() as conn:
        assert outbox.oldest_age(conn, tmp_terminal.clock.now()) is None


def test_failed_attempts_are_counted_on_pending_rows(tmp_terminal: Terminal) -> None:
    _sales(tmp_terminal, 1)
    with tmp_terminal.db.transaction() as conn:
        outbox.note_attempt(conn, 1, 2, "connection refused", tmp_terminal.clock.now())
        outbox.note_attempt(conn, 1, 2, "timeout", tmp_terminal.clock.now())
    with tmp_terminal.db.read() as conn:
        rows = conn.execute("SELECT attempts, last_error FROM outbox ORDER BY seq").fetchall()
    assert [(r["attempts"], r["last_error"]) for r in rows] == [(2, "timeout"), (2, "timeout")]


def test_truncated_journal_is_caught_by_the_server_acknowledgement(
    tmp_terminal: Terminal,
) -> None:
    hashes = _sales(tmp_terminal, 3)
    with tmp_terminal.db.transaction() as conn:
        outbox.mark_sent(conn, 4, hashes[2], tmp_terminal.clock.now())
    raw = tmp_terminal.db.dedicated_connection()
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("DELETE FROM outbox WHERE seq >= 3")
    raw.execute("DELETE FROM journal WHERE seq >= 3")
    raw.close()
    report = tmp_terminal.verify_journal()
    assert report.first_bad_seq == 3 and "acknowledged" in report.summary()
