"""The search index is derived from the products: verify recomputes it and
compares, so a key row deleted, edited or planted by SQL (a product hidden
from search, or another product's name leading to it) is found like any
other edited table."""

from __future__ import annotations

from typing import Any

# The keys every active product should have, computed by the same function
# the import and the migration use (registered on every connection).
_WANTED = """
SELECT k.value ->> 0 AS kind, k.value ->> 1 AS key, p.sku AS sku
FROM products AS p, json_each(pos_search_entry(
    p.sku, p.name_zh, p.name_en,
    (SELECT group_concat(b.barcode, ' ') FROM product_barcodes AS b WHERE b.sku = p.sku)
), '$.keys') AS k
WHERE p.active = 1
"""


def search_keys_agree_with_products(conn: Any) -> list[str]:
    missing = conn.execute(
        f"SELECT sku, key FROM ({_WANTED} EXCEPT SELECT kind, key, sku FROM product_keys) LIMIT 5"
    ).fetchall()
    planted = conn.execute(
        f"SELECT sku, key FROM (SELECT kind, key, sku FROM product_keys EXCEPT {_WANTED}) LIMIT 5"
    ).fetchall()
    problems = [f"search key {key!r} of product {sku} is missing" for sku, key in missing]
    problems += [
        f"search key {key!r} for product {sku} is not derived from the catalog"
        for sku, key in planted
    ]
    return problems
