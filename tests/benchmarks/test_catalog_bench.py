"""A 300,000-product catalog: import, barcode lookup and name search, with
plain sqlite3 lookups on the same rows as the baseline of the same run."""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from pathlib import Path

import pytest

from pos.barcode import with_check_digit
from pos.catalog import Product
from pos.clock import SystemClock
from pos.money import Money
from pos.services.catalog_import import import_products
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

N = 300_000
WORDS_ZH = [
    "牛奶",
    "可乐",
    "面包",
    "苹果",
    "饼干",
    "洗发水",
    "矿泉水",
    "巧克力",
    "方便面",
    "酸奶",
    "可口可乐",
]
WORDS_EN = [
    "milk",
    "cola",
    "bread",
    "apple",
    "biscuit",
    "shampoo",
    "water",
    "chocolate",
    "noodles",
    "yogurt",
    "coca-cola",
]
# One-word queries a cashier types, each matching tens of thousands of products.
COMMON = ["cola", "chocolate", "water", "巧克力", "洗发水", "kkkl", "kekoukele"]
REPEATS = 60


def _products() -> list[Product]:
    rng = random.Random(7)
    out = []
    for i in range(N):
        w = rng.randrange(len(WORDS_ZH))
        out.append(
            Product(
                sku=f"SKU{i:07d}",
                barcodes=(with_check_digit(f"69{i:010d}"),),
                name_zh=f"{WORDS_ZH[w]} {i % 977}号 {rng.randint(100, 999)}g",
                name_en=f"{WORDS_EN[w]} no.{i % 977} {rng.randint(100, 999)}g",
                unit_price=Money(rng.randint(100, 99_999)),
                tax_class="standard",
                active=True,
                sold_by_weight=False,
            )
        )
    return out


def _median_ms(fn, args) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _p95_ms(fn, args) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return sorted(times)[int(0.95 * len(times))] * 1000


@pytest.mark.timeout(1800)
def test_catalog_of_300k_products(tmp_path: Path, record) -> None:
    products = _products()
    terminal = provision(tmp_path / "till", "demo", "S001", "T01", SystemClock())
    services = TerminalServices.wrap(terminal)
    t0 = time.perf_counter()
    import_products(
        terminal.db, terminal.journal, terminal.clock, products, replace=False, source="bench"
    )
    import_s = time.perf_counter() - t0

    plain = sqlite3.connect(tmp_path / "plain.db")
    plain.execute("CREATE TABLE b (barcode TEXT PRIMARY KEY, sku TEXT) WITHOUT ROWID")
    plain.execute("CREATE TABLE p (sku TEXT PRIMARY KEY, name TEXT)")
    t0 = time.perf_counter()
    plain.executemany("INSERT INTO b VALUES (?, ?)", [(p.barcodes[0], p.sku) for p in products])
    plain.executemany(
        "INSERT INTO p VALUES (?, ?)", [(p.sku, f"{p.name_zh} {p.name_en}") for p in products]
    )
    plain.commit()
    plain_import_s = time.perf_counter() - t0

    rng = random.Random(3)
    codes = [products[rng.randrange(N)].barcodes[0] for _ in range(2000)]
    co = services.checkout
    lookup_ms = _median_ms(co.lookup, codes)
    lookup_p95 = _p95_ms(co.lookup, codes)
    plain_lookup_ms = _median_ms(
        lambda c: plain.execute(
            "SELECT p.* FROM b JOIN p ON p.sku = b.sku WHERE b.barcode = ?", (c,)
        ).fetchone(),
        codes,
    )
    queries = [f"{WORDS_ZH[i % 11]} {i % 977}号" for i in range(100)] + [
        f"{WORDS_EN[i % 11]} no.{i % 977}" for i in range(100)
    ]
    short = [WORDS_ZH[i % 11][:2] for i in range(50)]
    search_ms = _median_ms(co.search, queries)
    search_p95 = _p95_ms(co.search, queries)
    short_ms = _median_ms(co.search, short)
    plain_like_ms = _median_ms(
        lambda q: plain.execute(
            "SELECT * FROM p WHERE name LIKE ? LIMIT 20", (f"%{q}%",)
        ).fetchall(),
        queries[:50],
    )
    assert co.search("可乐 5号")
    common = _common_queries(co.search, services, plain)
    assert co.search("kkkl")[0].name_zh.startswith("可口可乐")
    assert co.search("kekoukele")[0].name_zh.startswith("可口可乐")
    services.close()
    record(
        "catalog_300k",
        {
            "products": N,
            "import_s": round(import_s, 1),
            "plain_sqlite3_import_s": round(plain_import_s, 1),
            "barcode_lookup_median_ms": round(lookup_ms, 3),
            "barcode_lookup_p95_ms": round(lookup_p95, 3),
            "plain_sqlite3_lookup_median_ms": round(plain_lookup_ms, 3),
            "name_search_median_ms": round(search_ms, 2),
            "name_search_p95_ms": round(search_p95, 2),
            "two_char_search_median_ms": round(short_ms, 2),
            "plain_sqlite3_like_scan_median_ms": round(plain_like_ms, 2),
            "goal_lookup_ms": 1,
            "goal_search_ms": 30,
            "common_one_word_queries": common,
        },
    )


def _common_queries(search, services: TerminalServices, plain: sqlite3.Connection) -> dict:
    """p95 of each common query against two baselines in the same run: the
    previous plan (every trigram match ranked by bm25, then the first 20) and
    plain sqlite3's LIKE scan that stops at 20 rows."""

    def ranked_fts(q: str) -> list:
        with services.terminal.db.read() as conn:
            return conn.execute(
                "SELECT sku FROM product_search WHERE product_search MATCH ? ORDER BY rank LIMIT 20",
                ('"' + q + '"',),
            ).fetchall()

    def like(q: str) -> list:
        return plain.execute("SELECT * FROM p WHERE name LIKE ? LIMIT 20", (f"%{q}%",)).fetchall()

    out = {}
    for q in COMMON:
        runs = [q] * REPEATS
        p95 = _p95_ms(search, runs)
        out[q] = {
            "median_ms": round(_median_ms(search, runs), 2),
            "p95_ms": round(p95, 2),
            "previous_plan_ranked_fts_p95_ms": round(_p95_ms(ranked_fts, runs[:20]), 2),
            "plain_sqlite3_like_p95_ms": round(_p95_ms(like, runs), 2),
            "met": p95 <= 30,
        }
    return out


# A large supermarket's catalog: what a push from the central server brings.
REALISTIC = 30_000
_SELLER = """
import json, sys, time
from pathlib import Path
from pos.money import Money
from pos.services.terminal_services import TerminalServices
data, stop = Path(sys.argv[1]), Path(sys.argv[2])
services = TerminalServices.open(data)
co = services.checkout
times, errors = [], []
print("ready", flush=True)
while not stop.exists():
    t0 = time.perf_counter()
    try:
        order = co.new_order("c1")
        co.add_item(order.order_id, "SKU0000001", 1)
        co.pay_cash(order.order_id, Money(100_000))
    except Exception as exc:
        errors.append(str(exc))
    times.append(time.perf_counter() - t0)
services.close()
print(json.dumps({"sales": len(times), "longest_s": max(times), "errors": errors}))
"""


@pytest.mark.timeout(900)
def test_sale_in_another_process_waits_out_a_catalog_import(tmp_path: Path, record) -> None:
    """A till sells while a 30,000-product catalog is imported: each sale
    waits for the import's write lock (5 s busy timeout) and is never refused.
    The lock is watched from a third connection that tries to take it."""
    import subprocess
    import sys
    import threading

    global N
    saved, N = N, REALISTIC
    try:
        products = _products()
    finally:
        N = saved
    data = tmp_path / "till"
    terminal = provision(data, "demo", "S001", "T01", SystemClock())
    import_products(
        terminal.db, terminal.journal, terminal.clock, products[:100], replace=False, source="bench"
    )
    stop = tmp_path / "stop"
    seller = subprocess.Popen(
        [sys.executable, "-c", _SELLER, str(data), str(stop)], stdout=subprocess.PIPE, text=True
    )
    assert seller.stdout is not None
    assert seller.stdout.readline().strip() == "ready"

    held: list[float] = []
    done = threading.Event()

    def watch() -> None:
        conn = terminal.db.dedicated_connection()
        conn.execute("PRAGMA busy_timeout = 0")
        while not done.is_set():
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            except Exception:
                held.append(time.perf_counter())
            time.sleep(0.002)
        conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    t0 = time.perf_counter()
    import_products(
        terminal.db, terminal.journal, terminal.clock, products, replace=False, source="bench"
    )
    import_s = time.perf_counter() - t0
    time.sleep(0.5)
    done.set()
    watcher.join()
    stop.touch()
    out, _ = seller.communicate(timeout=60)
    sales = json.loads(out.strip().splitlines()[-1])
    terminal.close()
    # The longest stretch the lock was seen held without a gap over 50 ms
    # (the seller's own commits take it for about a millisecond each).
    longest, start, last = 0.0, None, None
    for t in held:
        if start is None or t - last > 0.05:
            start = t
        last = t
        longest = max(longest, last - start)
    record(
        "catalog_import_beside_sales",
        {
            "products": REALISTIC,
            "import_s": round(import_s, 2),
            "write_lock_held_longest_s": round(longest, 2),
            "sales_during_run": sales["sales"],
            "longest_sale_s": round(sales["longest_s"], 2),
            "refused_sales": sales["errors"],
        },
    )
    assert sales["errors"] == []
