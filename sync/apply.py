"""Applying configuration pulled from the server: atomically and journaled.

Each version is checked against the server key pinned at enrolment (its
signed header, and the body against the header's SHA-256), then applied in
one terminal transaction together with its journal entry and the row that
records the version, so a crash leaves it either fully applied or not at all.
What a kind means is up to a handler the composition root wires;
`default_handlers()` gives the catalog, risk rules and channel settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos import canonical
from pos.clock import iso
from pos.errors import PosError
from pos.events import Event
from pos.messages import msg
from pos.store.db import Connection
from pos.store.terminal import Terminal
from sync.protocol import check_signed_document, unb64
from sync.schemas import ConfigVersion

# conn, document body (or what the handler's `prepare` made of it), server
# version, time text -> a short summary for the journal
Handler = Callable[[Connection, Any, int, str], Mapping[str, Any]]


class ConfigRejected(PosError):
    """A version that failed its signature or its own validation: not applied,
    and later versions wait until it is fixed on the server."""


class NotServerSigned(ConfigRejected):
    """A version whose signature is not the pinned key's: the server may have
    rotated its key (the client follows the endorsed chain and tries again)."""


def header_of(v: ConfigVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "kind": v.kind,
        "store_id": v.store_id,
        "sha256": v.sha256,
        "created_at": v.created_at,
    }


def authentic_body(v: ConfigVersion, server_key: Ed25519PublicKey) -> bytes:
    """The version's body, once its signature and digest check out."""
    if not check_signed_document(header_of(v), v.signature, server_key):
        raise NotServerSigned(
            f"configuration version {v.version} is not signed by the server this terminal enrolled with",
            "Nothing was applied. Check the server address; if the server's key changed, "
            "enrol the terminal again.",
        )
    try:
        body = unb64(v.body)
    except ValueError as exc:
        raise ConfigRejected(f"configuration version {v.version} has an unreadable body") from exc
    if hashlib.sha256(body).hexdigest() != v.sha256:
        raise ConfigRejected(
            f"configuration version {v.version} does not match its signed digest",
            "Nothing was applied; the next sync fetches it again.",
        )
    return body


def applied_version(conn: Connection) -> int:
    row = conn.execute("SELECT max(version) FROM config_versions").fetchone()
    return int(row[0] or 0)


@dataclass(frozen=True)
class Applied:
    version: int
    kind: str
    outcome: str
    summary: Mapping[str, Any]


class ConfigApplier:
    def __init__(self, terminal: Terminal, handlers: Mapping[str, Handler]) -> None:
        self._terminal = terminal
        self._handlers = dict(handlers)

    def current(self) -> int:
        with self._terminal.db.read() as conn:
            return applied_version(conn)

    def apply(
        self, v: ConfigVersion, server_key: Ed25519PublicKey, superseded_by: int | None = None
    ) -> Applied:
        """Apply `v`, or record it skipped when this terminal has no use for its
        kind or a newer version of the same kind replaces it."""
        body = authentic_body(v, server_key)
        handler = self._handlers.get(v.kind)
        now = iso(self._terminal.clock.now())
        # Work that needs no database (parsing, a catalog's pinyin keys) runs
        # before the write lock is taken, so sales wait only for the writes.
        prepare = getattr(handler, "prepare", None)
        payload: Any = body
        if prepare is not None and superseded_by is None:
            with _refusal(v):
                payload = prepare(body)
        with self._terminal.db.transaction() as conn:
            if applied_version(conn) >= v.version:
                return Applied(v.version, v.kind, "already", {})
            if superseded_by is not None:
                outcome, summary = "skipped", {"reason": f"superseded by version {superseded_by}"}
            elif handler is None:
                outcome, summary = (
                    "skipped",
                    {"reason": f"no handler for {v.kind} on this terminal"},
                )
            else:
                with _refusal(v):
                    summary = dict(handler(conn, payload, v.version, now))
                outcome = "applied"
            entry = self._terminal.journal.append(
                conn,
                Event.CONFIG_APPLIED if outcome == "applied" else Event.CONFIG_SKIPPED,
                {
                    "version": v.version,
                    "kind": v.kind,
                    "sha256": v.sha256,
                    "server_created_at": v.created_at,
                    "summary": summary,
                },
            )
            conn.execute(
                "INSERT INTO config_versions (version, kind, sha256, outcome, detail, applied_at, "
                "journal_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    v.version,
                    v.kind,
                    v.sha256,
                    outcome,
                    canonical.dumps(summary).decode(),
                    now,
                    entry.seq,
                ),
            )
        return Applied(v.version, v.kind, outcome, summary)


@contextmanager
def _refusal(v: ConfigVersion) -> Iterator[None]:
    try:
        yield
    except ConfigRejected:
        raise
    except PosError as exc:
        raise ConfigRejected(
            f"configuration version {v.version} ({v.kind}) was refused: {exc.message}",
            "The terminal keeps its current configuration. Fix the document on "
            "the server and publish a new version.",
        ) from exc


class _Catalog:
    """The catalog: parsed, digested and its search keys computed in
    `prepare` (outside the write lock), written in one step inside it."""

    @staticmethod
    def prepare(body: bytes) -> tuple[Any, Any, str]:
        from pos.catalog import parse_catalog_csv
        from pos.services.catalog import catalog_digest, search_entries

        products = parse_catalog_csv(_text(body), "CNY")
        return products, search_entries(products), catalog_digest(products)

    def __call__(self, conn: Connection, payload: Any, version: int, now: str) -> Mapping[str, Any]:
        from pos.services.catalog import CatalogRepository

        products, entries, digest = payload if isinstance(payload, tuple) else self.prepare(payload)
        gone = CatalogRepository().replace_all(conn, products, now, entries)
        return {"products": len(products), "deactivated": gone, "digest": digest}


def _risk_rules(conn: Connection, body: bytes, version: int, now: str) -> Mapping[str, Any]:
    from pos.risk.rulestore import install_ruleset

    ruleset = install_ruleset(conn, _text(body), version, installed_at=now, origin="server")
    return {"ruleset_version": version, "digest": ruleset.digest}


def _risk_hotlist(conn: Connection, body: bytes, version: int, now: str) -> Mapping[str, Any]:
    from pos.risk.hotlist import store_hotlist

    hot = store_hotlist(conn, _text(body), version, now)
    return {"entries": len(hot)}


def _channel_settings(conn: Connection, body: bytes, version: int, now: str) -> Mapping[str, Any]:
    try:
        doc = json.loads(_text(body))
    except ValueError as exc:
        raise ConfigRejected(f"channel settings are not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ConfigRejected("channel settings must map channel names to objects")
    if any("secret" in k.lower() or "private" in k.lower() for v in doc.values() for k in v):
        raise ConfigRejected(
            "channel settings carry a secret or private key",
            "Secrets stay in each terminal's keyring; remove them from the document.",
        )
    text = canonical.dumps(doc).decode()
    conn.execute(
        "INSERT INTO channel_settings (id, doc, version, updated_at) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, "
        "updated_at = excluded.updated_at",
        (text, version, now),
    )
    return {"channels": sorted(doc)}


def _servers(conn: Connection, body: bytes, version: int, now: str) -> Mapping[str, Any]:
    """The server's URLs, in order of preference: {"urls": [...]}."""
    from sync.failover import checked_urls

    try:
        doc = json.loads(_text(body))
    except ValueError as exc:
        raise ConfigRejected(msg("sync.servers_not_json")) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("urls"), list):
        raise ConfigRejected(msg("sync.servers_not_json"))
    if not all(isinstance(u, str) for u in doc["urls"]):
        raise ConfigRejected(msg("sync.servers_not_json"))
    try:
        urls = checked_urls(doc["urls"])
    except PosError as exc:
        raise ConfigRejected(exc.msg or msg("sync.servers_not_json")) from exc
    store_server_urls(conn, urls)
    return {"urls": urls}


def store_server_urls(conn: Connection, urls: Sequence[str]) -> None:
    """Replaces the terminal's list of server URLs (in order of preference)."""
    conn.execute("DELETE FROM sync_servers")
    conn.executemany(
        "INSERT INTO sync_servers (position, url) VALUES (?, ?)", list(enumerate(urls))
    )


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigRejected("the configuration document is not UTF-8 text") from exc


def default_handlers() -> dict[str, Handler]:
    return {
        "catalog": _Catalog(),
        "risk_rules": _risk_rules,
        "risk_hotlist": _risk_hotlist,
        "channel_settings": _channel_settings,
        "servers": _servers,
    }
