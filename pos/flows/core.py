"""The flows' ports over the terminal's real services: the checkout service
(orders, tenders, refunds, journal), the user service (PINs, approvals), the
payment router (QR, payment code, card; unknown outcomes resolved), and an
optional risk check. The Qt app and the tests wire this; nothing here knows
about Qt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pos.auth import Approval
from pos.clock import parse_iso
from pos.errors import NotAllowed
from pos.events import StepUp
from pos.flows.cancel import CancelToken
from pos.flows.ports import (
    AttendantLamp,
    Discount,
    PaymentEvents,
    RefundRequest,
    TenderRequest,
)
from pos.flows.present import (
    notice_text,
    order_discount,
    order_view,
    product_hit,
    risk_note,
    settled_note,
    stored_view,
)
from pos.flows.text import NO_TEXT, Said, Text
from pos.flows.views import (
    ChannelInfo,
    LeftOpenView,
    OrderView,
    Outcome,
    ParkedView,
    ProductHit,
    RiskDecision,
    Session,
    TenderResult,
    TenderView,
)
from pos.messages import Message, msg
from pos.money import Money
from pos.order.tenders import CASH, Tender, channel_label
from pos.payments.channel import Notice, PaymentIntent, PaymentMode, PaymentStatus
from pos.payments.live import taking_payment
from pos.payments.router import PaymentOutcome, PaymentRouter
from pos.services.attendant import record_attendant_call
from pos.services.payments import (
    record_payment,
    recover_payments,
    router_refunds,
)
from pos.services.receipts import render_receipt
from pos.services.refunds import GiveBack
from pos.services.released import released_for_order, settle_released
from pos.services.risk_gate import Checked, RiskRefused, step_ups_met
from pos.services.terminal_services import TerminalServices

if TYPE_CHECKING:
    from pos.app import Till

# A risk check the composition root wires (the risk engine); None allows all.
RiskCheck = Callable[[TenderRequest, OrderView, str], RiskDecision]


class _Handler:
    """The router's PaymentHandler, speaking to the flow's PaymentEvents."""

    def __init__(self, events: PaymentEvents, cancel: CancelToken, expires_s: int) -> None:
        self._events = events
        self._cancel = cancel
        self._expires = expires_s

    def show_qr(self, payload: str) -> None:
        self._events.qr(payload, self._expires)

    def status(self, notice: Notice) -> None:
        self._events.status(notice_text(notice))

    def cancel_requested(self) -> bool:
        return self._cancel.cancelled


class CardPromptRelay:
    """The card reader's handler (drivers.handler.CardHandler's shape): what the
    reader asks goes to the PaymentEvents of the card payment now running, and
    its cancel token stops the wait for a card."""

    def __init__(self) -> None:
        self._events: PaymentEvents | None = None
        self._cancel: CancelToken | None = None

    def attach(self, events: PaymentEvents, cancel: CancelToken) -> None:
        self._events, self._cancel = events, cancel

    def detach(self) -> None:
        self._events, self._cancel = None, None

    def show_message(self, text: str) -> None:
        if self._events is not None:
            self._events.status(Text(text, text))

    def insert_card(self, reader: str, amount_text: str) -> None:
        if self._events is not None:
            self._events.card_prompt("insert")

    def choose_application(self, options: list[str]) -> int | None:
        if self._events is None:
            return 0
        chosen = self._events.card_prompt("choose_app", options)
        return None if chosen < 0 else chosen

    def remove_card(self, text: str) -> None:
        if self._events is not None:
            self._events.card_prompt("remove")

    def cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.cancelled


@dataclass
class CoreServices:
    """Implements AuthPort, CatalogLookup, CheckoutPort, PaymentPort and
    RefundPort over one opened terminal."""

    services: TerminalServices
    router: PaymentRouter | None = None
    risk_check: RiskCheck | None = None
    # Channels named here are offered greyed out, with the reason (no reader ...).
    unavailable: Mapping[str, Said] = field(default_factory=dict)
    receipt_locale: str = "zh"
    card_prompts: CardPromptRelay = field(default_factory=CardPromptRelay)
    # The till's "work soon" (its background resolver of let-go payments, sync).
    nudge: Callable[[], None] = lambda: None
    # Whether the till is online (the sync link and the channels' breakers).
    online: Callable[[], bool] = lambda: True
    lamp: AttendantLamp | None = None  # the kiosk's tower lamp, from the drivers

    @classmethod
    def on(
        cls,
        till: Till,
        unavailable: Mapping[str, Said] | None = None,
        card_prompts: CardPromptRelay | None = None,
    ) -> CoreServices:
        """The flows' ports over an opened till: its router, and its receipt
        language from the printer settings."""
        return cls(
            till.services,
            till.router,
            None,
            dict(unavailable or {}),
            till.printer.locale,
            card_prompts or CardPromptRelay(),
            till.nudge,
            till.connectivity,
        )

    # -- AuthPort ----------------------------------------------------------------------
    def login(self, pin: str) -> Session:
        user = self.services.users.login_by_pin(pin)
        return Session(user.user_id, user.name, user.role)

    def approve(self, pin: str, action: str, reason: str = "") -> Approval:
        return self.services.users.approval_by_pin(pin, action, reason)

    # -- CatalogLookup -------------------------------------------------------------------
    def search(self, text: str, limit: int = 20) -> list[ProductHit]:
        return [product_hit(p) for p in self.services.checkout.search(text, limit)]

    # -- CheckoutPort --------------------------------------------------------------------
    def new_order(self, session: Session, mode: str) -> OrderView:
        return order_view(self.services.checkout.new_order(session.user_id, mode))

    def scan(self, order_id: str, code: str) -> OrderView:
        return order_view(self.services.checkout.scan(order_id, code))

    def add_item(
        self, order_id: str, sku: str, quantity: int = 1, grams: int | None = None
    ) -> OrderView:
        return order_view(self.services.checkout.add_item(order_id, sku, quantity, grams))

    def set_quantity(self, order_id: str, line_id: str, quantity: int) -> OrderView:
        return order_view(self.services.checkout.set_quantity(order_id, line_id, quantity))

    def discount_line(
        self, order_id: str, line_id: str, discount: Discount, approval: Approval | None
    ) -> OrderView:
        d = order_discount(discount, approval)
        return order_view(self.services.checkout.discount_line(order_id, line_id, d))

    def discount_order(
        self, order_id: str, discount: Discount, approval: Approval | None
    ) -> OrderView:
        d = order_discount(discount, approval)
        return order_view(self.services.checkout.discount_order(order_id, d))

    def void_line(self, order_id: str, line_id: str) -> OrderView:
        return order_view(self.services.checkout.void_line(order_id, line_id))

    def park(self, order_id: str) -> None:
        self.services.checkout.park(order_id)

    def _local_hhmm(self, stamp: str) -> str:
        return parse_iso(stamp).astimezone(self.services.checkout.timezone).strftime("%H:%M")

    def parked(self) -> list[ParkedView]:
        out = []
        for s in self.services.checkout.parked():
            v = stored_view(s)
            out.append(
                ParkedView(v.order_id, self._local_hhmm(s.updated_at), v.total, v.item_count)
            )
        return out

    def open_orders(self) -> list[LeftOpenView]:
        return [
            LeftOpenView(stored_view(s), self._local_hhmm(s.updated_at), s.mode)
            for s in self.services.checkout.open_orders()
        ]

    def resume(self, order_id: str) -> OrderView:
        return order_view(self.services.checkout.resume(order_id))

    def void_order(self, order_id: str, approval: Approval | None, reason: str = "") -> OrderView:
        return order_view(
            self.services.checkout.void(order_id, approval, reason, gateway=self._give_back)
        )

    def get(self, order_id: str) -> OrderView:
        return stored_view(self.services.checkout.get(order_id))

    def find_receipt(self, receipt_no: str) -> OrderView:
        return stored_view(self.services.checkout.find(receipt_no))

    def receipt_text(self, order_id: str, width: int = 42) -> str:
        return render_receipt(self.services, order_id, width, self.receipt_locale)

    # -- PaymentPort ---------------------------------------------------------------------
    def channels(self, mode: str) -> list[ChannelInfo]:
        out = [ChannelInfo("cash", channel_label("cash"), ("cash",))]
        names = self.router.channel_names if self.router is not None else []
        for name in names:
            if name == CASH:
                continue
            caps = self.router.channel(name).capabilities()  # type: ignore[union-attr]
            modes = tuple(m.value for m in sorted(caps.modes, key=lambda m: m.value))
            up = name in self.router.available()  # type: ignore[union-attr]
            down = None if up else msg("till.flow.channel_down")
            if caps.needs_network and not up:
                # Its breaker is open: the platform did not answer lately.
                down = msg("uncertain.tender_needs_network", channel=channel_label(name))
            out.append(ChannelInfo(name, channel_label(name), modes, up, down))
        for name, why in self.unavailable.items():
            if name not in names:
                out.append(ChannelInfo(name, channel_label(name), (name,), False, why))
        return out

    def risk(self, request: TenderRequest) -> RiskDecision:
        """The risk engine's decision before any money moves. A review names the
        step-ups still to meet; the flow meets them, and `pay` checks again."""
        try:
            self._check(request)
        except RiskRefused as refused:
            d = refused.decision
            reasons = tuple(Text(r.zh, r.en) for r in d.reasons)
            if d.action == "block":
                return RiskDecision("block", reasons)
            # Only an offline tender can miss "online only", and nothing else
            # at the till helps it: say that first.
            steps = sorted(refused.missing, key=lambda s: s != StepUp.ONLINE_ONLY)
            return RiskDecision("review", reasons, steps[0] if steps else "", tuple(steps))
        return RiskDecision("allow")

    def _check(self, request: TenderRequest) -> Checked | None:
        return self.services.checkout.check_tender(
            request.order_id,
            request.channel,
            request.amount,
            mode=self.services.checkout.get(request.order_id).mode,
            satisfied=step_ups_met(
                request.mode, manager=request.approval is not None, id_checked=request.id_checked
            ),
        )

    def pay(
        self, request: TenderRequest, events: PaymentEvents, cancel: CancelToken
    ) -> TenderResult:
        checked = self._check(request)
        return replace(self._pay(request, checked, events, cancel), risk=risk_note(checked))

    def _pay(
        self,
        request: TenderRequest,
        checked: Checked | None,
        events: PaymentEvents,
        cancel: CancelToken,
    ) -> TenderResult:
        mode = PaymentMode(request.mode)
        if mode is PaymentMode.CASH:
            return self._pay_cash(request, checked, _Handler(events, cancel, 0))
        router = self._router(request.channel)
        # Held from opening the attempt until the sale commits, so start-up
        # recovery in another window never cancels a payment under way.
        with taking_payment(self.services.terminal.data_dir):
            intent = router.open(request.order_id, request.channel, request.amount, mode)
            expires = int(router.channel(request.channel).capabilities().payment_timeout)
            if mode is PaymentMode.CARD:
                self.card_prompts.attach(events, cancel)
            kiosk = self.services.checkout.get(request.order_id).mode == "kiosk"
            hold = router.policy.kiosk_hold_s if kiosk else router.policy.hold_s
            try:
                outcome = router.run(
                    intent, _Handler(events, cancel, expires), request.auth_code or None, hold
                )
            finally:
                self.card_prompts.detach()
            if outcome.released:
                self.nudge()  # the background resolver starts on it now
            return self._settled(request.order_id, outcome.intent, outcome, checked)

    def _pay_cash(
        self, request: TenderRequest, checked: Checked | None, handler: _Handler
    ) -> TenderResult:
        """Cash through its own channel (the drawer is the provider): the
        attempt is recorded like any other payment, then the tender with the
        change."""
        handed = request.tendered or request.amount
        due = min(handed, request.amount)
        intent_id = None
        if self.router is not None and CASH in self.router.channel_names:
            intent = self.router.open(request.order_id, CASH, due, PaymentMode.CASH)
            outcome = self.router.run(intent, handler, None)
            if not outcome.paid:
                return self._settled(request.order_id, outcome.intent, outcome, checked)
            intent_id = outcome.intent.intent_id
        receipt = self.services.checkout.take_tender(
            request.order_id, Tender(CASH, due, tendered=handed), intent_id=intent_id, risk=checked
        )
        view = order_view(receipt.order, receipt.receipt_no)
        change = receipt.order.tenders[-1].change
        return TenderResult(Outcome.SUCCEEDED, view, msg("till.flow.paid"), change=change)

    def resolve(self, order_id: str, cancel: CancelToken) -> TenderResult:
        """Settle what is open on this order within the till's hold: attempts let
        go of (attached, closed or given back), then any other open attempt;
        one still without an answer is let go too, so this never holds the till
        longer than the hold either."""
        router = self._router("")
        until = self.services.checkout.clock.monotonic() + router.policy.hold_s
        self.settle_released(order_id, until, attach=True)
        unknown: PaymentIntent | None = None
        for intent in router.intents.payments_for_order(order_id):
            if intent.status.is_final or intent.released:
                continue
            outcome = router.settle(intent, until)
            if outcome.released:
                self.nudge()
            elif outcome.intent.status is PaymentStatus.UNKNOWN:
                unknown = outcome.intent
        recorded = {r.get("intent_id") for r in self.services.checkout.tenders(order_id)}
        taken = [
            i
            for i in router.intents.payments_for_order(order_id)
            if i.status is PaymentStatus.SUCCEEDED and i.intent_id not in recorded
        ]
        if taken:
            return self._settled(order_id, taken[0], None)
        if unknown is not None:
            return self._settled(order_id, unknown, None)
        checking = released_for_order(router, order_id)
        if checking:
            i = checking[0]
            note = msg(
                "uncertain.counter.checking", channel=channel_label(i.channel), amount=i.amount
            )
            return TenderResult(Outcome.UNKNOWN, self.get(order_id), note, released=True)
        return TenderResult(
            Outcome.CANCELLED,
            self.get(order_id),
            msg("till.flow.no_money_taken"),
        )

    def settle_released(
        self, order_id: str | None = None, until: float | None = None, attach: bool = False
    ) -> list[Message]:
        """Settle attempts the till let go of (of `order_id`, or all) until
        `until` (monotonic); one that proves paid is given back, or with
        `attach` becomes its order's tender when the order still owes it.
        Returns how each that ended did, for the manager."""
        if self.router is None:
            return []
        ends = settle_released(
            self.services.checkout, self.router, order_id=order_id, until=until, attach=attach
        )
        return [settled_note(e.intent, e.action) for e in ends]

    def released_open(self) -> int:
        """Attempts still being checked in the background, on every order."""
        return 0 if self.router is None else len(self.router.intents.released_open())

    def recover(self) -> list[Said]:
        """At start-up: settle payments a crash left open (the router queries,
        then cancels or reverses), and give every open sale the payments its
        gateway took but the till never recorded; one that no longer fits its
        sale goes back to the shopper. Returns what the manager should read."""
        if self.router is None:
            return []
        notes: list[Said] = list(self.settle_released())
        report = recover_payments(self.services, self.router)
        for stray in report.strays:
            i = stray.intent
            if stray.action == "attached":
                notes.append(msg("till.flow.stray_attached", amount=i.amount, order_id=i.order_id))
            elif stray.action == "refunded":
                notes.append(msg("till.flow.stray_refunded", amount=i.amount))
        notes += [msg("till.flow.to_settle", problem=p) for p in report.problems]
        return notes

    def _settled(
        self,
        order_id: str,
        intent: PaymentIntent,
        outcome: PaymentOutcome | None,
        checked: Checked | None = None,
    ) -> TenderResult:
        message = notice_text(outcome.notice) if outcome is not None else NO_TEXT
        if intent.status.took_money:
            receipt = record_payment(self.services.checkout, order_id, intent, outcome, checked)
            view = order_view(receipt.order, receipt.receipt_no)
            return TenderResult(Outcome.SUCCEEDED, view, message, intent.channel_ref)
        view = self.get(order_id)
        if outcome is not None and outcome.released:
            # Let go: the order may take another tender now; a QR code that
            # never reached the shopper is known unpaid.
            status = Outcome.FAILED if outcome.never_shown else Outcome.UNKNOWN
            return TenderResult(status, view, message, released=True)
        if intent.status is PaymentStatus.UNKNOWN:
            return TenderResult(Outcome.UNKNOWN, view, message)
        code = outcome.notice.code if outcome is not None else ""
        if code.endswith("cashier_cancelled"):
            return TenderResult(Outcome.CANCELLED, view, message)
        if code.endswith("timeout"):
            return TenderResult(Outcome.TIMED_OUT, view, message)
        return TenderResult(Outcome.FAILED, view, message)

    def _router(self, channel: str) -> PaymentRouter:
        if self.router is None:
            why = self.unavailable.get(channel)
            raise NotAllowed(
                msg(
                    "till.flow.not_set_up",
                    channel=channel_label(channel),
                    why=why if why is not None else msg("till.flow.set_up_channel"),
                )
            )
        return self.router

    # -- AttendantPort and what the manager reads ------------------------------------------
    def call_attendant(self, reason: str, order_id: str = "") -> None:
        record_attendant_call(
            self.services.terminal.db, self.services.terminal.journal, reason, order_id
        )
        if self.lamp is not None:
            self.lamp.call(reason)
        self.nudge()  # the sync worker takes the call to the server now

    def attendant_came(self) -> None:
        if self.lamp is not None:
            self.lamp.clear()

    def money_uncertain(self, order_id: str) -> bool:
        return self.router is not None and bool(released_for_order(self.router, order_id))

    def network_up(self) -> bool:
        return self.online()

    def checking(self, order_id: str) -> list[Said]:
        if self.router is None:
            return []
        return [
            msg("gaps.tender.checking", channel=channel_label(i.channel), amount=i.amount)
            for i in released_for_order(self.router, order_id)
        ]

    # -- RefundPort ------------------------------------------------------------------------
    def refundable(self, order_id: str) -> Money:
        order = self.services.checkout.get(order_id).order
        return order.paid - order.refunded

    def refund(
        self, request: RefundRequest, approval: Approval, cancel: CancelToken
    ) -> TenderResult:
        checkout = self.services.checkout
        stored = checkout.get(request.order_id)
        lines = None
        if request.line_ids:
            lines = {lid: stored.order.line(lid).refund_units for lid in request.line_ids}
        if request.quantities:
            lines = dict(request.quantities)
        order, refund = checkout.refund(
            request.order_id,
            approval=approval,
            cashier_id=request.cashier_id or approval.user_id,
            lines=lines,
            amount=None if lines else request.amount,
            reason=request.reason,
            gateway=self._give_back,
            has_receipt=request.has_receipt,
        )
        view = order_view(order, stored.receipt_no)
        back = tuple(TenderView(t.channel, t.amount) for t in refund.tenders)
        return TenderResult(
            Outcome.SUCCEEDED, view, msg("till.flow.refunded"), refund.refund_id, given_back=back
        )

    def _give_back(self, part: GiveBack) -> str:
        """Money back on the tender's own channel, through the router."""
        return router_refunds(self._router(part.channel), self.services.checkout)(part)
