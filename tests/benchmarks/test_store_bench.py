"""A durable sale commit through SQLCipher with the signed journal, against
the same rows written with plain sqlite3 on the same disk in the same run."""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from pathlib import Path

from pos.clock import SystemClock
from pos.money import Money
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[2]
SALES = 300


def _terminal(tmp: Path) -> TerminalServices:
    t = provision(tmp / "till", "demo", "S001", "T01", SystemClock())
    s = TerminalServices.wrap(t)
    products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
    import_products(t.db, t.journal, t.clock, products, replace=True, source="bench")
    s.users.add("c1", "Bench", "manager", "7391")
    return s


def _plain_rows(services: TerminalServices) -> list[list[tuple[str, tuple]]]:
    """Every row one sale's commit writes, read back from the encrypted store."""
    sales: dict[str, list[tuple[str, tuple]]] = {}
    with services.terminal.db.read() as conn:
        for row in conn.execute("SELECT * FROM orders WHERE state = 'paid'"):
            sales[row[0]] = [("orders", tuple(row))]
        for row in conn.execute("SELECT * FROM tenders"):
            sales[row[1]].append(("tenders", tuple(row)))
        journal = conn.execute(
            "SELECT * FROM journal WHERE type IN ('tender.taken','sale.paid')"
        ).fetchall()
        outbox = {r[0]: tuple(r) for r in conn.execute("SELECT * FROM outbox")}
    for row in journal:
        oid = json.loads(row[4])["order_id"]
        if oid in sales:
            sales[oid].append(("journal", tuple(row)))
            if row[1] in outbox:
                sales[oid].append(("outbox", outbox[row[1]]))
    return list(sales.values())


def _plain_db(path: Path, services: TerminalServices) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    with services.terminal.db.read() as enc:
        for (sql,) in enc.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL"
            " AND tbl_name IN ('orders','tenders','journal','outbox','receipt_counters')"
            " ORDER BY type DESC"
        ):
            conn.execute(sql.replace("REFERENCES orders(id)", ""))
    return conn


def test_durable_sale_commit_against_plain_sqlite(tmp_path: Path, record) -> None:
    # The rows one sale writes, captured from a first terminal.
    source = _terminal(tmp_path / "source")
    for i in range(SALES):
        o = source.checkout.new_order("c1")
        source.checkout.add_item(o.order_id, "DRK-001", 1 + i % 3)
        source.checkout.pay_cash(o.order_id, Money(2000))
    rows = _plain_rows(source)
    source.close()

    services = _terminal(tmp_path / "full")
    co = services.checkout
    orders = []
    for i in range(SALES):
        o = co.new_order("c1")
        co.add_item(o.order_id, "DRK-001", 1 + i % 3)
        orders.append(o.order_id)
    plain = _plain_db(tmp_path / "plain.db", services)
    other = provision(tmp_path / "rows", "demo", "S001", "T02", SystemClock())

    # Interleaved, so that a noisy neighbour slows all three alike.
    enc_times, plain_times, store_times = [], [], []
    for oid, sale in zip(orders, rows, strict=False):
        t0 = time.perf_counter()
        co.pay_cash(oid, Money(2000))
        enc_times.append(time.perf_counter() - t0)
        plain_times.append(_plain_commit(plain, sale))
        store_times.append(_store_commit(other, sale))
    other.close()
    services.close()

    def median_ms(xs: list[float]) -> float:
        return statistics.median(xs) * 1000

    enc_ms, plain_ms, store_ms = (
        median_ms(enc_times),
        median_ms(plain_times),
        median_ms(store_times),
    )
    record(
        "store_commit",
        {
            "sales": len(enc_times),
            "full_sale_median_ms": round(enc_ms, 3),
            "full_sale_p95_ms": round(sorted(enc_times)[int(0.95 * len(enc_times))] * 1000, 3),
            "same_rows_sqlcipher_signed_median_ms": round(store_ms, 3),
            "same_rows_plain_sqlite3_median_ms": round(plain_ms, 3),
            "ratio_full_sale": round(enc_ms / plain_ms, 2),
            "ratio_same_rows": round(store_ms / plain_ms, 2),
            "goal_ratio": 1.5,
        },
    )


def _plain_commit(plain: sqlite3.Connection, sale) -> float:
    t0 = time.perf_counter()
    plain.execute("BEGIN IMMEDIATE")
    for table, values in sale:
        marks = ",".join("?" * len(values))
        plain.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
    plain.execute(
        "INSERT INTO receipt_counters VALUES ('2026-01-01', 1)"
        " ON CONFLICT(business_date) DO UPDATE SET last_no = last_no + 1"
    )
    plain.execute("COMMIT")
    return time.perf_counter() - t0


def _store_commit(other, sale) -> float:
    """The same rows through SQLCipher, the journal rows hashed and signed
    afresh by the terminal's Journal: the store's own cost."""
    t0 = time.perf_counter()
    with other.db.transaction() as conn:
        for table, values in sale:
            if table == "journal":
                other.journal.append(conn, values[3], json.loads(values[4]))
            elif table in ("orders", "tenders"):
                marks = ",".join("?" * len(values))
                conn.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
        conn.execute(
            "INSERT INTO receipt_counters VALUES ('2026-01-01', 1)"
            " ON CONFLICT(business_date) DO UPDATE SET last_no = last_no + 1"
        )
    return time.perf_counter() - t0
