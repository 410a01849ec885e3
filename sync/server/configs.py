"""Configuration versions: catalog, risk rules and lists, channel settings,
numbered by the server, signed with its key, pulled by terminals."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, or_, select, update

from pos.clock import Clock, iso
from sync.protocol import b64, signed_document
from sync.schemas import ConfigVersion
from sync.server import models as m

KINDS = ("catalog", "risk_rules", "channel_settings", "risk_hotlist", "servers")
MAX_BODY = 32 * 1024 * 1024


def header(
    version: int, kind: str, store_id: str | None, sha256: str, created_at: str
) -> dict[str, Any]:
    """The fields the server signs; the body is bound to them by its SHA-256."""
    return {
        "version": version,
        "kind": kind,
        "store_id": store_id,
        "sha256": sha256,
        "created_at": created_at,
    }


def publish(
    engine: Engine,
    clock: Clock,
    key: Ed25519PrivateKey,
    kind: str,
    body: bytes,
    store_id: str | None = None,
) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown configuration kind {kind!r}; one of {', '.join(KINDS)}")
    if len(body) > MAX_BODY:
        raise ValueError("configuration document is larger than 32 MiB")
    digest = hashlib.sha256(body).hexdigest()
    created = iso(clock.now())
    with engine.begin() as conn:
        version = conn.execute(
            insert(m.config_versions)
            .values(
                store_id=store_id,
                kind=kind,
                body=body,
                sha256=digest,
                created_at=created,
                signature="",
            )
            .returning(m.config_versions.c.version)
        ).scalar_one()
        sig = signed_document(header(version, kind, store_id, digest, created), key)
        conn.execute(
            update(m.config_versions)
            .where(m.config_versions.c.version == version)
            .values(signature=sig)
        )
    return int(version)


def newer_than(engine: Engine, store_id: str, after: int, limit: int = 20) -> list[ConfigVersion]:
    """Versions for this store (or every store) above `after`, oldest first."""
    t = m.config_versions
    with engine.connect() as conn:
        rows = conn.execute(
            select(t)
            .where(t.c.version > after, or_(t.c.store_id.is_(None), t.c.store_id == store_id))
            .order_by(t.c.version)
            .limit(limit)
        ).all()
    return [
        ConfigVersion(
            version=r.version,
            kind=r.kind,
            store_id=r.store_id,
            sha256=r.sha256,
            created_at=r.created_at,
            body=b64(bytes(r.body)),
            signature=r.signature,
        )
        for r in rows
    ]
