"""Settlement figures for one business date, read from the store's tables.

What counts where (the same rules for the X, Z and daily reports):

* Sales: orders paid on the date (their receipt number was given that day),
  including any voided later, whose money then comes back as a void return.
* Refunds: refunds made on the date, whatever day the sale was.
* Voids: orders voided on the date (dated by their void journal entry), with
  what they came to; a void after payment gives every tender back, which is
  `void_returns`.
* Tenders: every payment and every refund or void return row of the date, by
  channel. Net = sales - refunds - void returns = the sum of the tenders' net.
* Tax by rate: tax on sales, less the tax of refunds and of voided sales.
* Expected cash: the opening float plus cash taken less cash given back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pos.canonical import loads
from pos.clock import parse_iso
from pos.errors import PosError
from pos.messages import msg
from pos.money import Money
from pos.order import Order, Refund
from pos.reports.journal_check import check_journal
from pos.reports.model import (
    CashDrawer,
    CashierTotals,
    Count,
    HourTotals,
    OfflineCards,
    SettlementReport,
    TenderTotals,
)
from pos.tax import RateTax

_SALE_STATES = ("paid", "partly_refunded", "refunded", "voided")
_CHANNEL_ORDER = {"cash": 0, "alipay": 1, "wechat": 2, "card": 3}


@dataclass(frozen=True)
class ReportContext:
    """Who the report is for, and how its times turn into business dates."""

    store_id: str
    terminal_id: str
    currency: str
    tz: tzinfo
    business_date_of: Callable[[datetime], str]


class ReportDataError(PosError):
    """Stored data a report cannot read."""


def _load(raw: str, what: str) -> Any:
    try:
        return loads(raw)
    except ValueError as exc:
        raise ReportDataError(msg("reports.data.unreadable", what=what)) from exc


def _void_dates(conn: Any, ctx: ReportContext) -> dict[str, str]:
    """Voided order id -> the business date of its void journal entry."""
    out: dict[str, str] = {}
    for order_id, time in conn.execute(
        "SELECT o.id, j.time FROM orders o JOIN journal j ON j.seq = o.journal_seq"
        " WHERE o.state = 'voided'"
    ):
        out[order_id] = ctx.business_date_of(parse_iso(time))
    return out


def _add_rates(acc: dict[int, list[int]], rates: Iterable[RateTax], sign: int) -> None:
    for r in rates:
        row = acc.setdefault(r.rate_bp, [0, 0, 0])
        row[0] += sign * r.net.minor
        row[1] += sign * r.tax.minor
        row[2] += sign * r.gross.minor


class _Counter:
    """Counts and sums by key."""

    def __init__(self) -> None:
        self.data: dict[Any, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, key: Any, amount: int) -> None:
        self.data[key][0] += 1
        self.data[key][1] += amount

    def get(self, key: Any, currency: str) -> Count:
        count, amount = self.data.get(key, (0, 0))
        return Count(count, Money(amount, currency))


def _offline_cards(conn: Any, ctx: ReportContext, date: str) -> OfflineCards:
    seen = _Counter()
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'card_offline'"
    ).fetchone()
    if has_table:
        for state, amount, stored_at in conn.execute(
            "SELECT forward_state, amount_minor, stored_at FROM card_offline"
        ):
            if ctx.business_date_of(parse_iso(stored_at)) == date:
                seen.add("forwarded" if state == "accepted" else state, amount)
    cur = ctx.currency
    return OfflineCards(
        seen.get("forwarded", cur), seen.get("pending", cur), seen.get("declined", cur)
    )


def compute_report(
    conn: Any,
    ctx: ReportContext,
    business_date: str,
    *,
    kind: str,
    now: datetime,
    counted: Money | None = None,
    reason: str = "",
    opening_float: Money | None = None,
    z_no: int | None = None,
    closed_by: str = "",
) -> SettlementReport:
    cur = ctx.currency
    zero = Money.zero(cur)
    names = {uid: name for uid, name in conn.execute("SELECT id, name FROM users")}
    void_dates = _void_dates(conn, ctx)
    rates: dict[int, list[int]] = {}
    by_cashier: dict[str, dict[str, _Counter]] = defaultdict(
        lambda: {"sales": _Counter(), "refunds": _Counter(), "voids": _Counter()}
    )

    # Sales: paid on the date.
    sales, gross, discounts, tax = _Counter(), 0, 0, 0
    paid_at = dict(
        conn.execute(
            "SELECT order_id, MAX(created_at) FROM tenders WHERE kind = 'payment' GROUP BY order_id"
        ).fetchall()
    )
    hours = _Counter()
    marks = ",".join("?" * len(_SALE_STATES))
    for oid, cashier, total, subtotal, discount, tax_minor, doc in conn.execute(
        "SELECT id, cashier_id, total_minor, subtotal_minor, discount_minor, tax_minor, doc"
        f" FROM orders WHERE business_date = ? AND receipt_no IS NOT NULL AND state IN ({marks})",
        (business_date, *_SALE_STATES),
    ):
        sales.add("all", total)
        by_cashier[cashier]["sales"].add("all", total)
        gross, discounts, tax = gross + subtotal, discounts + discount, tax + tax_minor
        order = Order.from_dict(_load(doc, f"order {oid}"))
        _add_rates(rates, order.totals().tax_by_rate, +1)
        if oid in paid_at:
            hours.add(parse_iso(paid_at[oid]).astimezone(ctx.tz).hour, total)

    # Refunds made on the date.
    refunds = _Counter()
    for rid, amount, cashier, doc in conn.execute(
        "SELECT id, amount_minor, cashier_id, doc FROM refunds WHERE business_date = ?",
        (business_date,),
    ):
        refunds.add("all", amount)
        by_cashier[cashier]["refunds"].add("all", amount)
        refund = Refund.from_dict(_load(doc, f"refund {rid}"))
        _add_rates(rates, refund.plan.tax_by_rate, -1)

    # Voids on the date, and the money they gave back.
    voids, void_returns = _Counter(), 0
    for oid, cashier, total, receipt_no, doc in conn.execute(
        "SELECT id, cashier_id, total_minor, receipt_no, doc FROM orders WHERE state = 'voided'"
    ):
        if void_dates.get(oid) != business_date:
            continue
        voids.add("all", total)
        by_cashier[cashier]["voids"].add("all", total)
        if receipt_no is not None:
            void_returns += total
            order = Order.from_dict(_load(doc, f"order {oid}"))
            _add_rates(rates, order.totals().tax_by_rate, -1)

    # Money by channel.
    payments, given_back = _Counter(), _Counter()
    for channel, kind_, amount in conn.execute(
        "SELECT channel, kind, amount_minor FROM tenders WHERE business_date = ?",
        (business_date,),
    ):
        (payments if kind_ == "payment" else given_back).add(channel, amount)
    channels = sorted(
        set(payments.data) | set(given_back.data), key=lambda c: (_CHANNEL_ORDER.get(c, 9), c)
    )
    tenders = tuple(TenderTotals(c, payments.get(c, cur), given_back.get(c, cur)) for c in channels)
    cash_net = payments.get("cash", cur).amount - given_back.get("cash", cur).amount
    open_orders = conn.execute(
        "SELECT COUNT(*) FROM orders WHERE state IN ('open', 'parked')"
    ).fetchone()[0]

    return SettlementReport(
        kind=kind,
        business_date=business_date,
        currency=cur,
        store_id=ctx.store_id,
        terminal_id=ctx.terminal_id,
        generated_at=now,
        sales=sales.get("all", cur),
        gross=Money(gross, cur),
        discounts=Money(discounts, cur),
        tax=Money(tax, cur),
        refunds=refunds.get("all", cur),
        voids=voids.get("all", cur),
        void_returns=Money(void_returns, cur),
        tenders=tenders,
        tax_by_rate=tuple(
            RateTax(bp, Money(v[0], cur), Money(v[1], cur), Money(v[2], cur))
            for bp, v in sorted(rates.items(), reverse=True)
        ),
        cashiers=tuple(
            CashierTotals(
                uid,
                names.get(uid, uid),
                c["sales"].get("all", cur),
                c["refunds"].get("all", cur),
                c["voids"].get("all", cur),
            )
            for uid, c in sorted(by_cashier.items())
        ),
        hours=tuple(HourTotals(h, hours.get(h, cur)) for h in sorted(hours.data)),
        cash=CashDrawer((opening_float or zero) + cash_net, counted, reason),
        offline_cards=_offline_cards(conn, ctx, business_date),
        open_orders=int(open_orders),
        journal=check_journal(
            conn,
            ctx.business_date_of,
            business_date,
            cur,
            sales.get("all", cur),
            refunds.get("all", cur),
            voids.get("all", cur).count,
            tenders,
        ),
        z_no=z_no,
        closed_by=closed_by,
    )
