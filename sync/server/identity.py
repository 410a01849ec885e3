"""The server's one identity: the Ed25519 key that signs configuration and
that every terminal pins at enrolment, shared by every server process.

The private key lives in the database (table `server_keys`), encrypted with
AES-256-GCM under a secret each server process is given (the environment's
`POS_SERVER_KEY_SECRET`, or a key file), so any process on the database signs
with the same key and a copy of the database alone does not hold it.

Rotation adds a generation whose public key is signed by the one before it
(its endorsement) and re-signs every configuration version with the new key.
A terminal that finds a version signed by a key it does not know asks for the
chain and follows it from its pinned key, one endorsement at a time.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from sync.protocol import endorsement_fields, public_key_hex, signed_document
from sync.schemas import KeyLink
from sync.server import configs
from sync.server import models as m

SECRET_ENV = "POS_SERVER_KEY_SECRET"
SECRET_FILE_ENV = "POS_SERVER_KEY_SECRET_FILE"
MIN_SECRET = 32
# How long a process trusts its cached key before asking the database again
# (a rotation made by another process reaches it within this).
CACHE_SECONDS = 5.0


class ServerKeyError(Exception):
    pass


class KeySource(Protocol):
    def current(self) -> Ed25519PrivateKey: ...

    def chain(self) -> list[KeyLink]: ...


class FixedKey:
    """One key held by this process alone (the embedded demo server)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def current(self) -> Ed25519PrivateKey:
        return self._key

    def chain(self) -> list[KeyLink]:
        return [
            KeyLink(
                generation=1, server_key=public_key_hex(self._key.public_key()), endorsement=None
            )
        ]


def secret_from(environ: dict[str, str] | os._Environ[str], data_dir: Path) -> bytes:
    """The key-encryption secret: POS_SERVER_KEY_SECRET, else the file named by
    POS_SERVER_KEY_SECRET_FILE, else `key-secret` in the data dir (made on
    first use). Every process serving one database needs the same secret."""
    text = environ.get(SECRET_ENV)
    if text:
        return _checked(text.strip().encode(), SECRET_ENV)
    named = environ.get(SECRET_FILE_ENV)
    path = Path(named) if named else data_dir / "key-secret"
    if not path.exists():
        if named:
            raise ServerKeyError(f"the key secret file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return _checked(path.read_bytes().strip(), str(path))


def _checked(secret: bytes, where: str) -> bytes:
    if len(secret) < MIN_SECRET:
        raise ServerKeyError(
            f"the key secret in {where} is shorter than {MIN_SECRET} characters; "
            "make one with `openssl rand -hex 32`"
        )
    return secret


def _aead(secret: bytes) -> AESGCM:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pos-server-key-v1")
    return AESGCM(kdf.derive(secret))


def _seal(secret: bytes, generation: int, key: Ed25519PrivateKey, public: str) -> bytes:
    nonce = os.urandom(12)
    raw = key.private_bytes_raw()
    return nonce + _aead(secret).encrypt(nonce, raw, f"{generation}:{public}".encode())


def _open(secret: bytes, generation: int, sealed: bytes, public: str) -> Ed25519PrivateKey:
    try:
        raw = _aead(secret).decrypt(sealed[:12], sealed[12:], f"{generation}:{public}".encode())
    except InvalidTag as exc:
        raise ServerKeyError(
            "the key secret does not open the server's signing key in the database: give "
            f"this process the secret every server on this database uses ({SECRET_ENV} "
            f"or {SECRET_FILE_ENV})"
        ) from exc
    key = Ed25519PrivateKey.from_private_bytes(raw)
    if public_key_hex(key.public_key()) != public:
        raise ServerKeyError(f"server key generation {generation} does not match its public key")
    return key


def _legacy(path: Path | None) -> Ed25519PrivateKey | None:
    """A signing key from before the key lived in the database: kept, so the
    terminals enrolled with it keep trusting the server."""
    if path is None or not path.exists():
        return None
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ServerKeyError(
            f"{path} is not a PEM private key; restore it or move it away"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ServerKeyError(f"{path} holds a key that is not Ed25519")
    return key


@dataclass
class DatabaseIdentity:
    """The identity held in the database; see the module docstring."""

    engine: Engine
    secret: bytes
    clock: Clock
    _cached: tuple[float, Ed25519PrivateKey] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load_or_create(
        cls, engine: Engine, secret: bytes, clock: Clock, legacy_pem: Path | None = None
    ) -> DatabaseIdentity:
        """The database's identity; the first process to start on an empty
        database makes it (from `legacy_pem` when there is one)."""
        identity = cls(engine, secret, clock)
        with engine.connect() as conn:
            exists = conn.execute(select(func.count()).select_from(m.server_keys)).scalar_one()
        if not exists:
            key = _legacy(legacy_pem) or Ed25519PrivateKey.generate()
            public = public_key_hex(key.public_key())
            try:
                with engine.begin() as conn:
                    conn.execute(
                        insert(m.server_keys).values(
                            generation=1,
                            public_key=public,
                            private_key=_seal(secret, 1, key, public),
                            endorsement=None,
                            created_at=iso(clock.now()),
                        )
                    )
            except IntegrityError:
                pass  # another process made it first: use theirs
        identity.current()  # fails now, at start, if the secret is wrong
        return identity

    def current(self) -> Ed25519PrivateKey:
        mono = time.monotonic()
        with self._lock:
            if self._cached is not None and mono - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
        k = m.server_keys
        with self.engine.connect() as conn:
            row = conn.execute(select(k).order_by(k.c.generation.desc()).limit(1)).one()
        key = _open(self.secret, int(row.generation), bytes(row.private_key), row.public_key)
        with self._lock:
            self._cached = (mono, key)
        return key

    def chain(self) -> list[KeyLink]:
        k = m.server_keys
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(k.c.generation, k.c.public_key, k.c.endorsement).order_by(k.c.generation)
            ).all()
        return [
            KeyLink(
                generation=int(r.generation), server_key=r.public_key, endorsement=r.endorsement
            )
            for r in rows
        ]

    def rotate(self) -> KeyLink:
        """A new generation, endorsed by the current key; every configuration
        version is re-signed with it in the same transaction."""
        new = Ed25519PrivateKey.generate()
        public = public_key_hex(new.public_key())
        k = m.server_keys
        with self.engine.begin() as conn:
            row = conn.execute(select(k).order_by(k.c.generation.desc()).limit(1)).one()
            old = _open(self.secret, int(row.generation), bytes(row.private_key), row.public_key)
            generation = int(row.generation) + 1
            endorsement = signed_document(endorsement_fields(generation, public), old)
            # The generation is the primary key: two rotations at once, one fails.
            conn.execute(
                insert(k).values(
                    generation=generation,
                    public_key=public,
                    private_key=_seal(self.secret, generation, new, public),
                    endorsement=endorsement,
                    created_at=iso(self.clock.now()),
                )
            )
            v = m.config_versions
            for r in conn.execute(
                select(v.c.version, v.c.kind, v.c.store_id, v.c.sha256, v.c.created_at)
            ).all():
                fields = configs.header(r.version, r.kind, r.store_id, r.sha256, r.created_at)
                conn.execute(
                    update(v)
                    .where(v.c.version == r.version)
                    .values(signature=signed_document(fields, new))
                )
        with self._lock:
            self._cached = None
        return KeyLink(generation=generation, server_key=public, endorsement=endorsement)
