"""The migration that added pinyin search, from the previous release's database:
products already in the store are found by pinyin once it is opened."""

from __future__ import annotations

from pathlib import Path

from pos.services.catalog import CatalogRepository
from pos.store.db import Database
from pos.store.migrate import Migrations

KEY = bytes(32)
BUNDLED = Migrations.bundled()
PINYIN_VERSION = next(m.version for m in BUNDLED.items if m.name == "search_pinyin")
BEFORE = max(m.version for m in BUNDLED.items if m.version < PINYIN_VERSION)


def _old_release_catalog(path: Path) -> None:
    """Two products as the release before wrote them (its search text had no pinyin)."""
    rows = [
        ("DRK-001", "可口可乐 500ml", "Coca-Cola 500ml", 1, "6901234000016"),
        ("DRK-002", "农夫山泉 550ml", "Nongfu Spring 550ml", 1, "6901234000023"),
        ("OLD-001", "雪碧 330ml", "Sprite 330ml", 0, "6901234000030"),
    ]
    with Database.create(path, KEY, migrations=BUNDLED.up_to(BEFORE)) as db, db.transaction() as c:
        for sku, zh, en, active, code in rows:
            cur = c.execute(
                "INSERT INTO products (sku, name_zh, name_en, unit_price_minor, currency,"
                " tax_class, active, sold_by_weight, updated_at)"
                " VALUES (?, ?, ?, 350, 'CNY', 'standard', ?, 0, 'then')",
                (sku, zh, en, active),
            )
            c.execute("INSERT INTO product_barcodes (barcode, sku) VALUES (?, ?)", (code, sku))
            if active:
                c.execute(
                    "INSERT INTO product_search (rowid, sku, text) VALUES (?, ?, ?)",
                    (cur.lastrowid, sku, f"{sku} {zh} {en} {code}"),
                )


def test_products_of_the_previous_release_get_their_pinyin_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_release_catalog(path)
    repo = CatalogRepository()
    with Database.open(path, KEY) as db, db.read() as conn:
        assert db.schema_version == BUNDLED.latest
        assert [p.sku for p in repo.search(conn, "kkkl")] == ["DRK-001"]
        assert [p.sku for p in repo.search(conn, "nongfu")] == ["DRK-002"]
        assert [p.sku for p in repo.search(conn, "shanquan")] == ["DRK-002"]
        assert [p.sku for p in repo.search(conn, "6901234000023")] == ["DRK-002"]
        # An inactive product stays out of the index, as before.
        assert repo.search(conn, "xuebi") == []
        assert repo.search(conn, "雪碧") == []
