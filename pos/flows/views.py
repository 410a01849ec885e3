"""Immutable snapshots the flows hand to screens. Screens redraw from these and
never reach into the services, so a snapshot can cross threads safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pos.auth import Approval as Approval  # the core's, re-exported for screens
from pos.auth import Role as Role
from pos.flows.text import NO_TEXT, Said
from pos.money import Money


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in at this till."""

    user_id: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class ProductHit:
    sku: str
    name_zh: str
    name_en: str
    unit_price: Money
    sold_by_weight: bool = False
    barcode: str = ""

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class LineView:
    line_id: str
    sku: str
    name_zh: str
    name_en: str
    quantity: int
    unit_price: Money
    discount: Money
    total: Money
    grams: int | None = None

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class TenderView:
    channel: str
    amount: Money
    tendered: Money | None = None
    change: Money | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True)
class OrderView:
    order_id: str
    state: str
    lines: tuple[LineView, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    paid: Money
    change: Money
    tenders: tuple[TenderView, ...] = ()
    receipt_no: str = ""
    refunded: Money | None = None

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def remaining(self) -> Money:
        left = self.total - self.paid
        return left if left.minor > 0 else Money.zero(self.currency)

    @property
    def item_count(self) -> int:
        return sum(1 if ln.grams is not None else ln.quantity for ln in self.lines)

    def line(self, line_id: str) -> LineView:
        for ln in self.lines:
            if ln.line_id == line_id:
                return ln
        raise KeyError(line_id)


@dataclass(frozen=True, slots=True)
class ParkedView:
    order_id: str
    parked_at: str
    total: Money
    item_count: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class LeftOpenView:
    """A sale the checkout left open (a crash, a closed window), with its lines
    and whatever was already paid, offered back at login."""

    order: OrderView
    left_at: str  # local HH:MM of its last change
    mode: str  # cashier | kiosk


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RiskNote:
    """The risk decision a tender went through, as the front ends report it."""

    action: str
    rule_ids: tuple[str, ...] = ()
    reasons: tuple[Said, ...] = ()
    step_ups_met: tuple[str, ...] = ()
    score: int = 0


@dataclass(frozen=True, slots=True)
class TenderResult:
    status: Outcome
    order: OrderView
    message: Said = NO_TEXT
    reference: str = ""
    change: Money | None = None
    risk: RiskNote | None = None
    given_back: tuple[TenderView, ...] = ()  # a refund: what went back on which channel
    # The till let go of the attempt: another tender may be taken now, and the
    # attempt is settled in the background (given back if it proves paid).
    released: bool = False


@dataclass(frozen=True, slots=True)
class RiskDecision:
    action: str  # allow | review | block
    reasons: tuple[Said, ...] = ()
    step_up: str = ""  # manager_pin | check_id | online_only when action is review
    step_ups: tuple[str, ...] = ()  # every step-up still to meet, step_up first

    @property
    def allowed(self) -> bool:
        return self.action == "allow"


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A tender the terminal offers now, or says why it cannot."""

    channel: str
    label: Said
    modes: tuple[str, ...]  # qr, payment_code, card, cash
    available: bool = True
    why_unavailable: Said | None = None


@dataclass(frozen=True, slots=True)
class CashCount:
    """Notes and coins counted in the drawer: denomination (minor units) -> count."""

    currency: str
    counts: dict[int, int] = field(default_factory=dict)

    def total(self) -> Money:
        return Money(sum(d * n for d, n in self.counts.items()), self.currency)


@dataclass(frozen=True, slots=True)
class Table:
    """Rows for a review screen (refunds and voids, offline card queue, risk
    decisions): headers in both languages; cells are text (numbers, ids) or
    words in both languages."""

    headers: tuple[Said, ...]
    rows: tuple[tuple[str | Said, ...], ...] = ()  # words as messages, the rest as text


@dataclass(frozen=True, slots=True)
class ZView:
    """The day's Z report as the manager screen draws it."""

    business_date: str
    sales_count: int
    gross: Money
    refunds: Money
    net: Money
    by_hour: tuple[tuple[int, Money], ...] = ()
    by_channel: tuple[tuple[str, Money], ...] = ()
    tax_by_rate: tuple[tuple[int, Money], ...] = ()
    z_number: int | None = None
