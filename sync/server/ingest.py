"""Storing a terminal's journal batch exactly once.

The batch's hashes and signatures are checked before any lock is taken
(`verify.check_batch`). Then, in one transaction holding the terminal's row
lock: entries at or below the high-water mark must equal what is stored
(a duplicate delivery, answered with the same acknowledgement) or it is a
fork; entries above it must continue the chain from the stored last hash
with no gap. A refused batch stores nothing and raises an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from pos.events import Event
from sync.schemas import Ack, WireEntry
from sync.server import models as m
from sync.server.db import bulk_insert, is_postgres
from sync.server.settlement import LINE_FIELDS

_ENTRY_COLUMNS = (
    "terminal_id",
    "seq",
    "time",
    "type",
    "payload",
    "prev_hash",
    "hash",
    "signature",
    "received_at",
)


class Refused(Exception):
    """A batch the server will not store; `kind` becomes the alert's kind."""

    def __init__(self, kind: str, seq: int | None, detail: str, hwm: int) -> None:
        super().__init__(f"{kind} at {seq}: {detail}")
        self.kind = kind
        self.seq = seq
        self.detail = detail
        self.hwm = hwm


class ReplayedNonce(Exception):
    pass


def raise_alert(
    engine: Engine,
    clock: Clock,
    terminal_id: str,
    kind: str,
    seq: int | None,
    detail: str,
    nonce: tuple[str, int] | None = None,
) -> None:
    """Alerts outlive the refused transaction, so they are their own. The
    refused request's `nonce` is spent with the alert: the same request sent
    again is a replay (ReplayedNonce), not a second alert."""
    with engine.begin() as conn:
        if nonce is not None:
            try:
                remember_nonce(conn, terminal_id, nonce[0], nonce[1])
            except IntegrityError as exc:
                raise ReplayedNonce() from exc
        conn.execute(
            insert(m.alerts).values(
                terminal_id=terminal_id,
                kind=kind,
                seq=seq,
                detail=detail,
                created_at=iso(clock.now()),
            )
        )


def _lock_terminal(conn: Connection, terminal_id: str, postgres: bool) -> tuple[int, str, str]:
    q = select(m.terminals.c.hwm, m.terminals.c.last_hash, m.terminals.c.store_id).where(
        m.terminals.c.id == terminal_id
    )
    if postgres:
        q = q.with_for_update()
    row = conn.execute(q).one()
    return int(row.hwm), str(row.last_hash), str(row.store_id)


def remember_nonce(conn: Connection, terminal_id: str, nonce: str, created: int) -> None:
    """Fails (IntegrityError) when the nonce was used: the caller refuses a replay."""
    conn.execute(insert(m.nonces).values(terminal_id=terminal_id, nonce=nonce, created_at=created))


def _check_stored(conn: Connection, terminal_id: str, dups: Sequence[WireEntry], hwm: int) -> None:
    stored = dict(
        conn.execute(
            select(m.entries.c.seq, m.entries.c.hash).where(
                and_(
                    m.entries.c.terminal_id == terminal_id,
                    m.entries.c.seq >= dups[0].seq,
                    m.entries.c.seq <= dups[-1].seq,
                )
            )
        ).all()
    )
    for e in dups:
        if stored.get(e.seq) != e.hash:
            # A terminal whose database went backwards says so when a manager accepts it.
            went_back = any(x.type == Event.STORE_LOSS_ACKNOWLEDGED for x in dups)
            raise Refused(
                "rolled-back" if went_back else "fork",
                e.seq,
                f"entry {e.seq} differs from the one already stored for this terminal",
                hwm,
            )


def _check_chain(fresh: Sequence[WireEntry], hwm: int, last_hash: str) -> None:
    if fresh[0].seq != hwm + 1:
        raise Refused(
            "gap",
            fresh[0].seq,
            f"the server has entries up to {hwm}; {fresh[0].seq} does not follow",
            hwm,
        )
    prev = last_hash
    for e in fresh:
        if e.prev_hash != prev:
            raise Refused(
                "chain", e.seq, f"entry {e.seq} does not link to the entry before it", hwm
            )
        prev = e.hash


def store_batch(
    engine: Engine,
    clock: Clock,
    terminal_id: str,
    entries: Sequence[WireEntry],
    lines: Sequence[tuple[Any, ...]],
    nonce: tuple[str, int] | None,
) -> Ack:
    """Stores what is new in `entries` (already verified, ascending, contiguous)
    with their settlement `lines` (settlement.LINE_FIELDS order, from
    verify.check) and returns the acknowledgement. Raises Refused or
    ReplayedNonce."""
    postgres = is_postgres(engine)
    now = iso(clock.now())
    with engine.begin() as conn:
        if nonce is not None:
            try:
                remember_nonce(conn, terminal_id, nonce[0], nonce[1])
            except IntegrityError as exc:  # the primary key is the replay check
                raise ReplayedNonce() from exc
        hwm, last_hash, store_id = _lock_terminal(conn, terminal_id, postgres)
        dups = [e for e in entries if e.seq <= hwm]
        fresh = [e for e in entries if e.seq > hwm]
        if dups:
            _check_stored(conn, terminal_id, dups, hwm)
        if fresh:
            _check_chain(fresh, hwm, last_hash)
            bulk_insert(
                conn,
                m.entries,
                _ENTRY_COLUMNS,
                [
                    (
                        terminal_id,
                        e.seq,
                        e.time,
                        e.type,
                        e.payload,
                        e.prev_hash,
                        e.hash,
                        e.signature,
                        now,
                    )
                    for e in fresh
                ],
            )
            bulk_insert(
                conn,
                m.settlement_lines,
                ("terminal_id", "store_id", *LINE_FIELDS),
                [(terminal_id, store_id, *line) for line in lines if line[0] > hwm],
            )
            _attendant_alerts(conn, terminal_id, fresh, now)
            hwm, last_hash = fresh[-1].seq, fresh[-1].hash
        conn.execute(
            update(m.terminals)
            .where(m.terminals.c.id == terminal_id)
            .values(hwm=hwm, last_hash=last_hash, last_seen_at=now)
        )
    return Ack(hwm=hwm, last_hash=last_hash, stored=len(fresh), duplicates=len(dups))


def _attendant_alerts(
    conn: Connection, terminal_id: str, fresh: Sequence[WireEntry], now: str
) -> None:
    """A kiosk that called its attendant raises an alert for the store's staff,
    in the batch's own transaction (stored once, like the entry)."""
    for e in fresh:
        if e.type == Event.KIOSK_ATTENDANT_CALLED:
            conn.execute(
                insert(m.alerts).values(
                    terminal_id=terminal_id,
                    kind="attendant",
                    seq=e.seq,
                    detail=e.payload,
                    created_at=now,
                )
            )


def journal_state(engine: Engine, terminal_id: str) -> Ack:
    with engine.connect() as conn:
        row = conn.execute(
            select(m.terminals.c.hwm, m.terminals.c.last_hash).where(
                m.terminals.c.id == terminal_id
            )
        ).one()
    return Ack(hwm=int(row.hwm), last_hash=str(row.last_hash))
