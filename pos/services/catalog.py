"""The catalog in the store: import, barcode lookup, name search."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from pos.canonical import dumps
from pos.catalog import Product
from pos.errors import InvalidInput
from pos.messages import Name, msg
from pos.money import Money
from pos.search_keys import (
    NAME,
    PINYIN,
    WORD,
    SearchEntry,
    pinyin_query,
    query_form,
    search_entry,
)

# Under three characters a trigram index cannot help; a bounded scan can.
_MIN_TRIGRAM = 3
# Substring matches read at most this many candidates, then put the shortest
# texts (the closest matches) first: a common word never reads the whole index.
_SUBSTRING_CANDIDATES = 200
_KEY_END = "\U0010ffff"
# A bulk import writes millions of index rows; with SQLite's default 2 MB page
# cache each one re-reads and re-decrypts pages. 128 MB for its duration.
_BULK_ROWS = 10_000
_BULK_CACHE_KIB = 131_072


def product_row(p: Product, now: str) -> tuple[Any, ...]:
    return (
        p.sku,
        p.name_zh,
        p.name_en,
        p.unit_price.minor,
        p.unit_price.currency,
        p.tax_class,
        int(p.active),
        int(p.sold_by_weight),
        now,
    )


def _from_row(row: Sequence[Any], barcodes: tuple[str, ...]) -> Product:
    return Product(
        sku=row[0],
        barcodes=barcodes,
        name_zh=row[1],
        name_en=row[2],
        unit_price=Money(row[3], row[4]),
        tax_class=row[5],
        active=bool(row[6]),
        sold_by_weight=bool(row[7]),
    )


_COLUMNS = "sku, name_zh, name_en, unit_price_minor, currency, tax_class, active, sold_by_weight"


@dataclass(frozen=True, slots=True)
class SearchRows:
    """The search index rows for a set of products: each active product's
    substring text by SKU, and its key rows (kind, key, sku) in key order, so
    a large import appends to the key b-tree."""

    texts: dict[str, str]
    keys: list[tuple[int, str, str]]


def search_entries(products: Sequence[Product]) -> SearchRows:
    """Pinyin, keys and their sort are the costly part of an import, so
    callers compute this before opening the write transaction and hold the
    database's write lock only for the inserts."""
    entries: list[tuple[str, SearchEntry]] = [
        (p.sku, search_entry(p.sku, p.name_zh, p.name_en, p.barcodes)) for p in products if p.active
    ]
    # Two stable sorts on one field each are faster than one on tuples.
    keys = sorted(
        ((kind, key, sku) for sku, e in entries for kind, key in e.keys), key=itemgetter(1)
    )
    keys.sort(key=itemgetter(0))
    return SearchRows({sku: e.text for sku, e in entries}, keys)


def catalog_digest(products: Iterable[Product]) -> str:
    """A content digest the journal keeps, so a catalog change can be proven."""
    h = hashlib.sha256()
    for p in sorted(products, key=lambda p: p.sku):
        h.update(dumps(p.to_dict()))
    return h.hexdigest()


class CatalogRepository:
    """Reads and writes the catalog tables on a connection the caller owns,
    so an import is part of the caller's one transaction."""

    def upsert(
        self,
        conn: Any,
        products: Sequence[Product],
        now: str,
        entries: SearchRows | None = None,
    ) -> None:
        """Add or update `products`; the search index follows each row by rowid.
        `entries` is `search_entries(products)` computed before the write
        transaction (computed here when not given). Statements run in batches:
        a 300,000-product file is one import."""
        if entries is None:
            entries = search_entries(products)
        if len(products) < _BULK_ROWS:
            self._upsert(conn, products, now, entries)
            return
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB:d}")
        try:
            self._upsert(conn, products, now, entries)
        finally:
            conn.execute(f"PRAGMA cache_size = {int(cache):d}")

    def _upsert(
        self, conn: Any, products: Sequence[Product], now: str, entries: SearchRows
    ) -> None:
        conn.executemany(
            f"INSERT INTO products ({_COLUMNS}, updated_at) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(sku) DO UPDATE SET name_zh=excluded.name_zh, "
            "name_en=excluded.name_en, unit_price_minor=excluded.unit_price_minor, "
            "currency=excluded.currency, tax_class=excluded.tax_class, "
            "active=excluded.active, sold_by_weight=excluded.sold_by_weight, "
            "updated_at=excluded.updated_at",
            [product_row(p, now) for p in products],
        )
        skus = [(p.sku,) for p in products]
        conn.executemany("DELETE FROM product_barcodes WHERE sku = ?", skus)
        pairs = [(b, p.sku) for p in products for b in p.barcodes]
        try:
            conn.executemany("INSERT INTO product_barcodes (barcode, sku) VALUES (?, ?)", pairs)
        except Exception as exc:  # the driver's IntegrityError: a barcode another product has
            self._refuse_taken_barcode(conn, pairs, exc)
            raise
        rowids = self._rowids(conn, [p.sku for p in products])
        conn.executemany(
            "DELETE FROM product_search WHERE rowid = ?", [(rowids[p.sku],) for p in products]
        )
        conn.executemany("DELETE FROM product_keys WHERE sku = ?", skus)
        conn.executemany(
            "INSERT INTO product_search (rowid, sku, text) VALUES (?, ?, ?)",
            [(rowids[sku], sku, text) for sku, text in entries.texts.items()],
        )
        rows = entries.keys
        # A large import builds the sku index afresh after the inserts (one
        # sort) instead of updating it once per key row in random sku order.
        rebuild = len(rows) >= _BULK_ROWS and 2 * len(products) >= self._product_count(conn)
        if rebuild:
            conn.execute("DROP INDEX product_keys_sku")
        conn.executemany("INSERT INTO product_keys (kind, key, sku) VALUES (?, ?, ?)", rows)
        if rebuild:
            conn.execute("CREATE INDEX product_keys_sku ON product_keys(sku)")

    @staticmethod
    def _product_count(conn: Any) -> int:
        return int(conn.execute("SELECT count(*) FROM products").fetchone()[0])

    def _refuse_taken_barcode(
        self, conn: Any, pairs: list[tuple[str, str]], exc: Exception
    ) -> None:
        """Name the barcode that already belongs to a product outside the file
        (found only after the insert failed, so a large import pays nothing)."""
        for barcode, sku in pairs:
            owner = self.sku_for_barcode(conn, barcode)
            if owner is not None and owner != sku:
                product = self.get(conn, owner)
                raise InvalidInput(
                    msg(
                        "catalog.import.barcode_taken",
                        barcode=barcode,
                        sku=sku,
                        owner=owner,
                        name=Name(product.name_zh, product.name_en) if product else owner,
                    )
                ) from exc

    @staticmethod
    def _rowids(conn: Any, skus: list[str]) -> dict[str, int]:
        if len(skus) > 1000:
            return {r[1]: r[0] for r in conn.execute("SELECT rowid, sku FROM products")}
        marks = ",".join("?" * len(skus))
        return {
            r[1]: r[0]
            for r in conn.execute(f"SELECT rowid, sku FROM products WHERE sku IN ({marks})", skus)
        }

    def replace_all(
        self,
        conn: Any,
        products: Sequence[Product],
        now: str,
        entries: SearchRows | None = None,
    ) -> int:
        """Make the active catalog exactly `products`. Products absent from the
        file become inactive, never deleted: old orders and reports name them.
        Returns how many were deactivated."""
        keep = {p.sku for p in products}
        gone = [
            (r[0], r[1])
            for r in conn.execute("SELECT rowid, sku FROM products WHERE active = 1")
            if r[1] not in keep
        ]
        for rowid, sku in gone:
            conn.execute("UPDATE products SET active = 0, updated_at = ? WHERE sku = ?", (now, sku))
            conn.execute("DELETE FROM product_search WHERE rowid = ?", (rowid,))
            conn.execute("DELETE FROM product_keys WHERE sku = ?", (sku,))
        # A barcode may move from a product that left the file to a new one.
        conn.executemany("DELETE FROM product_barcodes WHERE sku = ?", [(sku,) for _, sku in gone])
        self.upsert(conn, products, now, entries)
        return len(gone)

    def get(self, conn: Any, sku: str) -> Product | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM products WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            return None
        codes = tuple(
            r[0]
            for r in conn.execute(
                "SELECT barcode FROM product_barcodes WHERE sku = ? ORDER BY barcode", (sku,)
            )
        )
        return _from_row(row, codes)

    def sku_for_barcode(self, conn: Any, barcode: str) -> str | None:
        row = conn.execute(
            "SELECT sku FROM product_barcodes WHERE barcode = ?", (barcode,)
        ).fetchone()
        return None if row is None else str(row[0])

    def search(self, conn: Any, text: str, limit: int = 20) -> list[Product]:
        """Products by barcode, SKU, name, pinyin or part of a name, best first:
        exact barcode, SKU or name; names starting with the text; pinyin
        spellings or initials starting with it ("kkkl", "kekou" -> 可口可乐);
        a later word of a name starting with it; then names containing it.
        Each step reads in key order and stops once the page is full."""
        q = query_form(text)
        if not q or limit <= 0:
            return []
        found: dict[str, None] = {}
        steps = (
            lambda: self._barcode_match(conn, text.strip()),
            lambda: self._key_prefix(conn, NAME, q),
            lambda: self._key_prefix(conn, PINYIN, pinyin_query(q)),
            lambda: self._key_prefix(conn, WORD, q),
            lambda: self._substring(conn, text.strip()),
        )
        for step in steps:
            for sku in step():
                found[sku] = None
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                break
        products = (self.get(conn, sku) for sku in found)
        return [p for p in products if p is not None and p.active]

    @staticmethod
    def _barcode_match(conn: Any, text: str) -> list[str]:
        row = conn.execute("SELECT sku FROM product_barcodes WHERE barcode = ?", (text,)).fetchone()
        return [] if row is None else [str(row[0])]

    @staticmethod
    def _key_prefix(conn: Any, kind: int, q: str) -> Iterator[str]:
        """Keys starting with `q` in key order (an exact key sorts first); the
        cursor is read lazily, so the caller's page size bounds the read."""
        if not q:
            return
        rows = conn.execute(
            "SELECT sku FROM product_keys WHERE kind = ? AND key >= ? AND key < ? ORDER BY key",
            (kind, q, q + _KEY_END),
        )
        for row in rows:
            yield str(row[0])

    @staticmethod
    def _substring(conn: Any, text: str) -> list[str]:
        if len(text) >= _MIN_TRIGRAM:
            quoted = '"' + text.replace('"', '""') + '"'
            rows = conn.execute(
                "SELECT sku, text FROM product_search WHERE product_search MATCH ? LIMIT ?",
                (quoted, _SUBSTRING_CANDIDATES),
            ).fetchall()
        else:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = conn.execute(
                "SELECT sku, text FROM product_search WHERE text LIKE ? ESCAPE '\\' LIMIT ?",
                (pattern, _SUBSTRING_CANDIDATES),
            ).fetchall()
        return [str(r[0]) for r in sorted(rows, key=lambda r: len(r[1]))]

    def count(self, conn: Any) -> int:
        return int(conn.execute("SELECT count(*) FROM products WHERE active = 1").fetchone()[0])
