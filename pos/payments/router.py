"""The payment router: picks the channel for a tender, runs a payment to a final
status, resolves outcomes it cannot know, and refunds through the original
channel.

Contract with the checkout service (blocking, Qt-free; the Qt app runs the
same calls on a worker thread):

1. ``intent = router.open(order_id, channel, amount, mode)`` persists the
   intent with its out_trade_no before anything is sent. It refuses while the
   order has another open attempt, or while the channel's breaker is open.
2. ``outcome = router.run(intent, handler, auth_code=None)`` drives the
   channel: start, show the QR through ``handler.show_qr``, poll at the
   channel's interval, report progress through ``handler.status``, honour
   ``handler.cancel_requested()`` between polls, cancel at the payment
   timeout. Unknown outcomes are resolved by query with backoff, then
   cancel/reverse. The outcome is final unless even that could not reach the
   provider (``outcome.intent.status == UNKNOWN``): then no other payment may
   be taken for the order, and ``resolve``/``recover`` keep chasing it.
3. On ``outcome.paid`` the checkout commits order + tender (with
   ``intent.intent_id`` and ``intent.channel_ref``) + journal in one
   transaction.
4. ``router.alternatives(intent)`` lists other channels to offer, and is
   empty unless the intent is known not to have taken money.
5. ``router.refund(intent, amount, reason)`` refunds through the intent's
   own channel, with out_refund_no persisted first.
6. ``router.recover()`` at start-up resolves every intent and refund left
   open by a crash. An intent that turns out SUCCEEDED for an order the
   checkout never committed is returned in the report; the checkout decides
   (attach it to the resumed order, or refund it).

``pay()`` is open + run for callers that want one call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from pos.clock import Clock
from pos.errors import NotFound
from pos.messages import msg
from pos.money import Money
from pos.payments.breaker import BreakerPolicy, CircuitBreaker
from pos.payments.channel import (
    ChannelResult,
    Notice,
    PaymentChannel,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.errors import PaymentError, explain, notice, notice_with
from pos.payments.intents import IntentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolutionPolicy:
    """How unknown outcomes are chased: query/cancel rounds with exponential backoff."""

    first_backoff: float = 1.0
    max_backoff: float = 30.0
    settle_rounds: int = 8  # cancel+query rounds before giving up for now (stays UNKNOWN)
    refund_rounds: int = 8
    slice: float = 0.25  # how often a waiting payment looks at the cancel button


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    intent: PaymentIntent
    notice: Notice
    last: ChannelResult | None = None

    @property
    def paid(self) -> bool:
        return self.intent.status.took_money


@dataclass
class RecoveryReport:
    resolved: list[PaymentIntent] = field(default_factory=list)
    still_unknown: list[PaymentIntent] = field(default_factory=list)
    refunds: list[RefundIntent] = field(default_factory=list)


class _Quiet:
    """A handler for background resolution: nobody to show anything to."""

    def show_qr(self, payload: str) -> None:
        return None

    def status(self, notice: Notice) -> None:
        return None

    def cancel_requested(self) -> bool:
        return False


def _transport_trouble(result: ChannelResult) -> bool:
    return result.status == PaymentStatus.UNKNOWN or result.code == "unreachable"


class PaymentRouter:
    def __init__(
        self,
        intents: IntentStore,
        channels: Mapping[str, PaymentChannel],
        clock: Clock,
        *,
        policy: ResolutionPolicy | None = None,
        breaker_policy: BreakerPolicy | None = None,
    ) -> None:
        self.intents = intents
        self._channels = dict(channels)
        self._clock = clock
        self.policy = policy or ResolutionPolicy()
        self._breakers = {name: CircuitBreaker(clock, breaker_policy) for name in channels}
        # Payments being run here, woken by a provider's notification (`hint`).
        self._woken: dict[str, threading.Event] = {}
        self._woken_lock = threading.Lock()

    # -- selection ----------------------------------------------------------------------
    @property
    def channel_names(self) -> list[str]:
        return sorted(self._channels)

    def channel(self, name: str) -> PaymentChannel:
        try:
            return self._channels[name]
        except KeyError:
            raise NotFound(
                msg("payments.pos.no_such_channel", name=name, names=", ".join(self.channel_names))
            ) from None

    def breaker(self, name: str) -> CircuitBreaker:
        self.channel(name)
        return self._breakers[name]

    def available(self, mode: PaymentMode | None = None, currency: str = "CNY") -> list[str]:
        names = []
        for name, ch in sorted(self._channels.items()):
            caps = ch.capabilities()
            if mode is not None and mode not in caps.modes:
                continue
            if currency in caps.currencies and self._breakers[name].available():
                names.append(name)
        return names

    def alternatives(self, intent: PaymentIntent) -> list[str]:
        """Other channels to offer: only once this attempt certainly took no money."""
        current = self.intents.payment(intent.intent_id)
        if not current.status.known_no_money:
            return []
        return [n for n in self.available(currency=current.amount.currency) if n != current.channel]

    # -- paying -------------------------------------------------------------------------
    def open(
        self, order_id: str, channel: str, amount: Money, mode: PaymentMode, subject: str = ""
    ) -> PaymentIntent:
        caps = self.channel(channel).capabilities()
        if mode not in caps.modes or amount.currency not in caps.currencies:
            raise PaymentError(
                notice_with(
                    "pos", "unsupported", channel=channel, mode=mode.value, currency=amount.currency
                )
            )
        if amount.minor <= 0:
            raise PaymentError(notice_with("pos", "amount"))
        if not self._breakers[channel].acquire():
            raise PaymentError(notice("circuit_open"))
        return self.intents.open_payment(order_id, channel, mode, amount, subject)

    def pay(
        self,
        order_id: str,
        channel: str,
        amount: Money,
        mode: PaymentMode,
        handler: PaymentHandler,
        auth_code: str | None = None,
        subject: str = "",
    ) -> PaymentOutcome:
        intent = self.open(order_id, channel, amount, mode, subject)
        return self.run(intent, handler, auth_code)

    def _send(
        self,
        intent: PaymentIntent,
        op: str,
        auth_code: str | None = None,
        handler: PaymentHandler | None = None,
    ) -> tuple[PaymentIntent, ChannelResult]:
        """One request to the provider: persisted as sent first, its answer recorded after."""
        ch = self.channel(intent.channel)
        intent = self.intents.mark_sent(intent)
        if op == "start":
            result = ch.start(intent, handler or _Quiet(), auth_code)
        elif op == "query":
            result = ch.query(intent)
        else:
            result = ch.cancel(intent)
        breaker = self._breakers[intent.channel]
        (breaker.failure if _transport_trouble(result) else breaker.success)()
        if result.status == PaymentStatus.UNKNOWN or result.code:
            log.info(
                "payment %s %s -> %s code=%s sub_code=%s %s",
                intent.out_trade_no,
                op,
                result.status,
                result.code,
                result.sub_code,
                result.message,
            )
        return self.intents.record(intent, result), result

    def run(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> PaymentOutcome:
        woken = threading.Event()
        with self._woken_lock:
            self._woken[intent.intent_id] = woken
        try:
            return self._run(intent, handler, auth_code, woken)
        finally:
            with self._woken_lock:
                self._woken.pop(intent.intent_id, None)

    def hint(self, intent: PaymentIntent) -> PaymentIntent:
        """The provider notified a change to this payment. A notification is never
        trusted by itself: a payment being run here is woken to query now, and any
        other open payment is queried once."""
        with self._woken_lock:
            woken = self._woken.get(intent.intent_id)
        if woken is not None:
            woken.set()
            return intent
        current = self.intents.payment(intent.intent_id)
        if current.status.is_final or not current.sent:
            return current
        return self._send(current, "query")[0]

    def _run(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        auth_code: str | None,
        woken: threading.Event,
    ) -> PaymentOutcome:
        caps = self.channel(intent.channel).capabilities()
        intent, result = self._send(intent, "start", auth_code, handler)
        shown = bool(result.qr_payload)
        if shown:
            handler.show_qr(result.qr_payload)
            handler.status(notice("waiting"))
        deadline = self._clock.monotonic() + caps.payment_timeout
        backoff = self.policy.first_backoff
        while not intent.status.is_final:
            status = intent.status
            if handler.cancel_requested():
                return self._settle(intent, handler, notice("cashier_cancelled"))
            if self._clock.monotonic() >= deadline:
                return self._settle(intent, handler, notice("timeout"))
            if intent.mode == PaymentMode.QR and not shown:
                # No code ever reached the shopper, so nothing can be paid: close it now.
                return self._settle(intent, handler, notice("closed"))
            if intent.mode == PaymentMode.PAYMENT_CODE and status == PaymentStatus.PENDING:
                # The provider has no such payment: make sure it never will.
                return self._settle(intent, handler, notice("closed"))
            if status == PaymentStatus.UNKNOWN:
                handler.status(notice("checking"))
                pause, backoff = backoff, min(backoff * 2, self.policy.max_backoff)
            else:
                if status == PaymentStatus.USER_PAYING:
                    handler.status(notice("user_paying"))
                pause = caps.poll_interval
            left = max(0.0, deadline - self._clock.monotonic())
            if self._wait(min(pause, left), handler, woken):
                intent, result = self._send(intent, "query")
        return self._final(intent, handler, result)

    def _wait(
        self, seconds: float, handler: PaymentHandler, woken: threading.Event | None = None
    ) -> bool:
        """Sleep in slices so a cancel is seen quickly; False if cancelled meanwhile.
        A notification (`woken`) ends the wait early so the query happens now."""
        end = self._clock.monotonic() + seconds
        while (left := end - self._clock.monotonic()) > 0:
            if handler.cancel_requested():
                return False
            if woken is not None and woken.is_set():
                woken.clear()
                return True
            self._clock.sleep(min(left, self.policy.slice))
        return True

    def _final(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        last: ChannelResult | None,
        reason: Notice | None = None,
    ) -> PaymentOutcome:
        if intent.status.took_money:
            note = notice("succeeded")
        elif intent.status == PaymentStatus.UNKNOWN:
            note = notice("unknown")
        elif reason is not None and intent.status == PaymentStatus.CLOSED:
            note = reason
        elif last is not None and (last.sub_code or last.code) and last.code != "unreachable":
            note = explain(
                intent.channel_platform
                if hasattr(intent, "channel_platform")
                else _platform(intent.channel),
                last.code,
                last.sub_code,
            )
        else:
            note = notice(
                "unreachable" if last is not None and last.code == "unreachable" else "closed"
            )
        handler.status(note)
        return PaymentOutcome(intent, note, last)

    def _settle(
        self, intent: PaymentIntent, handler: PaymentHandler, reason: Notice
    ) -> PaymentOutcome:
        """Cancel/reverse until the provider confirms a final state (which may be
        SUCCEEDED, if the shopper paid and it cannot be undone)."""
        last: ChannelResult | None = None
        if not intent.sent:
            intent = self.intents.record(
                intent, ChannelResult(PaymentStatus.FAILED, code="not_sent")
            )
            return self._final(intent, handler, None, reason)
        handler.status(notice("cancelling"))
        backoff = self.policy.first_backoff
        for round_no in range(self.policy.settle_rounds):
            for op in ("cancel", "query"):
                intent, last = self._send(intent, op)
                if intent.status.is_final:
                    return self._final(intent, handler, last, reason)
            if round_no + 1 < self.policy.settle_rounds:
                self._clock.sleep(backoff)
                backoff = min(backoff * 2, self.policy.max_backoff)
        log.warning(
            "payment %s still unknown after %d rounds",
            intent.out_trade_no,
            self.policy.settle_rounds,
        )
        return self._final(intent, handler, last, reason)

    def resolve(self, intent: PaymentIntent) -> PaymentIntent:
        """Make an open intent final in the background: a query first (it may simply
        have been paid), then cancel/reverse."""
        intent = self.intents.payment(intent.intent_id)
        if intent.status.is_final:
            return intent
        if intent.sent:
            intent, _ = self._send(intent, "query")
            if intent.status.is_final:
                return intent
        return self._settle(intent, _Quiet(), notice("closed")).intent

    def recover(self) -> RecoveryReport:
        """At start-up: settle every payment and refund a crash left open."""
        report = RecoveryReport()
        for intent in self.intents.open_payments():
            done = self.resolve(intent)
            (report.resolved if done.status.is_final else report.still_unknown).append(done)
        for refund in self.intents.open_refunds():
            report.refunds.append(self.resolve_refund(refund))
        return report

    def query_order(self, order_id: str) -> list[PaymentIntent]:
        """Every attempt for an order; open ones are asked at the provider first."""
        out = []
        for intent in self.intents.payments_for_order(order_id):
            if not intent.status.is_final and intent.sent:
                intent, _ = self._send(intent, "query")
            out.append(intent)
        return out

    # -- refunds ------------------------------------------------------------------------
    def refund(self, payment: PaymentIntent, amount: Money, reason: str = "") -> RefundIntent:
        payment = self.intents.payment(payment.intent_id)
        if not payment.status.took_money:
            raise PaymentError(notice_with("pos", "refund_unpaid"))
        left = payment.amount - self.intents.refunded_total(payment)
        if amount.minor <= 0 or amount > left:
            raise PaymentError(notice_with("pos", "refund_too_much", left=left))
        refund = self.intents.open_refund(payment, amount, reason)
        return self._refund_rounds(refund, send_first=True)

    def resolve_refund(self, refund: RefundIntent) -> RefundIntent:
        return self._refund_rounds(
            self.intents.refund(refund.refund_id), send_first=not refund.sent
        )

    def _refund_rounds(self, refund: RefundIntent, send_first: bool) -> RefundIntent:
        ch = self.channel(refund.payment.channel)
        backoff = self.policy.first_backoff
        send = send_first
        for _ in range(self.policy.refund_rounds):
            refund = self.intents.refund_mark_sent(refund)
            result: RefundResult = ch.refund(refund) if send else ch.refund_query(refund)
            if not send and result.status == RefundStatus.FAILED and result.code in _NO_REFUND:
                # The provider never got it: send again, same out_refund_no (idempotent).
                send = True
                continue
            refund = self.intents.record_refund(refund, result)
            if refund.status.is_final:
                return refund
            send = False
            self._clock.sleep(backoff)
            backoff = min(backoff * 2, self.policy.max_backoff)
        return refund


_NO_REFUND = frozenset({"REFUND_NOT_EXIST", "RESOURCE_NOT_EXISTS"})


def _platform(channel: str) -> str:
    """Which error catalogue speaks for a channel's codes."""
    for platform in ("wechat", "alipay", "card"):
        if channel.startswith(platform):
            return platform
    return "pos"
