"""The settlement report: what a day (or the day so far) took, gave back and owes.

One model serves the X report (mid-day, changes nothing), the Z report (closes
the day, numbered, journaled and signed) and the daily export. Every amount is
Money; `to_dict()` is the canonical form that is hashed, signed and journaled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pos.clock import iso, parse_iso
from pos.money import Money
from pos.tax import RateTax


@dataclass(frozen=True, slots=True)
class Count:
    count: int
    amount: Money

    def to_dict(self) -> dict[str, int]:
        return {"count": self.count, "amount_minor": self.amount.minor}

    def __add__(self, other: Count) -> Count:
        return Count(self.count + other.count, self.amount + other.amount)


def zero(currency: str) -> Count:
    return Count(0, Money.zero(currency))


@dataclass(frozen=True, slots=True)
class TenderTotals:
    """Money in and out through one channel (cash, alipay, wechat, card ...)."""

    channel: str
    payments: Count
    refunds: Count

    @property
    def net(self) -> Money:
        return self.payments.amount - self.refunds.amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "payments": self.payments.to_dict(),
            "refunds": self.refunds.to_dict(),
            "net_minor": self.net.minor,
        }


@dataclass(frozen=True, slots=True)
class CashierTotals:
    cashier_id: str
    name: str
    sales: Count
    refunds: Count
    voids: Count

    def to_dict(self) -> dict[str, Any]:
        return {
            "cashier_id": self.cashier_id,
            "name": self.name,
            "sales": self.sales.to_dict(),
            "refunds": self.refunds.to_dict(),
            "voids": self.voids.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class HourTotals:
    hour: int  # local hour of the day, 0-23
    sales: Count

    def to_dict(self) -> dict[str, Any]:
        return {"hour": self.hour, "sales": self.sales.to_dict()}


@dataclass(frozen=True, slots=True)
class CashDrawer:
    """Cash the drawer should hold against what was counted at close."""

    expected: Money
    counted: Money | None = None
    reason: str = ""

    @property
    def over_short(self) -> Money | None:
        return None if self.counted is None else self.counted - self.expected

    def to_dict(self) -> dict[str, Any]:
        over = self.over_short
        return {
            "expected_minor": self.expected.minor,
            "counted_minor": None if self.counted is None else self.counted.minor,
            "over_short_minor": None if over is None else over.minor,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class OfflineCards:
    """Card payments approved offline: sent on to the acquirer, or still waiting."""

    forwarded: Count
    pending: Count
    declined: Count

    def to_dict(self) -> dict[str, Any]:
        return {
            "forwarded": self.forwarded.to_dict(),
            "pending": self.pending.to_dict(),
            "declined": self.declined.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class JournalCheck:
    """The day's totals recomputed from the signed journal, against the tables."""

    first_seq: int | None
    last_seq: int | None
    entries: int
    sales: Count
    refunds: Count
    voids: int
    problems: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "entries": self.entries,
            "sales": self.sales.to_dict(),
            "refunds": self.refunds.to_dict(),
            "voids": self.voids,
            "agrees": self.agrees,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class SettlementReport:
    kind: str  # X | Z | daily
    business_date: str
    currency: str
    store_id: str
    terminal_id: str
    generated_at: datetime
    sales: Count  # paid orders and what they took
    gross: Money  # before any discount
    discounts: Money
    tax: Money  # on sales, before refunds
    refunds: Count
    voids: Count  # voided orders and what they came to
    void_returns: Money  # what voids after payment gave back
    tenders: tuple[TenderTotals, ...]
    tax_by_rate: tuple[RateTax, ...]  # net of refunds
    cashiers: tuple[CashierTotals, ...]
    hours: tuple[HourTotals, ...]
    cash: CashDrawer
    offline_cards: OfflineCards
    open_orders: int  # open or parked when the report was made
    journal: JournalCheck
    z_no: int | None = None
    closed_by: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def net(self) -> Money:
        """What the day took, less what it gave back."""
        return self.sales.amount - self.refunds.amount - self.void_returns

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "z_no": self.z_no,
            "business_date": self.business_date,
            "currency": self.currency,
            "store_id": self.store_id,
            "terminal_id": self.terminal_id,
            "generated_at": iso(self.generated_at),
            "closed_by": self.closed_by,
            "sales": self.sales.to_dict(),
            "gross_minor": self.gross.minor,
            "discounts_minor": self.discounts.minor,
            "tax_minor": self.tax.minor,
            "refunds": self.refunds.to_dict(),
            "voids": self.voids.to_dict(),
            "void_returns_minor": self.void_returns.minor,
            "net_minor": self.net.minor,
            "tenders": [t.to_dict() for t in self.tenders],
            "tax_by_rate": [t.to_dict() for t in self.tax_by_rate],
            "cashiers": [c.to_dict() for c in self.cashiers],
            "hours": [h.to_dict() for h in self.hours],
            "cash": self.cash.to_dict(),
            "offline_cards": self.offline_cards.to_dict(),
            "open_orders": self.open_orders,
            "journal": self.journal.to_dict(),
            "extra": dict(self.extra),
        }


# -- reading a stored report back (a closed day's Z) -------------------------------------


class _Reader:
    """Typed access to a stored report document; anything else is a clear error."""

    def __init__(self, currency: str) -> None:
        self.cur = currency

    def int_(self, d: Any, key: str) -> int:
        v = d.get(key) if isinstance(d, dict) else None
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"report field {key!r} is not an integer")
        return v

    def opt_int(self, d: Any, key: str) -> int | None:
        return None if d.get(key) is None else self.int_(d, key)

    def str_(self, d: Any, key: str) -> str:
        v = d.get(key) if isinstance(d, dict) else None
        if not isinstance(v, str):
            raise ValueError(f"report field {key!r} is not text")
        return v

    def money(self, d: Any, key: str) -> Money:
        return Money(self.int_(d, key), self.cur)

    def count(self, d: Any, key: str) -> Count:
        c = d.get(key)
        return Count(self.int_(c, "count"), self.money(c, "amount_minor"))

    def items(self, d: Any, key: str) -> list[Any]:
        v = d.get(key)
        if not isinstance(v, list):
            raise ValueError(f"report field {key!r} is not a list")
        return v


def report_from_dict(d: dict[str, Any]) -> SettlementReport:
    """The report `to_dict()` wrote; ValueError naming the field that is wrong."""
    r = _Reader(str(d.get("currency", "")))
    Money.zero(r.cur)
    cash, off, j = d.get("cash"), d.get("offline_cards"), d.get("journal")
    if not isinstance(cash, dict) or not isinstance(off, dict) or not isinstance(j, dict):
        raise ValueError("report is missing its cash, offline card or journal section")
    return SettlementReport(
        kind=r.str_(d, "kind"),
        business_date=r.str_(d, "business_date"),
        currency=r.cur,
        store_id=r.str_(d, "store_id"),
        terminal_id=r.str_(d, "terminal_id"),
        generated_at=parse_iso(r.str_(d, "generated_at")),
        sales=r.count(d, "sales"),
        gross=r.money(d, "gross_minor"),
        discounts=r.money(d, "discounts_minor"),
        tax=r.money(d, "tax_minor"),
        refunds=r.count(d, "refunds"),
        voids=r.count(d, "voids"),
        void_returns=r.money(d, "void_returns_minor"),
        tenders=tuple(
            TenderTotals(r.str_(t, "channel"), r.count(t, "payments"), r.count(t, "refunds"))
            for t in r.items(d, "tenders")
        ),
        tax_by_rate=tuple(
            RateTax(
                r.int_(t, "rate_bp"),
                r.money(t, "net_minor"),
                r.money(t, "tax_minor"),
                r.money(t, "gross_minor"),
            )
            for t in r.items(d, "tax_by_rate")
        ),
        cashiers=tuple(
            CashierTotals(
                r.str_(c, "cashier_id"),
                r.str_(c, "name"),
                r.count(c, "sales"),
                r.count(c, "refunds"),
                r.count(c, "voids"),
            )
            for c in r.items(d, "cashiers")
        ),
        hours=tuple(
            HourTotals(r.int_(h, "hour"), r.count(h, "sales")) for h in r.items(d, "hours")
        ),
        cash=CashDrawer(
            r.money(cash, "expected_minor"),
            None if cash.get("counted_minor") is None else r.money(cash, "counted_minor"),
            r.str_(cash, "reason"),
        ),
        offline_cards=OfflineCards(
            r.count(off, "forwarded"), r.count(off, "pending"), r.count(off, "declined")
        ),
        open_orders=r.int_(d, "open_orders"),
        journal=JournalCheck(
            r.opt_int(j, "first_seq"),
            r.opt_int(j, "last_seq"),
            r.int_(j, "entries"),
            r.count(j, "sales"),
            r.count(j, "refunds"),
            r.int_(j, "voids"),
            tuple(str(p) for p in r.items(j, "problems")),
        ),
        z_no=r.opt_int(d, "z_no"),
        closed_by=r.str_(d, "closed_by"),
        extra={str(k): str(v) for k, v in (d.get("extra") or {}).items()},
    )
