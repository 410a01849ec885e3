"""Stores, one-time enrolment codes and terminals."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from pos.store.journal_format import GENESIS_HASH
from sync.server import models as m

CODE_LIFETIME = timedelta(hours=24)
# No 0/O/1/I/L: read off a screen and typed at a terminal.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class EnrolmentRefused(Exception):
    def __init__(self, reason: str, detail: str, remedy: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.remedy = remedy


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def ensure_store(engine: Engine, clock: Clock, store_id: str, name: str = "") -> None:
    with engine.begin() as conn:
        exists = conn.execute(select(m.stores.c.id).where(m.stores.c.id == store_id)).first()
        if exists is None:
            conn.execute(
                insert(m.stores).values(
                    id=store_id, name=name or store_id, created_at=iso(clock.now())
                )
            )


def create_code(engine: Engine, clock: Clock, store_id: str) -> str:
    """A fresh one-time code for `store_id`, shown once to the manager."""
    ensure_store(engine, clock, store_id)
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(
            insert(m.enrolment_codes).values(
                code_hash=_hash_code(raw),
                store_id=store_id,
                created_at=iso(now),
                expires_at=iso(now + CODE_LIFETIME),
            )
        )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@dataclass(frozen=True)
class Enrolled:
    terminal_id: str
    store_id: str
    hwm: int


def enrol(
    engine: Engine, clock: Clock, code: str, terminal_id: str, store_id: str, public_key: str
) -> Enrolled:
    """Spends `code` and registers the terminal's key. Enrolling the same
    terminal again with the same key (a lost response) answers as before."""
    now = iso(clock.now())
    with engine.begin() as conn:
        row = conn.execute(
            select(m.enrolment_codes).where(m.enrolment_codes.c.code_hash == _hash_code(code))
        ).first()
        if row is None:
            raise EnrolmentRefused(
                "bad-code", "this enrolment code is not known", "Ask the manager for a new code."
            )
        if row.used_at is not None:
            if row.used_by == terminal_id:
                existing = conn.execute(
                    select(m.terminals).where(m.terminals.c.id == terminal_id)
                ).one()
                if existing.public_key == public_key and existing.revoked_at is None:
                    return Enrolled(terminal_id, existing.store_id, int(existing.hwm))
            raise EnrolmentRefused(
                "code-used",
                "this enrolment code was already used",
                "Ask the manager for a new code.",
            )
        if row.expires_at < now:
            raise EnrolmentRefused(
                "code-expired", "this enrolment code has expired", "Ask the manager for a new code."
            )
        if row.store_id != store_id:
            raise EnrolmentRefused(
                "wrong-store",
                f"this code is for store {row.store_id}, the terminal belongs to store {store_id}",
                "Use a code created for the terminal's store.",
            )
        revoked = conn.execute(select(m.terminals).where(m.terminals.c.id == terminal_id)).first()
        if revoked is not None and revoked.revoked_at is not None and revoked.store_id == store_id:
            # Enrolled again after a revocation, with a code head office gave
            # for it: its journal goes on from where the server's copy stops.
            conn.execute(
                update(m.terminals)
                .where(m.terminals.c.id == terminal_id)
                .values(public_key=public_key, revoked_at=None, enrolled_at=now)
            )
            conn.execute(
                update(m.enrolment_codes)
                .where(m.enrolment_codes.c.code_hash == row.code_hash)
                .values(used_at=now, used_by=terminal_id)
            )
            return Enrolled(terminal_id, store_id, int(revoked.hwm))
        try:
            conn.execute(
                insert(m.terminals).values(
                    id=terminal_id,
                    store_id=store_id,
                    public_key=public_key,
                    enrolled_at=now,
                    hwm=0,
                    last_hash=GENESIS_HASH,
                )
            )
        except IntegrityError as exc:
            raise EnrolmentRefused(
                "terminal-exists",
                f"a terminal {terminal_id} is already enrolled",
                "Revoke the old terminal on the server first, or initialise this one afresh.",
            ) from exc
        conn.execute(
            update(m.enrolment_codes)
            .where(m.enrolment_codes.c.code_hash == row.code_hash)
            .values(used_at=now, used_by=terminal_id)
        )
    return Enrolled(terminal_id, store_id, 0)


def revoke(engine: Engine, clock: Clock, terminal_id: str) -> bool:
    with engine.begin() as conn:
        res = conn.execute(
            update(m.terminals)
            .where(m.terminals.c.id == terminal_id, m.terminals.c.revoked_at.is_(None))
            .values(revoked_at=iso(clock.now()))
        )
    return bool(res.rowcount)
