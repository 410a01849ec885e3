"""Storing a terminal's journal batch exactly once.

The batch's hashes and signatures are checked by `verify.BatchVerifier`,
started before any lock is taken. In one transaction holding the terminal's
row lock: entries at or below the high-water mark must equal what is stored
(a duplicate delivery, answered with the same acknowledgement) or it is a
fork; entries above it must continue the chain from the stored last hash
with no gap. A large batch's chunks are stored as their verdicts arrive,
and the transaction commits only when every chunk passed: a refused batch
stores nothing and raises an alert. The acknowledgement follows the commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from pos.events import Event
from sync.schemas import Ack, WireEntry
from sync.server import models as m
from sync.server.db import bulk_insert, is_postgres, reader
from sync.server.settlement import LINE_FIELDS
from sync.server.verify import Checked, Row, Verification, as_rows
from sync.wire import Entry

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


def _check_stored(conn: Connection, terminal_id: str, dups: Sequence[Row], hwm: int) -> None:
    stored = dict(
        conn.execute(
            select(m.entries.c.seq, m.entries.c.hash).where(
                and_(
                    m.entries.c.terminal_id == terminal_id,
                    m.entries.c.seq >= dups[0][0],
                    m.entries.c.seq <= dups[-1][0],
                )
            )
        ).all()
    )
    for seq, _time, _type, _payload, _prev, entry_hash, _sig in dups:
        if stored.get(seq) != entry_hash:
            # A terminal whose database went backwards says so when a manager accepts it.
            went_back = any(x[2] == Event.STORE_LOSS_ACKNOWLEDGED for x in dups)
            raise Refused(
                "rolled-back" if went_back else "fork",
                seq,
                f"entry {seq} differs from the one already stored for this terminal",
                hwm,
            )


def _check_link(first_fresh: Row, hwm: int, last_hash: str) -> None:
    """The first new entry follows the stored head (the links inside the
    batch are the verification's)."""
    seq, prev = first_fresh[0], first_fresh[4]
    if seq != hwm + 1:
        raise Refused("gap", seq, f"the server has entries up to {hwm}; {seq} does not follow", hwm)
    if prev != last_hash:
        raise Refused("chain", seq, f"entry {seq} does not link to the entry before it", hwm)


class BadEntry(Exception):
    """The batch holds an entry that is not sound (verify.check_rows)."""

    def __init__(self, seq: int, detail: str) -> None:
        super().__init__(f"entry {seq}: {detail}")
        self.seq = seq
        self.detail = detail


def store_batch(
    engine: Engine,
    clock: Clock,
    terminal_id: str,
    entries: Sequence[WireEntry] | Sequence[Entry],
    lines: Sequence[tuple[Any, ...]],
    nonce: tuple[str, int] | None,
) -> Ack:
    """Stores what is new in `entries` (already verified, ascending, contiguous)
    with their settlement `lines` (settlement.LINE_FIELDS order, from
    verify.check) and returns the acknowledgement. Raises Refused or
    ReplayedNonce."""
    rows = as_rows(entries)
    done = Verification([rows], iter([Checked(None, list(lines))]))
    return store_verified(engine, clock, terminal_id, done, nonce)


# A batch the terminal sent while the one before it was still on its way
# (pipelined uploads) waits up to this long for that one to be stored.
FOLLOW_WAIT_S = 10.0
# Notified after every batch this process stores.
_stored = threading.Condition()
# One store at a time per terminal in this process: the next batch waits
# here, woken at once, rather than in the database's lock.
_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


class Early(Refused):
    """A pipelined batch whose predecessor was not stored in time (it failed,
    or is late): refused without an alert, to be sent again from the
    acknowledged high-water mark."""


class _NotYet(Exception):
    def __init__(self, hwm: int) -> None:
        super().__init__(hwm)
        self.hwm = hwm


def _turn(terminal_id: str) -> threading.Lock:
    with _turns_guard:
        return _turns.setdefault(terminal_id, threading.Lock())


def store_verified(
    engine: Engine,
    clock: Clock,
    terminal_id: str,
    verification: Verification,
    nonce: tuple[str, int] | None,
    follows: int | None = None,
) -> Ack:
    """Stores what is new in a batch (ascending, contiguous) chunk by chunk as
    `verification` passes each, all in one transaction that commits only
    when every chunk passed, and returns the acknowledgement. A batch that
    `follows` another (sent before it, ending at that sequence) and finds it
    not stored yet waits for it. Raises BadEntry (the first unsound entry;
    nothing stored), Refused (Early when the one it follows never came) or
    ReplayedNonce."""
    deadline = time.monotonic() + FOLLOW_WAIT_S
    while True:
        try:
            with _turn(terminal_id):
                ack = _store(engine, clock, terminal_id, verification, nonce, follows)
        except _NotYet as wait:
            if time.monotonic() >= deadline:
                first = verification.chunks[0][0][0]
                raise Early(
                    "gap",
                    first,
                    f"the server has entries up to {wait.hwm}; {first} does not follow",
                    wait.hwm,
                ) from None
            with _stored:
                _stored.wait(0.05)  # stored by another process: seen at the next try
            continue
        with _stored:
            _stored.notify_all()
        return ack


def _store(
    engine: Engine,
    clock: Clock,
    terminal_id: str,
    verification: Verification,
    nonce: tuple[str, int] | None,
    follows: int | None,
) -> Ack:
    postgres = is_postgres(engine)
    now = iso(clock.now())
    chunks = verification.chunks
    first, last = chunks[0][0], chunks[-1][-1]
    with engine.begin() as conn:
        if nonce is not None:
            try:
                remember_nonce(conn, terminal_id, nonce[0], nonce[1])
            except IntegrityError as exc:  # the primary key is the replay check
                raise ReplayedNonce() from exc
        hwm, last_hash, store_id = _lock_terminal(conn, terminal_id, postgres)
        if follows is not None and hwm < follows and first[0] > hwm + 1:
            raise _NotYet(hwm)  # the transaction rolls back, the nonce unspent
        try:
            if first[0] <= hwm:
                dups = [r for c in chunks for r in c if r[0] <= hwm]
                _check_stored(conn, terminal_id, dups, hwm)
            if last[0] > hwm:
                fresh = (
                    first if first[0] > hwm else next(r for c in chunks for r in c if r[0] > hwm)
                )
                _check_link(fresh, hwm, last_hash)
        except Refused:
            # An unsound entry is reported first, as if checked before the lock.
            bad = verification.first_bad()
            if bad is not None:
                raise BadEntry(*bad) from None
            raise
        stored = 0
        for chunk, part in verification.parts():
            if part.bad is not None:
                raise BadEntry(*part.bad)  # the transaction rolls back
            new = [(terminal_id, *r, now) for r in chunk if r[0] > hwm]
            bulk_insert(conn, m.entries, _ENTRY_COLUMNS, new)
            bulk_insert(
                conn,
                m.settlement_lines,
                ("terminal_id", "store_id", *LINE_FIELDS),
                [(terminal_id, store_id, *line) for line in part.lines if line[0] > hwm],
            )
            _attendant_alerts(conn, terminal_id, [r for r in chunk if r[0] > hwm], now)
            stored += len(new)
        if last[0] > hwm:
            hwm, last_hash = last[0], last[5]
        conn.execute(
            update(m.terminals)
            .where(m.terminals.c.id == terminal_id)
            .values(hwm=hwm, last_hash=last_hash, last_seen_at=now)
        )
    return Ack(
        hwm=hwm, last_hash=last_hash, stored=stored, duplicates=last[0] - first[0] + 1 - stored
    )


def _attendant_alerts(
    conn: Connection, terminal_id: str, fresh: Sequence[Sequence[Any]], now: str
) -> None:
    """A kiosk that called its attendant raises an alert for the store's staff,
    in the batch's own transaction (stored once, like the entry). `fresh`:
    rows in wire order (seq, time, type, payload, ...)."""
    for seq, _time, kind, payload, *_ in fresh:
        if kind == Event.KIOSK_ATTENDANT_CALLED:
            conn.execute(
                insert(m.alerts).values(
                    terminal_id=terminal_id,
                    kind="attendant",
                    seq=seq,
                    detail=payload,
                    created_at=now,
                )
            )


def journal_state(engine: Engine, terminal_id: str) -> Ack:
    with reader(engine).connect() as conn:
        row = conn.execute(
            select(m.terminals.c.hwm, m.terminals.c.last_hash).where(
                m.terminals.c.id == terminal_id
            )
        ).one()
    return Ack(hwm=int(row.hwm), last_hash=str(row.last_hash))
