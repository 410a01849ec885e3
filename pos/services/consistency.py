"""Do the orders, tenders and refunds tables say what the journal says?

The journal is the signed record; the tables are what reports read. This
replays the journal's sale, tender, refund and void events and compares the
result with the tables, so an edit to a table that leaves the journal intact
is found too.
"""

from __future__ import annotations

from typing import Any

from pos.canonical import loads
from pos.events import ORDER_EVENTS, Event, sql_list

_FINAL_STATES = ("paid", "partly_refunded", "refunded", "voided")


def _expected(conn: Any) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, int, str]]]:
    orders: dict[str, dict[str, Any]] = {}
    tenders: dict[str, tuple[str, int, str]] = {}
    rows = conn.execute(
        f"SELECT seq, type, payload FROM journal WHERE type IN {sql_list(ORDER_EVENTS)}"
        " ORDER BY seq",
        ORDER_EVENTS,
    )
    for seq, etype, raw in rows:
        p = loads(raw)
        oid = p["order_id"]
        o = orders.setdefault(oid, {"state": None, "total": None, "refunded": 0, "seq": seq})
        o["seq"] = seq
        if etype == Event.TENDER_TAKEN:
            t = p["tender"]
            tenders[p["tender_row_id"]] = ("payment", int(t["amount_minor"]), t["channel"])
        elif etype == Event.SALE_PAID:
            o["state"] = "paid"
            o["total"] = int(p["totals"]["total_minor"])
            o["receipt_no"] = p["receipt_no"]
        elif etype == Event.REFUND_COMPLETED:
            o["state"] = p["state"]
            o["refunded"] = int(p["refunded_minor"])
            for t in p["tenders"]:
                tenders[t["row_id"]] = ("refund", int(t["amount_minor"]), t["channel"])
        elif etype == Event.ORDER_VOIDED:
            o["state"] = "voided"
            for t in p.get("tenders", []):
                tenders[t["row_id"]] = ("refund", int(t["amount_minor"]), t["channel"])
    return orders, tenders


def orders_agree_with_journal(conn: Any) -> list[str]:
    problems: list[str] = []
    expected, expected_tenders = _expected(conn)
    marks = ",".join("?" * len(_FINAL_STATES))
    table = {
        r[0]: r
        for r in conn.execute(
            "SELECT id, state, total_minor, refunded_minor, receipt_no FROM orders"
            f" WHERE state IN ({marks})",
            _FINAL_STATES,
        )
    }
    for oid, exp in expected.items():
        if exp["state"] is None:
            continue  # tenders taken on an order still open
        row = table.pop(oid, None)
        if row is None:
            problems.append(
                f"order {oid} is {exp['state']} in the journal but not in the orders table"
            )
            continue
        _, state, total, refunded, receipt_no = row
        if state != exp["state"]:
            problems.append(f"order {oid}: table says {state}, journal says {exp['state']}")
        if exp["total"] is not None and total != exp["total"]:
            problems.append(f"order {oid}: table total {total}, journal total {exp['total']}")
        if refunded != exp["refunded"]:
            problems.append(f"order {oid}: table refunded {refunded}, journal {exp['refunded']}")
        if exp.get("receipt_no") and receipt_no != exp["receipt_no"]:
            problems.append(f"order {oid}: receipt number differs from the journal")
    for oid in table:
        problems.append(
            f"order {oid} is {table[oid][1]} in the table but the journal never said so"
        )
    actual = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute("SELECT id, kind, amount_minor, channel FROM tenders")
    }
    for tid, exp_t in expected_tenders.items():
        got = actual.pop(tid, None)
        if got is None:
            problems.append(f"tender {tid} is in the journal but not in the tenders table")
        elif got != exp_t:
            problems.append(f"tender {tid}: table {got}, journal {exp_t}")
    for tid in actual:
        problems.append(f"tender {tid} is in the tenders table but not in the journal")
    return problems
