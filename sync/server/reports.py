"""Store reports: the day's settlement per store, terminal and channel, and
per channel across a store's terminals, with CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from sqlalchemy import Engine, func, select

from pos.money import minor_text
from pos.reports.tables import inert_text
from sync.server import models as m


@dataclass(frozen=True)
class SettlementRow:
    store_id: str
    terminal_id: str  # "*" on a store's per-channel total across terminals
    channel: str
    currency: str
    payments: int
    payments_minor: int
    refunds: int
    refunds_minor: int

    @property
    def net_minor(self) -> int:
        return self.payments_minor + self.refunds_minor


def daily_settlement(
    engine: Engine, business_date: str, store_id: str | None = None
) -> list[SettlementRow]:
    t = m.settlement_lines
    pay = t.c.kind == "payment"
    q = (
        select(
            t.c.store_id,
            t.c.terminal_id,
            t.c.channel,
            t.c.currency,
            func.count().filter(pay).label("payments"),
            func.coalesce(func.sum(t.c.amount_minor).filter(pay), 0).label("payments_minor"),
            func.count().filter(~pay).label("refunds"),
            func.coalesce(func.sum(t.c.amount_minor).filter(~pay), 0).label("refunds_minor"),
        )
        .where(t.c.business_date == business_date)
        .group_by(t.c.store_id, t.c.terminal_id, t.c.channel, t.c.currency)
        .order_by(t.c.store_id, t.c.terminal_id, t.c.channel, t.c.currency)
    )
    if store_id is not None:
        q = q.where(t.c.store_id == store_id)
    with engine.connect() as conn:
        rows = [SettlementRow(*r) for r in conn.execute(q).all()]
    return rows + _across_terminals(rows)


def _across_terminals(rows: list[SettlementRow]) -> list[SettlementRow]:
    acc: dict[tuple[str, str, str], list[int]] = {}
    for r in rows:
        a = acc.setdefault((r.store_id, r.channel, r.currency), [0, 0, 0, 0])
        a[0] += r.payments
        a[1] += r.payments_minor
        a[2] += r.refunds
        a[3] += r.refunds_minor
    return [SettlementRow(s, "*", c, cur, *v) for (s, c, cur), v in sorted(acc.items())]


CSV_COLUMNS = (
    "business_date",
    "store_id",
    "terminal_id",
    "channel",
    "currency",
    "payments",
    "payments_amount",
    "refunds",
    "refunds_amount",
    "net_amount",
)


def to_csv(business_date: str, rows: list[SettlementRow]) -> str:
    """Amounts as decimal text in the currency's units (from integer minor
    units, never through float); terminal '*' rows total a store's channel."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        d = asdict(r)
        w.writerow(
            [
                business_date,
                inert_text(r.store_id),
                inert_text(r.terminal_id),
                inert_text(r.channel),
                inert_text(r.currency),
                d["payments"],
                minor_text(r.payments_minor, r.currency),
                d["refunds"],
                minor_text(-r.refunds_minor, r.currency),
                minor_text(r.net_minor, r.currency),
            ]
        )
    return buf.getvalue()
