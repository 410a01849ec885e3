"""Small in-memory stand-ins for the checkout services, used by the flow tests
until the real services land. Orders are plain sums (tax 0) so the tests read
simply; payments follow a script of outcomes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pos.auth import NeedsApproval
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.flows.cancel import CancelToken
from pos.flows.ports import Discount, PaymentEvents, Progress, RefundRequest, TenderRequest
from pos.flows.text import Text
from pos.flows.views import (
    Approval,
    CashCount,
    ChannelInfo,
    LeftOpenView,
    LineView,
    OrderView,
    Outcome,
    ParkedView,
    ProductHit,
    RiskDecision,
    Role,
    Session,
    TenderResult,
    TenderView,
)
from pos.money import Money

PRODUCTS = {
    "6901234567892": ProductHit("COLA", "可乐", "Cola", Money(350), barcode="6901234567892"),
    "6909876543217": ProductHit("CHIPS", "薯片", "Crisps", Money(890), barcode="6909876543217"),
}
ZERO = Money(0)

CASHIER = Session("u1", "Li Lei", Role.CASHIER)
MANAGER_OK = Approval("m1", Role.MANAGER, "any")


class Events:
    def __init__(self) -> None:
        self.qrs: list[str] = []
        self.statuses: list[Text] = []
        self.prompts: list[str] = []

    def qr(self, payload: str, expires_in_s: int) -> None:
        self.qrs.append(payload)

    def status(self, text: Text) -> None:
        self.statuses.append(text)

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        self.prompts.append(kind)
        return 0


def cash_in_part(flow: Any, codes: Sequence[str], cash: Money) -> str:
    """Ring up `codes` on `flow` and take `cash` of the total in cash; the sale
    stays open with the rest due. Returns its order id."""
    for code in codes:
        flow.scan(code)
    tender = flow.start_tender()
    tender.prepare("cash", "cash", tendered=cash)
    tender.run(Events())
    return str(tender.order.order_id)


@dataclass
class _Order:
    order_id: str
    state: str = "open"
    lines: list[LineView] = field(default_factory=list)
    tenders: list[TenderView] = field(default_factory=list)
    refunded: int = 0
    receipt_no: str = ""


class FakeCheckout:
    def __init__(self) -> None:
        self.orders: dict[str, _Order] = {}
        self._ids = itertools.count(1)
        self._lines = itertools.count(1)
        self.max_discount_bp = 2000

    def view(self, o: _Order) -> OrderView:
        sub = sum(ln.unit_price.minor * ln.quantity for ln in o.lines)
        disc = sum(ln.discount.minor for ln in o.lines)
        paid = sum(t.amount.minor for t in o.tenders)
        change = sum((t.change or ZERO).minor for t in o.tenders)
        return OrderView(
            o.order_id,
            o.state,
            tuple(o.lines),
            Money(sub),
            Money(disc),
            ZERO,
            Money(sub - disc),
            Money(paid),
            Money(change),
            tuple(o.tenders),
            o.receipt_no,
            Money(o.refunded),
        )

    def _get(self, order_id: str) -> _Order:
        try:
            return self.orders[order_id]
        except KeyError:
            raise NotFound(f"no order {order_id}") from None

    def _open(self, order_id: str) -> _Order:
        o = self._get(order_id)
        if o.state != "open":
            raise NotAllowed(f"cannot change a {o.state} order")
        return o

    def new_order(self, session: Session, mode: str) -> OrderView:
        o = _Order(f"o{next(self._ids)}")
        self.orders[o.order_id] = o
        return self.view(o)

    def scan(self, order_id: str, code: str) -> OrderView:
        if not code.isdigit():
            raise InvalidInput(f"not a barcode: {code!r}")
        hit = PRODUCTS.get(code)
        if hit is None:
            raise NotFound(f"no product with barcode {code}")
        return self.add_item(order_id, hit.sku)

    def add_item(self, order_id: str, sku: str, quantity: int = 1) -> OrderView:
        o = self._open(order_id)
        hit = next(h for h in PRODUCTS.values() if h.sku == sku)
        for i, ln in enumerate(o.lines):
            if ln.sku == sku:
                q = ln.quantity + quantity
                o.lines[i] = replace(ln, quantity=q, total=ln.unit_price.times(q) - ln.discount)
                return self.view(o)
        o.lines.append(
            LineView(
                f"l{next(self._lines)}",
                sku,
                hit.name_zh,
                hit.name_en,
                quantity,
                hit.unit_price,
                ZERO,
                hit.unit_price.times(quantity),
            )
        )
        return self.view(o)

    def set_quantity(self, order_id: str, line_id: str, quantity: int) -> OrderView:
        o = self._open(order_id)
        o.lines = [
            replace(ln, quantity=quantity, total=ln.unit_price.times(quantity) - ln.discount)
            if ln.line_id == line_id
            else ln
            for ln in o.lines
        ]
        return self.view(o)

    def discount_line(
        self, order_id: str, line_id: str, discount: Discount, approval: Approval | None
    ) -> OrderView:
        o = self._open(order_id)
        if discount.basis_points and discount.basis_points > self.max_discount_bp and not approval:
            raise NeedsApproval("a discount over 20% needs a manager")
        out = []
        for ln in o.lines:
            if ln.line_id == line_id:
                gross = ln.unit_price.times(ln.quantity)
                d = gross.scale(discount.basis_points or 0, 10000)
                ln = replace(ln, discount=d, total=gross - d)
            out.append(ln)
        o.lines = out
        return self.view(o)

    def void_line(self, order_id: str, line_id: str) -> OrderView:
        o = self._open(order_id)
        o.lines = [ln for ln in o.lines if ln.line_id != line_id]
        return self.view(o)

    def park(self, order_id: str) -> None:
        self._open(order_id).state = "parked"

    def parked(self) -> list[ParkedView]:
        return [
            ParkedView(o.order_id, "", self.view(o).total, self.view(o).item_count)
            for o in self.orders.values()
            if o.state == "parked"
        ]

    def resume(self, order_id: str) -> OrderView:
        o = self._get(order_id)
        if o.state != "parked":
            raise NotAllowed("only a parked order can be resumed")
        o.state = "open"
        return self.view(o)

    def open_orders(self) -> list[LeftOpenView]:
        return [
            LeftOpenView(self.view(o), "09:30", "cashier")
            for o in self.orders.values()
            if o.state == "open"
        ]

    def void_order(self, order_id: str, approval: Approval | None) -> OrderView:
        o = self._get(order_id)
        if o.tenders and approval is None:
            raise NotAllowed("needs a manager")
        o.state = "voided"
        return self.view(o)

    def get(self, order_id: str) -> OrderView:
        return self.view(self._get(order_id))

    def find_receipt(self, receipt_no: str) -> OrderView:
        for o in self.orders.values():
            if o.receipt_no == receipt_no:
                return self.view(o)
        raise NotFound(f"no receipt {receipt_no}")

    def receipt_text(self, order_id: str, width: int = 42) -> str:
        v = self.get(order_id)
        return "\n".join(f"{ln.name_en:<20}{ln.total.amount_text():>10}" for ln in v.lines)

    def take(self, order_id: str, tender: TenderView) -> OrderView:
        o = self._open(order_id)
        o.tenders.append(tender)
        v = self.view(o)
        if v.paid >= v.total:
            o.state = "paid"
            o.receipt_no = f"R{len(self.orders):04d}"
        return self.view(o)


class FakeCatalog:
    def search(self, text: str, limit: int = 20) -> list[ProductHit]:
        t = text.lower()
        hits = [h for h in PRODUCTS.values() if t in h.name_en.lower() or t in h.name_zh]
        return hits[:limit]


class FakePayments:
    """Runs cash for real (change), and QR/code/card tenders by a script of
    outcomes, honouring the cancel token as a gateway cancel would."""

    def __init__(self, checkout: FakeCheckout) -> None:
        self.checkout = checkout
        self.script: list[Outcome] = []
        self.risk_action = "allow"
        self.step_ups: tuple[str, ...] = ("manager_pin",)  # what a review asks for
        self.cancelled_at_gateway: list[str] = []
        self.requests: list[TenderRequest] = []
        self.wait_for_cancel: Any = None  # a threading.Event the test sets to let pay return
        self.fail_with: list[Exception] = []  # raised by the next calls, one each

    def channels(self, mode: str) -> list[ChannelInfo]:
        return [
            ChannelInfo("cash", Text("现金", "Cash"), ("cash",)),
            ChannelInfo("alipay", Text("支付宝", "Alipay"), ("qr", "payment_code")),
            ChannelInfo("wechat", Text("微信支付", "WeChat Pay"), ("qr", "payment_code")),
        ]

    def risk(self, request: TenderRequest) -> RiskDecision:
        reasons = (Text("金额超过限额", "amount over the limit"),)
        if self.risk_action != "review":
            return RiskDecision(self.risk_action, reasons)
        missing = tuple(
            s
            for s in self.step_ups
            if not (s == "manager_pin" and request.approval)
            and not (s == "check_id" and request.id_checked)
            and not (s == "online_only" and request.mode != "cash")
        )
        if not missing:
            return RiskDecision("allow")
        return RiskDecision("review", reasons, missing[0], missing)

    def pay(
        self, request: TenderRequest, events: PaymentEvents, cancel: CancelToken
    ) -> TenderResult:
        self.requests.append(request)
        if self.fail_with:
            raise self.fail_with.pop(0)
        if request.mode == "cash":
            assert request.tendered is not None
            change = (
                request.tendered - request.amount if request.tendered > request.amount else ZERO
            )
            view = self.checkout.take(
                request.order_id, TenderView("cash", request.amount, request.tendered, change)
            )
            return TenderResult(Outcome.SUCCEEDED, view, change=change)
        if request.mode == "qr":
            events.qr(f"https://qr.example/{request.order_id}", 120)
        events.status(Text("等待顾客付款", "Waiting for the shopper"))
        if self.wait_for_cancel is not None:
            self.wait_for_cancel.wait(5)
        outcome = self.script.pop(0) if self.script else Outcome.SUCCEEDED
        if cancel.cancelled:
            self.cancelled_at_gateway.append(request.order_id)
            outcome = Outcome.CANCELLED
        view = self.checkout.get(request.order_id)
        if outcome is Outcome.SUCCEEDED:
            view = self.checkout.take(request.order_id, TenderView(request.channel, request.amount))
        return TenderResult(outcome, view, Text("结果", f"result {outcome}"))

    def resolve(self, order_id: str, cancel: CancelToken) -> TenderResult:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.cancelled_at_gateway.append(order_id)
        return TenderResult(Outcome.CANCELLED, self.checkout.get(order_id))


class FakeRefunds:
    def __init__(self, checkout: FakeCheckout) -> None:
        self.checkout = checkout

    def refundable(self, order_id: str) -> Money:
        v = self.checkout.get(order_id)
        return v.total - Money(self.checkout.orders[order_id].refunded)

    def refund(
        self, request: RefundRequest, approval: Approval, cancel: CancelToken
    ) -> TenderResult:
        o = self.checkout.orders[request.order_id]
        amount = request.amount or Money(
            sum(ln.total.minor for ln in o.lines if ln.line_id in request.line_ids)
        )
        o.refunded += amount.minor
        o.state = (
            "refunded" if o.refunded >= self.checkout.view(o).total.minor else "partly_refunded"
        )
        return TenderResult(Outcome.SUCCEEDED, self.checkout.view(o))


class FakeDayClose:
    def __init__(self) -> None:
        self.closed: list[tuple[str, CashCount, str, str]] = []

    def business_date(self) -> str:
        return "2026-01-05"

    def expected_cash(self, business_date: str) -> Money:
        return Money(123_450)

    def denominations(self, currency: str) -> list[int]:
        return [10000, 5000, 2000, 1000, 500, 100, 50, 10]

    def close_day(
        self, business_date: str, counted: CashCount, reason: str, approval: Approval
    ) -> dict[str, Any]:
        self.closed.append((business_date, counted, reason, approval.user_id))
        return {"business_date": business_date, "counted_minor": counted.total().minor}

    def export(
        self, business_date: str, fmt: str, out: Path, progress: Progress, cancel: CancelToken
    ) -> Path:
        for i in range(3):
            cancel.raise_if_cancelled()
            progress(i + 1, 3)
        out.write_text(f"{fmt} {business_date}")
        return out


def card_options(options: Sequence[str]) -> int:
    return 0
