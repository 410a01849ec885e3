"""Catalog import: a CSV file becomes the catalog in one transaction, or
nothing changes and every bad row is reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pos.catalog import Product, parse_catalog_csv
from pos.clock import Clock, iso
from pos.errors import InvalidInput
from pos.events import Event
from pos.messages import msg
from pos.services.catalog import CatalogRepository, catalog_digest, search_entries
from pos.store.db import Database
from pos.store.journal import Journal


@dataclass(frozen=True)
class ImportResult:
    products: int
    deactivated: int
    digest: str
    journal_seq: int


def read_catalog_file(path: Path, currency: str) -> list[Product]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            msg("catalog.import.cannot_read", path=str(path), detail=exc.strerror or "")
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(msg("catalog.import.not_utf8", path=str(path))) from None
    return parse_catalog_csv(text, currency)


def import_products(
    db: Database,
    journal: Journal,
    clock: Clock,
    products: list[Product],
    *,
    replace: bool,
    source: str,
    repo: CatalogRepository | None = None,
) -> ImportResult:
    repo = repo or CatalogRepository()
    now = iso(clock.now())
    digest = catalog_digest(products)
    # Pinyin and search keys before the write lock: a sale in another process
    # waits only for the inserts.
    entries = search_entries(products)
    with db.transaction() as conn:
        gone = repo.replace_all(conn, products, now, entries) if replace else 0
        if not replace:
            repo.upsert(conn, products, now, entries)
        entry = journal.append(
            conn,
            Event.CATALOG_IMPORTED,
            {
                "source": source,
                "products": len(products),
                "deactivated": gone,
                "replace": replace,
                "digest": digest,
            },
        )
    return ImportResult(len(products), gone, digest, entry.seq)
