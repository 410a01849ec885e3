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


# A 300,000-product catalog is about 40 MB of CSV.
MAX_FILE_BYTES = 128 * 1024 * 1024


def read_catalog_file(path: Path, currency: str, limit: int = MAX_FILE_BYTES) -> list[Product]:
    """The products in a CSV file of at most `limit` bytes. Reading stops at the
    limit, so a device or a pipe that never ends (/dev/zero) is refused, not read."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise InvalidInput(
            msg("catalog.import.cannot_read", path=str(path), detail=exc.strerror or "")
        ) from None
    if len(raw) > limit:
        raise InvalidInput(
            msg("input.file_too_large", path=str(path), limit_mb=limit // (1024 * 1024))
        )
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
