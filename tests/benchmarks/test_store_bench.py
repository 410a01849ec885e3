"""A durable sale commit through SQLCipher with the signed journal, against
the same rows written with plain sqlite3 on the same disk in the same run."""

from __future__ import annotations

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
        journal = conn.execute("SELECT * FROM journal WHERE type IN ('tender.taken','sale.paid')").fetchall()
        outbox = {r[0]: tuple(r) for r in conn.execute("SELECT * FROM outbox")}
    import json

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
    services = _terminal(tmp_path)
    co = services.checkout
    orders = []
    for i in range(SALES):
        o = co.new_order("c1")
        co.add_item(o.order_id, "DRK-001", 1 + i % 3)
        orders.append(o.order_id)
    enc_times = []
    for oid in orders:
        t0 = time.perf_counter()
        co.pay_cash(oid, Money(2000))
        enc_times.append(time.perf_counter() - t0)

    rows = _plain_rows(services)
    plain = _plain_db(tmp_path / "plain.db", services)
    plain_times = []
    for sale in rows:
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
        plain_times.append(time.perf_counter() - t0)
    store_times = _store_level(tmp_path, services, rows)
    services.close()

    store_ms = statistics.median(store_times) * 1000
    enc_ms = statistics.median(enc_times) * 1000
    plain_ms = statistics.median(plain_times) * 1000
    record(
        "store_commit",
        {
            "sales": SALES,
            "sqlcipher_signed_median_ms": round(enc_ms, 3),
            "sqlcipher_signed_p95_ms": round(sorted(enc_times)[int(0.95 * SALES)] * 1000, 3),
            "plain_sqlite3_median_ms": round(plain_ms, 3),
            "ratio_full_sale": round(enc_ms / plain_ms, 2),
            "sqlcipher_same_rows_signed_median_ms": round(store_ms, 3),
            "ratio_same_rows": round(store_ms / plain_ms, 2),
            "goal_ratio": 1.5,
        },
    )


def _store_level(tmp: Path, services: TerminalServices, rows) -> list[float]:
    """The same rows through a second SQLCipher store, with the journal rows
    hashed and signed afresh by the terminal's Journal: the store's own cost."""
    other = provision(tmp / "till2", "demo", "S001", "T02", SystemClock())
    times = []
    with other.db.transaction() as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
    for sale in rows:
        t0 = time.perf_counter()
        with other.db.transaction() as conn:
            for table, values in sale:
                if table == "journal":
                    import json

                    other.journal.append(conn, values[3], json.loads(values[4]))
                elif table in ("orders", "tenders"):
                    marks = ",".join("?" * len(values))
                    conn.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
            conn.execute(
                "INSERT INTO receipt_counters VALUES ('2026-01-01', 1)"
                " ON CONFLICT(business_date) DO UPDATE SET last_no = last_no + 1"
            )
        times.append(time.perf_counter() - t0)
    other.close()
    return times
