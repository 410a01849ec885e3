"""The parts of orders and tenders the older checks do not compare: the order
document a paid order is loaded from, and the business date a tender (a
payment or money back) counts on. Both must be what the sale's signed journal
entries say."""

from __future__ import annotations

from typing import Any

from pos.canonical import dumps, loads
from pos.events import Event
from pos.services.ledger_check import ledgers_agree_with_journal


def records_agree_with_journal(conn: Any) -> list[str]:
    problems: list[str] = []
    paid: dict[int, bytes] = {}
    tender_dates: dict[str, str] = {}
    for seq, etype, raw in conn.execute(
        "SELECT seq, type, payload FROM journal WHERE type IN (?, ?, ?, ?)",
        (Event.SALE_PAID, Event.TENDER_TAKEN, Event.REFUND_COMPLETED, Event.ORDER_VOIDED),
    ):
        payload = loads(raw)
        if etype == Event.SALE_PAID and isinstance(payload.get("order"), dict):
            paid[int(seq)] = dumps(payload["order"])
        elif etype == Event.TENDER_TAKEN:
            tender_dates[str(payload.get("tender_row_id"))] = str(payload.get("business_date"))
        else:  # money back: the day it counts on is the refund's or the void's
            for t in payload.get("tenders") or []:
                if isinstance(t, dict) and "row_id" in t:
                    tender_dates[str(t["row_id"])] = str(payload.get("business_date"))
    for order_id, seq, doc in conn.execute(
        "SELECT id, journal_seq, doc FROM orders WHERE journal_seq IS NOT NULL"
    ):
        signed = paid.get(int(seq))
        if signed is not None and doc.encode() != signed:
            problems.append(f"order {order_id}: its stored document differs from the paid sale")
    for tender_id, date in conn.execute("SELECT id, business_date FROM tenders"):
        want = tender_dates.get(str(tender_id))
        if want is not None and date != want:
            problems.append(f"tender {tender_id}: business date {date}, journal says {want}")
    return problems + ledgers_agree_with_journal(conn)
