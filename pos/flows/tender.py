"""Taking money for one order, as a state machine: choose a tender, pass the
risk check, run the payment, and come back to choosing while anything is left
to pay (split tender).

A risk review names its step-ups, met one after another in STEP_UP: a
manager's PIN (`approve`), the shopper's ID checked (`confirm_id`: the
cashier confirms; at the kiosk an attendant with their PIN). "Online only"
is met by the online tenders (QR wallets, payment codes, the card, which the
card channel then approves online only); asked of cash, the flow stays in
CHOOSING, offers the online tenders and greys cash out with the reasons.

States: CHOOSING -> (STEP_UP ->) PAYING -> CHOOSING | PAID | UNRESOLVED.
A payment whose outcome does not come in time is let go (`released`): the
flow returns to CHOOSING at once with the attempt listed in `checking`, and
the till settles it in the background (query, then cancel or reverse; one
that proves paid after another tender covered the order is given back), so
the queue never waits on a gateway and a shopper is never charged twice.
UNRESOLVED is left only for a payment call that broke part-way: "check
again" (`resolve`) finds out from the gateway.

`prepare`, `run` and `resolve` block (risk, gateway, card); the UI calls them
on workers. `cancel` may be called from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from pos.events import StepUp
from pos.flows.cancel import CancelToken
from pos.flows.ports import (
    BackgroundChecks,
    NetworkState,
    PaymentEvents,
    PaymentPort,
    TenderRequest,
)
from pos.flows.text import NO_TEXT, FlowError, Said
from pos.flows.views import (
    Approval,
    ChannelInfo,
    OrderView,
    Outcome,
    RiskDecision,
    TenderResult,
)
from pos.messages import msg
from pos.money import Money


class TenderState(StrEnum):
    CHOOSING = "choosing"
    STEP_UP = "step_up"
    PAYING = "paying"
    PAID = "paid"
    UNRESOLVED = "unresolved"


# Notes a shopper hands over, in yuan; suggestions round the amount due up to them.
_CNY_NOTES = (1, 5, 10, 20, 50, 100)


def suggest_cash(due: Money, limit: int = 4) -> list[Money]:
    """The exact amount, then the amounts a shopper is likely to hand over for it
    (the due amount rounded up to 5, 10, 20, 50, 100 yuan notes and multiples)."""
    if due.minor <= 0:
        return []
    unit = 100 if due.currency in ("CNY", "HKD", "USD", "EUR") else 1
    seen: list[int] = [due.minor]
    for note in _CNY_NOTES:
        step = note * unit
        up = -(-due.minor // step) * step
        if up not in seen:
            seen.append(up)
    return [Money(m, due.currency) for m in sorted(seen)[: limit + 1]]


@dataclass
class Attempt:
    request: TenderRequest
    cancel: CancelToken = field(default_factory=CancelToken)
    qr_payload: str = ""
    expires_in_s: int = 0
    status: Said = NO_TEXT


class OnlineOnly(FlowError):
    """The risk rules want this sale paid online: cash is refused, the online
    tenders are offered."""


_BUSY = msg("till.flow.payment_running")
_UNRESOLVED = msg("till.flow.unresolved")


@dataclass(frozen=True)
class Background:
    """What the tender screen shows beside the tenders: online (None: the
    port cannot tell), and the let-go attempts still being checked."""

    online: bool | None
    checking: tuple[Said, ...] = ()


class TenderFlow:
    def __init__(self, order: OrderView, payments: PaymentPort, mode: str = "cashier") -> None:
        self.order = order
        self.mode = mode
        self._payments = payments
        self._lock = threading.Lock()
        self.state = TenderState.CHOOSING
        self.attempt: Attempt | None = None
        self.decision: RiskDecision | None = None
        self.last_result: TenderResult | None = None
        self._pending: list[str] = []  # step-ups still to meet, in STEP_UP
        # Set when the risk rules asked for an online payment: cash is greyed out.
        self.online_only: RiskDecision | None = None
        # Attempts let go of on this order, being settled in the background.
        self.checking: list[TenderResult] = []

    # -- what the screen shows --------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.state is TenderState.PAYING

    @property
    def paid(self) -> bool:
        return self.state is TenderState.PAID

    @property
    def remaining(self) -> Money:
        return self.order.remaining

    @property
    def step_up(self) -> str:
        """The step-up to meet now (manager_pin | check_id), in STEP_UP."""
        return self._pending[0] if self.state is TenderState.STEP_UP and self._pending else ""

    def channels(self) -> list[ChannelInfo]:
        offered = self._payments.channels(self.mode)
        if self.online_only is None:
            return offered
        why = _online_only_text(self.online_only)
        return [
            replace(ch, available=False, why_unavailable=why)
            if not set(ch.modes) & _ONLINE_MODES
            else ch
            for ch in offered
        ]

    def suggestions(self) -> list[Money]:
        return suggest_cash(self.remaining)

    def background(self) -> Background:
        """Whether the till is online and this order's attempts still being
        checked in the background, for the screen next to the tenders. Reads
        the store: run it on a worker."""
        p = self._payments
        online = p.network_up() if isinstance(p, NetworkState) else None
        checking = p.checking(self.order.order_id) if isinstance(p, BackgroundChecks) else []
        return Background(online, tuple(checking))

    # -- choosing -------------------------------------------------------------------
    def prepare(
        self,
        channel: str,
        mode: str,
        amount: Money | None = None,
        tendered: Money | None = None,
        auth_code: str = "",
    ) -> TenderRequest | None:
        """Check the tender and ask the risk engine. Returns the request to run,
        or None when a manager must approve first (state STEP_UP)."""
        with self._lock:
            if self.state is TenderState.PAYING:
                raise FlowError(_BUSY)
            if self.state is TenderState.UNRESOLVED:
                raise FlowError(_UNRESOLVED)
            if self.state is TenderState.PAID:
                raise FlowError(msg("till.flow.already_paid"))
            request = self._request(channel, mode, amount, tendered, auth_code)
        decision = self._payments.risk(request)
        with self._lock:
            self.decision = decision
            if decision.action == "block":
                reasons = decision.reasons or (msg("till.flow.risk_refused"),)
                raise FlowError(msg("till.flow.payment_refused", reasons=reasons))
            if decision.action == "review":
                steps = list(decision.step_ups or (decision.step_up,))
                if StepUp.ONLINE_ONLY in steps:
                    self.online_only = decision
                    raise OnlineOnly(_online_only_text(decision))
                self.attempt = Attempt(request)
                self._pending = steps
                self.state = TenderState.STEP_UP
                return None
            self.attempt = Attempt(request)
            self.state = TenderState.PAYING
            return request

    def _request(
        self,
        channel: str,
        mode: str,
        amount: Money | None,
        tendered: Money | None,
        auth_code: str,
    ) -> TenderRequest:
        due = self.remaining
        if mode == "cash":
            if tendered is None or tendered.minor <= 0:
                raise FlowError(msg("till.flow.enter_cash"))
            pay = min(tendered, due) if amount is None else amount
            return TenderRequest(self.order.order_id, channel, mode, pay, tendered=tendered)
        pay = due if amount is None else amount
        if pay.minor <= 0:
            raise FlowError(msg("till.flow.amount_positive"))
        if pay > due:
            raise FlowError(msg("till.flow.amount_over_due", due=due))
        if mode == "payment_code" and not auth_code.strip():
            raise FlowError(msg("till.flow.scan_payment_code"))
        return TenderRequest(self.order.order_id, channel, mode, pay, auth_code=auth_code.strip())

    def approve(self, approval: Approval) -> TenderRequest | None:
        """A manager approved with their PIN. Returns the request to run, or None
        while another step-up is still to meet."""
        return self._meet(StepUp.MANAGER_PIN, approval)

    def confirm_id(self, attendant: Approval | None = None) -> TenderRequest | None:
        """The shopper's ID was checked. At the counter the cashier confirms it;
        at the kiosk no shopper may confirm their own: an attendant's PIN must."""
        if self.mode == "kiosk" and attendant is None:
            raise FlowError(msg("till.flow.attendant_checks_id"))
        return self._meet(StepUp.CHECK_ID)

    def _meet(self, step: str, approval: Approval | None = None) -> TenderRequest | None:
        with self._lock:
            if self.state is not TenderState.STEP_UP or self.attempt is None:
                raise FlowError(msg("till.flow.nothing_to_approve"))
            if step not in self._pending:
                raise FlowError(msg("till.flow.step_not_asked"))
            self._pending.remove(step)
            request = self.attempt.request
            if step == StepUp.MANAGER_PIN:
                request = replace(request, approval=approval)
            else:
                request = replace(request, id_checked=True)
            self.attempt = Attempt(request)
            if self._pending:
                return None
            self.state = TenderState.PAYING
            return request

    def back(self) -> None:
        """Leave the step-up without paying."""
        with self._lock:
            if self.state is TenderState.STEP_UP:
                self.state = TenderState.CHOOSING
                self.attempt = None
                self._pending = []

    # -- paying ---------------------------------------------------------------------
    def run(self, events: PaymentEvents) -> TenderResult:
        with self._lock:
            if self.state is not TenderState.PAYING or self.attempt is None:
                raise FlowError(msg("till.flow.choose_payment"))
            attempt = self.attempt
        try:
            result = self._payments.pay(
                attempt.request, _Recording(attempt, events), attempt.cancel
            )
        except Exception:
            self._not_known()
            raise
        return self._settle(result)

    def _not_known(self) -> None:
        """The payment call failed part-way: whether money moved is not known
        here, so the sale waits for "check the payment again" (which finds out
        from the gateway) instead of staying busy or taking another tender."""
        with self._lock:
            self.state = TenderState.UNRESOLVED
            self.attempt = None

    def cancel(self) -> None:
        """Ask the running payment to stop; it cancels at the gateway or reader."""
        attempt = self.attempt
        if attempt is not None:
            attempt.cancel.cancel()

    def resolve(self) -> TenderResult:
        with self._lock:
            if self.state is not TenderState.UNRESOLVED:
                raise FlowError(msg("till.flow.nothing_to_check"))
            self.state = TenderState.PAYING
            token = CancelToken()
        try:
            result = self._payments.resolve(self.order.order_id, token)
        except Exception:
            self._not_known()
            raise
        return self._settle(result)

    def _settle(self, result: TenderResult) -> TenderResult:
        with self._lock:
            self.order = result.order
            self.last_result = result
            if result.released:
                if result.status is Outcome.UNKNOWN:
                    self.checking.append(result)
                self.state = TenderState.CHOOSING
            elif result.status is Outcome.UNKNOWN:
                self.state = TenderState.UNRESOLVED
            elif self.order.remaining.minor == 0 and self.order.paid.minor > 0:
                self.state = TenderState.PAID
            else:
                self.state = TenderState.CHOOSING
            self.attempt = None
            return result


_ONLINE_MODES = {"qr", "payment_code", "card"}


def _online_only_text(decision: RiskDecision) -> Said:
    if not decision.reasons:
        return msg("till.flow.online_only")
    return msg("till.flow.online_only_why", reasons=decision.reasons)


class _Recording:
    """Keeps the latest QR and status on the attempt, then passes them on."""

    def __init__(self, attempt: Attempt, events: PaymentEvents) -> None:
        self._attempt = attempt
        self._events = events

    def qr(self, payload: str, expires_in_s: int) -> None:
        self._attempt.qr_payload = payload
        self._attempt.expires_in_s = expires_in_s
        self._events.qr(payload, expires_in_s)

    def status(self, text: Said) -> None:
        self._attempt.status = text
        self._events.status(text)

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        return self._events.card_prompt(kind, options)
