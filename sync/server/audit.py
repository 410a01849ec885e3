"""The signature audit: every stored entry's own Ed25519 signature, checked
after the upload that stored it.

An upload checks only its batch head's signature (sync.server.verify); the
chain of hashes already binds every entry to it. The audit checks the rest,
in order per terminal from `terminals.audited_seq`, and raises an alert
naming (terminal, seq) for each signature that is not the terminal's.

Several server processes may audit at once: a span's alerts are written only
by the process whose compare-and-set moves `audited_seq` past it, so an entry
is reported once.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, and_, insert, select, update

from pos.clock import Clock, iso
from pos.store import journal_format as jf
from sync.server import models as m
from sync.server.verify import SodiumKey

ALERT_KIND = "entry-signature"
CHUNK = 5000

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    checked: int = 0
    bad: list[tuple[str, int]] = field(default_factory=list)


def _audit_span(
    engine: Engine, clock: Clock, terminal_id: str, key: str, done: int
) -> tuple[int, list[int], int] | None:
    """Checks the span after `done`: (entries checked, bad seqs, new audited
    seq), or None when there is nothing left or another process took it."""
    t, e = m.terminals, m.entries
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.seq, e.c.hash, e.c.signature)
            .where(and_(e.c.terminal_id == terminal_id, e.c.seq > done, e.c.seq <= done + CHUNK))
            .order_by(e.c.seq)
        ).all()
    if not rows:
        return None
    public = cast(Ed25519PublicKey, SodiumKey(key))
    bad = [int(r.seq) for r in rows if not jf.signature_valid(public, r.hash, r.signature)]
    now = iso(clock.now())
    with engine.begin() as conn:
        moved = conn.execute(
            update(t)
            .where(and_(t.c.id == terminal_id, t.c.audited_seq == done))
            .values(audited_seq=int(rows[-1].seq))
        )
        if moved.rowcount != 1:
            return None
        if bad:
            conn.execute(
                insert(m.alerts),
                [
                    {
                        "terminal_id": terminal_id,
                        "kind": ALERT_KIND,
                        "seq": seq,
                        "detail": f"entry {seq}: its signature is not this terminal's "
                        "(stored as uploaded; the chain to a signed batch head holds)",
                        "created_at": now,
                    }
                    for seq in bad
                ],
            )
    return len(rows), bad, int(rows[-1].seq)


def audit_once(engine: Engine, clock: Clock) -> AuditResult:
    """Checks every stored entry not yet audited."""
    t = m.terminals
    result = AuditResult()
    with engine.connect() as conn:
        pending = conn.execute(
            select(t.c.id, t.c.public_key, t.c.audited_seq).where(t.c.hwm > t.c.audited_seq)
        ).all()
    for terminal_id, key, done in pending:
        done = int(done)
        while True:
            span = _audit_span(engine, clock, terminal_id, key, done)
            if span is None:
                break
            checked, bad, done = span
            result.checked += checked
            result.bad.extend((terminal_id, seq) for seq in bad)
    return result


def audit_range(
    engine: Engine,
    terminal_id: str | None = None,
    first: int = 1,
    last: int | None = None,
) -> AuditResult:
    """Checks every stored entry's signature in [first, last] (every terminal,
    or one), whether or not an audit passed it before: what `pos-server
    audit` reports. It writes nothing: the alerts of entries the running
    audit passed are already raised (audit_once raises the rest)."""
    t, e = m.terminals, m.entries
    result = AuditResult()
    q = select(t.c.id, t.c.public_key, t.c.hwm).order_by(t.c.id)
    if terminal_id is not None:
        q = q.where(t.c.id == terminal_id)
    with engine.connect() as conn:
        terminals = conn.execute(q).all()
    for tid, key, hwm in terminals:
        public = cast(Ed25519PublicKey, SodiumKey(key))
        done = max(first, 1) - 1
        end = int(hwm) if last is None else min(last, int(hwm))
        while done < end:
            upper = min(done + CHUNK, end)
            with engine.connect() as conn:
                rows = conn.execute(
                    select(e.c.seq, e.c.hash, e.c.signature)
                    .where(and_(e.c.terminal_id == tid, e.c.seq > done, e.c.seq <= upper))
                    .order_by(e.c.seq)
                ).all()
            result.checked += len(rows)
            result.bad.extend(
                (tid, int(r.seq))
                for r in rows
                if not jf.signature_valid(public, r.hash, r.signature)
            )
            done = upper
    return result


class Auditor:
    """Runs the audit every `every` seconds in a background thread, at low
    CPU priority so that uploads come first."""

    def __init__(self, engine: Engine, clock: Clock, every: float) -> None:
        self._engine = engine
        self._clock = clock
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="signature-audit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        if sys.platform.startswith("linux"):
            try:  # a Linux thread is its own task: this lowers only the audit
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except OSError as exc:
                log.info("signature audit keeps normal priority: %s", exc)
        while not self._stop.wait(self._every):
            try:
                found = audit_once(self._engine, self._clock)
            except Exception:  # the database may be restarting: try again next round
                log.exception("signature audit failed; retrying in %s s", self._every)
                continue
            for terminal_id, seq in found.bad:
                log.error(
                    "signature audit: terminal %s entry %s is not signed by it", terminal_id, seq
                )
