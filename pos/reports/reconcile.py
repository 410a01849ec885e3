"""Reconciliation: the channel's daily bill against the terminal's own payments
and refunds.

Each line of the bill is matched by the merchant's numbers the terminal chose
(out_trade_no for a payment, out_refund_no / out_request_no for a refund) with
the terminal's payment and refund intents, and each intent that took money is
looked for in the bill. What comes out:

* matched: the same money, in the same state, on both sides;
* missing on the terminal: the channel took or gave back money the terminal
  has no record of;
* missing at the channel: the terminal counts money the channel does not;
* amount differs, status differs: both know it, but disagree (a payment the
  channel settled that the terminal has as unknown or closed; a payment with
  no sale recorded for it).

Bills are dated in Beijing time, as the platforms issue them; the terminal's
side is taken on the same calendar day (the time the payment or refund
completed). An item that completed at the stroke of midnight may land on the
neighbouring day's bill: reconcile that day too before chasing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pos.clock import parse_iso
from pos.errors import InvalidInput
from pos.events import Event
from pos.messages import both, msg
from pos.money import Money
from pos.payments.bills import BillRow, download_bill
from pos.payments.channel import PaymentChannel
from pos.reports.tables import Table, TableDoc

BILL_TZ = ZoneInfo("Asia/Shanghai")
BILL_CHANNELS = ("alipay", "wechat")
_TOOK_MONEY = ("succeeded", "partly_refunded", "refunded")


class Category(StrEnum):
    MATCHED = "matched"
    MISSING_ON_TERMINAL = "missing_on_terminal"
    MISSING_AT_CHANNEL = "missing_at_channel"
    AMOUNT_DIFFERS = "amount_differs"
    STATUS_DIFFERS = "status_differs"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Category.MATCHED: both(msg("reports.doc.matched")),
    Category.MISSING_ON_TERMINAL: both(msg("reports.doc.missing_on_terminal")),
    Category.MISSING_AT_CHANNEL: both(msg("reports.doc.missing_at_channel")),
    Category.AMOUNT_DIFFERS: both(msg("reports.doc.amount_differs")),
    Category.STATUS_DIFFERS: both(msg("reports.doc.status_differs")),
}


@dataclass(frozen=True, slots=True)
class ReconItem:
    channel: str
    kind: str  # payment | refund
    category: Category
    out_no: str  # out_trade_no, or the refund's out_refund_no
    out_trade_no: str
    order_id: str
    channel_ref: str
    bill_amount: Money | None
    terminal_amount: Money | None
    terminal_status: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "kind": self.kind,
            "category": self.category.value,
            "out_no": self.out_no,
            "out_trade_no": self.out_trade_no,
            "order_id": self.order_id,
            "channel_ref": self.channel_ref,
            "bill_amount_minor": None if self.bill_amount is None else self.bill_amount.minor,
            "terminal_amount_minor": None
            if self.terminal_amount is None
            else self.terminal_amount.minor,
            "terminal_status": self.terminal_status,
            "note": self.note,
        }


@dataclass(frozen=True)
class Reconciliation:
    channel: str
    bill_date: str
    items: tuple[ReconItem, ...]
    fees: Money  # what the channel charged, net of fees given back on refunds

    @property
    def differences(self) -> tuple[ReconItem, ...]:
        return tuple(i for i in self.items if i.category is not Category.MATCHED)

    def count(self, category: Category) -> int:
        return sum(1 for i in self.items if i.category is category)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "bill_date": self.bill_date,
            "fees_minor": self.fees.minor,
            "counts": {c.value: self.count(c) for c in Category},
            "items": [i.to_dict() for i in self.items],
        }


# -- the two sides ----------------------------------------------------------------------


class BillSource(Protocol):
    def bill(self, channel: str, bill_date: str) -> list[BillRow]:
        """The channel's bill of `bill_date` (YYYY-MM-DD, Beijing time)."""
        ...


class GatewayBills:
    """Bills downloaded from the gateways, with the terminal's own credentials."""

    def __init__(self, channels: Mapping[str, PaymentChannel]) -> None:
        self._channels = channels

    def bill(self, channel: str, bill_date: str) -> list[BillRow]:
        ch = self._channels.get(channel)
        if ch is None:
            raise InvalidInput(msg("reports.reconcile.not_set_up", channel=channel))
        return download_bill(ch, bill_date)[1]


@dataclass
class _Mine:
    kind: str
    out_no: str
    out_trade_no: str
    order_id: str
    channel_ref: str
    amount: Money
    status: str
    day: str
    recorded: bool = True
    matched: bool = field(default=False)


def _day(text: str | None, tz: tzinfo) -> str:
    return "" if not text else parse_iso(text).astimezone(tz).date().isoformat()


def terminal_side(conn: Any, channel: str, currency: str, tz: tzinfo = BILL_TZ) -> list[_Mine]:
    """The terminal's payments and refunds on `channel`, dated in `tz`."""
    in_sales = {
        r[0]
        for r in conn.execute(
            "SELECT intent_id FROM tenders WHERE kind = 'payment' AND intent_id IS NOT NULL"
        )
    }
    mine = [
        _Mine(
            "payment", out_no, out_no, order_id, ref, Money(amount, currency), status,
            _day(final_at or updated_at, tz), recorded=intent_id in in_sales,
        )
        for intent_id, order_id, amount, out_no, status, ref, final_at, updated_at in conn.execute(
            "SELECT id, order_id, amount_minor, out_trade_no, status, channel_ref, final_at,"
            " updated_at FROM payment_intents WHERE channel = ? AND sent = 1",
            (channel,),
        )
    ]  # fmt: skip
    mine += [
        _Mine(
            "refund", out_no, out_trade_no, order_id, ref, Money(amount, currency), status,
            _day(final_at or updated_at, tz),
        )
        for out_no, out_trade_no, order_id, amount, status, ref, final_at, updated_at in conn.execute(
            "SELECT r.out_refund_no, p.out_trade_no, r.order_id, r.amount_minor, r.status,"
            " r.channel_ref, r.final_at, r.updated_at FROM refund_intents r"
            " JOIN payment_intents p ON p.id = r.payment_intent_id WHERE r.channel = ? AND r.sent = 1",
            (channel,),
        )
    ]  # fmt: skip
    return mine


def _counts(m: _Mine) -> bool:
    """The terminal holds this as money that moved."""
    return m.status in (_TOOK_MONEY if m.kind == "payment" else ("succeeded",))


def match(
    channel: str, bill_date: str, bill: Iterable[BillRow], mine: list[_Mine], currency: str
) -> Reconciliation:
    index = {(m.kind, m.out_no): m for m in mine}
    items: list[ReconItem] = []
    fees = 0
    for row in bill:
        fees += row.fee.minor
        out_no = row.out_refund_no if row.kind == "refund" else row.out_trade_no
        m = index.get((row.kind, out_no))
        if m is None:
            items.append(
                ReconItem(
                    channel, row.kind, Category.MISSING_ON_TERMINAL, out_no, row.out_trade_no,
                    "", row.trade_no, row.amount, None, "", f"at the channel {row.time}",
                )
            )  # fmt: skip
            continue
        m.matched = True
        category, note = Category.MATCHED, ""
        if not _counts(m):
            category = Category.STATUS_DIFFERS
            note = f"the channel {'paid' if row.kind == 'payment' else 'refunded'} it"
        elif m.amount != row.amount:
            category = Category.AMOUNT_DIFFERS
        elif not m.recorded:
            category, note = Category.STATUS_DIFFERS, "paid, but no sale is recorded for it"
        items.append(
            ReconItem(
                channel, row.kind, category, out_no, m.out_trade_no, m.order_id,
                row.trade_no or m.channel_ref, row.amount, m.amount, m.status, note,
            )
        )  # fmt: skip
    for m in mine:
        if m.matched or m.day != bill_date or not _counts(m):
            continue
        items.append(
            ReconItem(
                channel, m.kind, Category.MISSING_AT_CHANNEL, m.out_no, m.out_trade_no,
                m.order_id, m.channel_ref, None, m.amount, m.status, "not on the channel's bill",
            )
        )  # fmt: skip
    return Reconciliation(channel, bill_date, tuple(items), Money(fees, currency))


def reconcile(
    db: Any, source: BillSource, channel: str, bill_date: str, currency: str = "CNY"
) -> Reconciliation:
    if channel not in BILL_CHANNELS:
        raise InvalidInput(
            msg("reports.reconcile.no_bill", channel=channel, channels=", ".join(BILL_CHANNELS))
        )
    bill = source.bill(channel, bill_date)
    with db.read() as conn:
        mine = terminal_side(conn, channel, currency)
    return match(channel, bill_date, bill, mine, currency)


# -- for people and files ---------------------------------------------------------------------


def recon_doc(results: list[Reconciliation], terminal_id: str, currency: str) -> TableDoc:
    date = results[0].bill_date if results else ""
    summary: list[tuple[Any, ...]] = []
    for r in results:
        for c in Category:
            items = [i for i in r.items if i.category is c]
            # Money in less money given back, as the bill itself adds up.
            amount = sum(
                (-1 if i.kind == "refund" else 1)
                * (i.bill_amount or i.terminal_amount or Money.zero(currency)).minor
                for i in items
            )
            summary.append((r.channel, c.label, len(items), Money(amount, currency)))
        summary.append((r.channel, both(msg("reports.doc.fees")), None, r.fees))

    def rows(pick: Iterable[ReconItem]) -> tuple[tuple[Any, ...], ...]:
        return tuple(
            (
                i.channel, i.kind, i.category.label, i.out_no, i.order_id, i.bill_amount,
                i.terminal_amount, i.terminal_status, i.note,
            )
            for i in pick
        )  # fmt: skip

    headers = (
        both(msg("reports.doc.channel")), both(msg("reports.doc.kind")), both(msg("reports.doc.result")), both(msg("reports.doc.merchant_no")), both(msg("reports.doc.order")),
        both(msg("reports.doc.bill")), both(msg("reports.doc.terminal_2")), both(msg("reports.doc.status")), both(msg("reports.doc.note")),
    )  # fmt: skip
    all_items = [i for r in results for i in r.items]
    return TableDoc(
        title=f"{both(msg('reports.doc.reconciliation'))}  ·  {date}",
        subtitle=f"{date}  ·  {both(msg('reports.doc.terminal'))} {terminal_id}  ·  {currency}",
        note="Bills in Beijing time; matched by the merchant's order and refund numbers.",
        currency=currency,
        tables=(
            Table(
                "summary", both(msg("reports.doc.summary")), (both(msg("reports.doc.channel")), both(msg("reports.doc.result")), both(msg("reports.doc.count")), both(msg("reports.doc.amount"))),
                tuple(summary),
            ),
            Table("differences", both(msg("reports.doc.differences")), headers,
                  rows(i for i in all_items if i.category is not Category.MATCHED)),
            Table("matched", both(msg("reports.doc.matched")), headers,
                  rows(i for i in all_items if i.category is Category.MATCHED)),
        ),
    )  # fmt: skip


def journal_result(db: Any, journal: Any, result: Reconciliation) -> int:
    """Record that the day was reconciled, and what differed, in the signed
    journal; returns the entry's sequence number."""
    with db.transaction() as conn:
        entry = journal.append(
            conn,
            Event.RECONCILE_DONE,
            {
                "channel": result.channel,
                "bill_date": result.bill_date,
                "counts": {c.value: result.count(c) for c in Category},
                "differences": [
                    {"category": i.category.value, "kind": i.kind, "out_no": i.out_no}
                    for i in result.differences
                ],
            },
        )
    return int(entry.seq)
