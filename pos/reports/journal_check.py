"""The day's totals as the signed journal tells them, against the tables.

Reports read the tables; the journal is the signed record. A report carries
this check so that a closed day's totals are known to equal the journal's, and
a table edited behind the journal's back shows up on the report itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pos.canonical import loads
from pos.clock import parse_iso
from pos.events import Event
from pos.money import Money
from pos.reports.model import Count, JournalCheck, TenderTotals

EVENTS = (Event.SALE_PAID, Event.REFUND_COMPLETED, Event.ORDER_VOIDED, Event.TENDER_TAKEN)


def _window(business_date: str) -> tuple[str, str]:
    """A UTC span that surely holds every entry of the business date, whatever
    the time zone and the hour the day starts; entries are then dated exactly."""
    day = date.fromisoformat(business_date)
    lo = datetime.combine(day - timedelta(days=1), datetime.min.time())
    hi = datetime.combine(day + timedelta(days=2), datetime.min.time())
    return lo.strftime("%Y-%m-%dT%H:%M:%S"), hi.strftime("%Y-%m-%dT%H:%M:%S")


def check_journal(
    conn: Any,
    business_date_of: Callable[[datetime], str],
    business_date: str,
    currency: str,
    sales: Count,
    refunds: Count,
    voids: int,
    tenders: Sequence[TenderTotals],
) -> JournalCheck:
    lo, hi = _window(business_date)
    marks = ",".join("?" * len(EVENTS))
    rows = conn.execute(
        f"SELECT seq, time, type, payload FROM journal WHERE type IN ({marks})"
        " AND time >= ? AND time < ? ORDER BY seq",
        (*EVENTS, lo, hi),
    ).fetchall()
    j_sales, j_refunds, j_voids = [0, 0], [0, 0], 0
    paid: dict[str, int] = defaultdict(int)
    back: dict[str, int] = defaultdict(int)
    problems: list[str] = []
    seqs: list[int] = []
    for seq, time, etype, raw in rows:
        try:
            if business_date_of(parse_iso(time)) != business_date:
                continue
            p = loads(raw)
            if etype == Event.SALE_PAID:
                j_sales[0] += 1
                j_sales[1] += int(p["totals"]["total_minor"])
            elif etype == Event.REFUND_COMPLETED:
                j_refunds[0] += 1
                j_refunds[1] += int(p["refund"]["amount_minor"])
                for t in p["tenders"]:
                    back[t["channel"]] += int(t["amount_minor"])
            elif etype == Event.ORDER_VOIDED:
                j_voids += 1
                for t in p.get("tenders", []):
                    back[t["channel"]] += int(t["amount_minor"])
            else:
                paid[p["tender"]["channel"]] += int(p["tender"]["amount_minor"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"journal entry {seq} ({etype}) cannot be read: {exc!r}")
            continue
        seqs.append(seq)

    def money(v: int) -> str:
        return Money(v, currency).format()

    def compare(what: str, table: tuple[int, int], journal: tuple[int, int]) -> None:
        if table != journal:
            problems.append(
                f"{what}: tables {table[0]} / {money(table[1])},"
                f" journal {journal[0]} / {money(journal[1])}"
            )

    compare("sales", (sales.count, sales.amount.minor), (j_sales[0], j_sales[1]))
    compare("refunds", (refunds.count, refunds.amount.minor), (j_refunds[0], j_refunds[1]))
    if voids != j_voids:
        problems.append(f"voids: tables {voids}, journal {j_voids}")
    table_paid = {t.channel: t.payments.amount.minor for t in tenders}
    table_back = {t.channel: t.refunds.amount.minor for t in tenders}
    for channel in sorted(set(table_paid) | set(paid) | set(table_back) | set(back)):
        for what, t_map, j_map in (("paid", table_paid, paid), ("given back", table_back, back)):
            t_v, j_v = t_map.get(channel, 0), j_map.get(channel, 0)
            if t_v != j_v:
                problems.append(f"{channel} {what}: tables {money(t_v)}, journal {money(j_v)}")
    return JournalCheck(
        first_seq=min(seqs) if seqs else None,
        last_seq=max(seqs) if seqs else None,
        entries=len(seqs),
        sales=Count(j_sales[0], Money(j_sales[1], currency)),
        refunds=Count(j_refunds[0], Money(j_refunds[1], currency)),
        voids=j_voids,
        problems=tuple(problems),
    )
