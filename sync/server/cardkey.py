"""The chain's card-token key, held by the server and handed to terminals.

One HMAC key for card tokens on every terminal makes a card the same token at
every store, which chain-wide velocity and impossible travel need. The first
server process on a database makes it; it lives in `chain_secrets`, sealed
(AES-256-GCM) under the secret every server process is given, like the
signing key (sync.server.identity). A terminal gets it sealed to a one-time
key of its own (sync.cardkey) at enrolment and, if it has none yet, at its
next configuration pull. The key is never logged or returned in the clear.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from sync.server import models as m
from sync.server.identity import ServerKeyError

NAME = "card-token-key"


class CardKeySource(Protocol):
    def current(self) -> tuple[int, bytes]: ...


class DerivedCardKey:
    """The embedded demo server (one process, one fixed signing key): the
    card-token key derived from its signing key, the same at every start."""

    def __init__(self, server: Ed25519PrivateKey) -> None:
        kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pos-card-token-key-v1")
        self._key = kdf.derive(server.private_bytes_raw())

    def current(self) -> tuple[int, bytes]:
        return 1, self._key


def _aead(secret: bytes) -> AESGCM:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pos-chain-secret-v1")
    return AESGCM(kdf.derive(secret))


def _aad(generation: int) -> bytes:
    return f"{NAME}:{generation}".encode()


@dataclass
class DatabaseCardKey:
    """The key in the server database; see the module docstring."""

    engine: Engine
    secret: bytes
    _cached: tuple[int, bytes] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load_or_create(cls, engine: Engine, secret: bytes, clock: Clock) -> DatabaseCardKey:
        holder = cls(engine, secret)
        c = m.chain_secrets
        with engine.connect() as conn:
            exists = conn.execute(select(c.c.generation).where(c.c.name == NAME)).first()
        if exists is None:
            nonce = os.urandom(12)
            sealed = nonce + _aead(secret).encrypt(nonce, secrets.token_bytes(32), _aad(1))
            try:
                with engine.begin() as conn:
                    conn.execute(
                        insert(c).values(
                            name=NAME, generation=1, sealed=sealed, created_at=iso(clock.now())
                        )
                    )
            except IntegrityError:
                pass  # another process made it first: everyone uses theirs
        holder.current()  # fails at start if the secret does not open it
        return holder

    def current(self) -> tuple[int, bytes]:
        with self._lock:
            if self._cached is not None:
                return self._cached
        c = m.chain_secrets
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.c.generation, c.c.sealed)
                .where(c.c.name == NAME)
                .order_by(c.c.generation.desc())
                .limit(1)
            ).one()
        generation, sealed = int(row.generation), bytes(row.sealed)
        try:
            key = _aead(self.secret).decrypt(sealed[:12], sealed[12:], _aad(generation))
        except InvalidTag as exc:
            raise ServerKeyError(
                "the key secret does not open the chain's card-token key in the database: "
                "give this process the secret every server on this database uses"
            ) from exc
        with self._lock:
            self._cached = (generation, key)
        return generation, key
