"""The outbox: journal entries waiting to be pushed to the central server.

Rows are written by `Journal.append` in the sale's own transaction, read in
sequence order by the sync client, and marked sent only after the server
acknowledged them (an entry the server may not have stored stays pending)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pos.clock import iso, parse_iso
from pos.messages import msg
from pos.store.db import Connection
from pos.store.errors import StoreError
from pos.store.journal import COLUMNS, record_from_row
from pos.store.journal_format import JournalRecord

_PENDING = f"""
SELECT {COLUMNS}
FROM outbox JOIN journal USING (seq)
WHERE outbox.sent_at IS NULL AND seq > ?
ORDER BY seq
LIMIT ?
"""


def pending(conn: Connection, limit: int = 100, after_seq: int = 0) -> list[JournalRecord]:
    """The oldest unsent entries, in sequence order."""
    return [record_from_row(r) for r in conn.execute(_PENDING, (after_seq, limit))]


def mark_sent(conn: Connection, up_to_seq: int, acked_hash: str, at: datetime) -> int:
    """Record the server's acknowledgement of every entry up to `up_to_seq`.

    `acked_hash` is the hash the server says it holds for that entry; it must
    match ours, or the server and terminal disagree and nothing is marked.
    Returns how many rows became sent.
    """
    row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (up_to_seq,)).fetchone()
    if row is None:
        raise StoreError(msg("store.outbox.unknown_entry", seq=up_to_seq))
    if row["hash"] != acked_hash:
        raise StoreError(msg("store.outbox.hash_differs", seq=up_to_seq))
    stamp = iso(at)
    cur = conn.execute(
        "UPDATE outbox SET sent_at = ? WHERE seq <= ? AND sent_at IS NULL", (stamp, up_to_seq)
    )
    conn.execute(
        "INSERT INTO outbox_ack (id, acked_seq, acked_hash, acked_at) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET acked_seq = excluded.acked_seq, "
        "acked_hash = excluded.acked_hash, acked_at = excluded.acked_at "
        "WHERE excluded.acked_seq > outbox_ack.acked_seq",
        (up_to_seq, acked_hash, stamp),
    )
    return int(cur.rowcount)


def note_attempt(conn: Connection, from_seq: int, to_seq: int, error: str, at: datetime) -> None:
    """Count a push attempt that was not acknowledged (for backoff and the status screen)."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? "
        "WHERE seq BETWEEN ? AND ? AND sent_at IS NULL",
        (iso(at), error[:500], from_seq, to_seq),
    )


def backlog(conn: Connection) -> int:
    """How many entries wait to be sent."""
    return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


def oldest_age(conn: Connection, now: datetime) -> timedelta | None:
    """How long the oldest unsent entry has waited; None when nothing waits."""
    row = conn.execute(
        "SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return now - parse_iso(row["created_at"])


def acked_seq(conn: Connection) -> int:
    """The highest sequence number the server acknowledged (0 if none)."""
    row = conn.execute("SELECT acked_seq FROM outbox_ack WHERE id = 1").fetchone()
    return 0 if row is None else int(row["acked_seq"])


def outbox_agrees_with_journal(conn: Connection) -> list[str]:
    """Every journal entry has its outbox row, and none is marked sent beyond
    what the server acknowledged: a deleted or falsely 'sent' row would keep a
    sale from ever reaching the server."""
    problems: list[str] = []
    missing = conn.execute(
        "SELECT min(seq), count(*) FROM journal WHERE seq NOT IN (SELECT seq FROM outbox)"
    ).fetchone()
    if missing[1]:
        problems.append(
            f"{missing[1]} journal entries have no outbox row (first: {missing[0]}): they would "
            "never be sent to the server"
        )
    acked = acked_seq(conn)
    early = conn.execute(
        "SELECT min(seq) FROM outbox WHERE sent_at IS NOT NULL AND seq > ?", (acked,)
    ).fetchone()[0]
    if early is not None:
        problems.append(
            f"outbox entry {early} is marked sent but the server acknowledged only up to {acked}"
        )
    unsent = conn.execute(
        "SELECT min(seq) FROM outbox WHERE sent_at IS NULL AND seq <= ?", (acked,)
    ).fetchone()[0]
    if unsent is not None:
        problems.append(f"outbox entry {unsent} was acknowledged but is not marked sent")
    return problems
