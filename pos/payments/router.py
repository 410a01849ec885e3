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
    # The longest trouble (no answer, or answers that settle nothing) holds the
    # person at the till; then the attempt is let go to the background.
    hold_s: float = 8.0
    # At a kiosk the shopper must read what happened within 5 s.
    kiosk_hold_s: float = 4.0


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    intent: PaymentIntent
    notice: Notice
    last: ChannelResult | None = None
    # Let go before its QR code reached the shopper: known unpaid.
    never_shown: bool = False

    @property
    def paid(self) -> bool:
        return self.intent.status.took_money

    @property
    def released(self) -> bool:
        """The till let go of it; the background makes it final."""
        return self.intent.released and not self.intent.status.is_final


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
        # Requests left to finish on their own threads record under this lock.
        self._open_lock = threading.Lock()
        self._closed = False

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
        """One request to the provider: persisted as sent first, its answer recorded
        after, while the router is open (an answer that comes after the till closed
        is not recorded: recovery asks the provider again)."""
        ch = self.channel(intent.channel)
        with self._open_lock:
            if self._closed:
                # The till is closing: nothing more goes out (recovery takes it up).
                return intent, ChannelResult(PaymentStatus.UNKNOWN, message="till closed")
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
        with self._open_lock:
            if self._closed:
                return intent, result
            return self.intents.record(intent, result), result

    def close(self) -> None:
        """The till closes: answers still on their way are no longer recorded
        (waits for one being recorded now), so nothing writes to a closed store."""
        with self._open_lock:
            self._closed = True

    def run(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        auth_code: str | None = None,
        hold_s: float | None = None,
    ) -> PaymentOutcome:
        """Drive the attempt to a final status, or let go of it: trouble (no
        answer, answers that settle nothing) never holds the person at the till
        longer than `hold_s` (the policy's `hold_s` when None)."""
        woken = threading.Event()
        with self._woken_lock:
            self._woken[intent.intent_id] = woken
        hold = self.policy.hold_s if hold_s is None else hold_s
        try:
            return self._run(intent, handler, auth_code, woken, hold)
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

    def _bounded(
        self,
        intent: PaymentIntent,
        op: str,
        until: float | None,
        auth_code: str | None = None,
        handler: PaymentHandler | None = None,
    ) -> tuple[PaymentIntent, ChannelResult | None]:
        """`_send`, waited for until `until` at most (None: as long as it takes).
        A request still out then is left to finish on its own thread, where its
        answer is recorded when it comes; the caller sees (intent, None)."""
        if until is None:
            return self._send(intent, op, auth_code, handler)
        box: list[tuple[PaymentIntent, ChannelResult]] = []
        failed: list[BaseException] = []
        done = threading.Event()

        def call() -> None:
            try:
                box.append(self._send(intent, op, auth_code, handler))
            except BaseException as exc:  # handed to the waiting caller
                failed.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name=f"payment-{op}", daemon=True).start()
        while not done.wait(min(self.policy.slice, max(0.0, until - self._clock.monotonic()))):
            if self._clock.monotonic() >= until:
                log.info("payment %s %s: no answer in time, let go", intent.out_trade_no, op)
                return self.intents.payment(intent.intent_id), None
        if failed:
            raise failed[0]
        return box[0]

    def _bounds(self, intent: PaymentIntent) -> bool:
        """Wallet requests are bounded in time; a card's reader flow runs its course."""
        return intent.mode in (PaymentMode.QR, PaymentMode.PAYMENT_CODE)

    def _run(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        auth_code: str | None,
        woken: threading.Event,
        hold: float,
    ) -> PaymentOutcome:
        caps = self.channel(intent.channel).capabilities()
        bounded = self._bounds(intent)
        now = self._clock.monotonic
        trouble_since: float | None = None

        def until() -> float | None:
            return None if not bounded else (trouble_since or now()) + hold

        # Trouble counts from the moment the request that went unanswered was sent.
        sent_at = now()
        intent, answer = self._bounded(intent, "start", until(), auth_code, handler)
        if answer is None:
            # No answer at all: a QR code never shown cannot have been paid.
            return self._let_go(intent, handler, shown=intent.mode != PaymentMode.QR)
        result: ChannelResult = answer
        shown = bool(result.qr_payload)
        if shown:
            handler.show_qr(result.qr_payload)
            handler.status(notice("waiting"))
        deadline = now() + caps.payment_timeout
        backoff = self.policy.first_backoff
        while not intent.status.is_final:
            status = intent.status
            if status == PaymentStatus.UNKNOWN:
                trouble_since = trouble_since if trouble_since is not None else sent_at
            else:
                trouble_since = None
            if handler.cancel_requested():
                return self._settle(intent, handler, notice("cashier_cancelled"), until())
            if now() >= deadline:
                return self._settle(intent, handler, notice("timeout"), until())
            if intent.mode == PaymentMode.QR and not shown:
                # No code ever reached the shopper, so nothing can be paid: let it go
                # now; the background closes it at the provider.
                return self._let_go(intent, handler, shown=False)
            if intent.mode == PaymentMode.PAYMENT_CODE and status == PaymentStatus.PENDING:
                # The provider has no such payment: make sure it never will.
                return self._settle(intent, handler, notice("closed"), until())
            if status == PaymentStatus.UNKNOWN:
                if bounded and trouble_since is not None and now() - trouble_since >= hold:
                    return self._let_go(intent, handler, shown=True)
                handler.status(notice("checking"))
                pause, backoff = backoff, min(backoff * 2, self.policy.max_backoff)
                limit = until()
                if limit is not None:
                    pause = min(pause, max(0.0, limit - now()))
            else:
                if status == PaymentStatus.USER_PAYING:
                    handler.status(notice("user_paying"))
                pause = caps.poll_interval
            left = max(0.0, deadline - now())
            if self._wait(min(pause, left), handler, woken):
                sent_at = now()
                intent, answer = self._bounded(intent, "query", until())
                if answer is None:
                    return self._let_go(intent, handler, shown=True)
                result = answer
        return self._final(intent, handler, result)

    def _let_go(
        self, intent: PaymentIntent, handler: PaymentHandler, shown: bool
    ) -> PaymentOutcome:
        """The till stops waiting for this attempt: it is released to the
        background resolution (query, then cancel or reverse; pos.services.released)
        and the order may take another tender now. A QR code that never reached
        the shopper is known unpaid; anything else is said to be still checked."""
        current = self.intents.payment(intent.intent_id)
        if current.status.is_final:
            return self._final(current, handler, None)
        released = current
        if not current.released:
            released = self.intents.release(current, "unknown" if shown else "qr_never_shown")
        note = notice("released" if shown else "qr_never_shown")
        handler.status(note)
        return PaymentOutcome(released, note, None, never_shown=not shown)

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
            note = explain(_platform(intent.channel), last.code, last.sub_code)
        else:
            note = notice(
                "unreachable" if last is not None and last.code == "unreachable" else "closed"
            )
        handler.status(note)
        return PaymentOutcome(intent, note, last)

    def _settle(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        reason: Notice,
        until: float | None = None,
    ) -> PaymentOutcome:
        """Cancel/reverse until the provider confirms a final state (which may be
        SUCCEEDED, if the shopper paid and it cannot be undone). With `until`
        (the person at the till is waiting), past it the attempt is let go to
        the background instead."""
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
                intent, answer = self._bounded(intent, op, until)
                if answer is None:
                    return self._let_go(intent, handler, shown=True)
                last = answer
                if intent.status.is_final:
                    return self._final(intent, handler, last, reason)
            if round_no + 1 < self.policy.settle_rounds:
                pause = backoff
                if until is not None and self._clock.monotonic() + pause >= until:
                    return self._let_go(intent, handler, shown=True)
                self._clock.sleep(pause)
                backoff = min(backoff * 2, self.policy.max_backoff)
        log.warning(
            "payment %s still unknown after %d rounds",
            intent.out_trade_no,
            self.policy.settle_rounds,
        )
        if until is not None:
            return self._let_go(intent, handler, shown=True)
        return self._final(intent, handler, last, reason)

    def resolve(self, intent: PaymentIntent) -> PaymentIntent:
        """Make an open intent final in the background: a query first (it may simply
        have been paid), then cancel/reverse."""
        return self.settle(intent).intent

    def settle(self, intent: PaymentIntent, until: float | None = None) -> PaymentOutcome:
        """`resolve` with what the provider last said; with `until` (monotonic),
        it stops there and the intent stays open (released) for the next try."""
        intent = self.intents.payment(intent.intent_id)
        if intent.status.is_final:
            return PaymentOutcome(intent, notice("closed"))
        if intent.sent:
            intent, answer = self._bounded(intent, "query", until)
            if intent.status.is_final:
                return PaymentOutcome(intent, notice("closed"), answer)
            if answer is None:
                return PaymentOutcome(intent, notice("unknown"))
        return self._settle(intent, _Quiet(), notice("closed"), until)

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
