"""A shopper's session at a self-service kiosk: attract screen, scanning,
paying, thanks, and back. An idle shopper gets a visible warning, then the
session resets: any running payment is cancelled at the gateway and the cart
is voided, so the next shopper starts clean.

A payment that fails is told to the shopper in their words (`failure`) and
calls the attendant for real (journalled, the tower lamp lit). While money is
uncertain (a payment let go to the background, or one that broke part-way)
the session is held: no idle reset, no clearing the cart, until the
attendant has come (their PIN) or the background has settled it.

The kiosk's timers are ticks from the screen with the injected clock's
monotonic time; nothing here sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pos.clock import Clock
from pos.flows.checkout import CheckoutFlow, CheckoutState
from pos.flows.ports import AttendantPort
from pos.flows.tender import TenderState
from pos.flows.text import FlowError, Said
from pos.flows.views import Approval, Outcome, TenderResult
from pos.messages import msg


class KioskState(StrEnum):
    ATTRACT = "attract"
    SHOPPING = "shopping"
    PAYING = "paying"
    THANKS = "thanks"


class TickAction(StrEnum):
    NONE = "none"
    WARN = "warn"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class KioskConfig:
    idle_timeout_s: int = 90
    warning_s: int = 20
    thanks_s: int = 8
    override_s: int = 120
    default_locale: str = "zh_CN"


@dataclass(frozen=True, slots=True)
class Tick:
    action: TickAction
    seconds_left: int = 0


@dataclass(frozen=True, slots=True)
class Failure:
    """What the shopper reads after a payment that did not go through, and
    why the attendant was called."""

    text: Said
    reason: str  # payment_failed | payment_unknown
    holds_cart: bool  # money uncertain: the cart waits for the attendant


def kiosk_failure(result: TenderResult) -> Failure | None:
    """What the shopper reads after `result`; None when it took the money."""
    if result.status is Outcome.SUCCEEDED:
        return None
    if result.status is Outcome.UNKNOWN:
        return Failure(msg("uncertain.kiosk.checking"), "payment_unknown", True)
    if result.released:  # the code never reached the screen
        return Failure(msg("uncertain.kiosk.never_shown"), "payment_failed", False)
    if result.status is Outcome.CANCELLED:
        return Failure(msg("uncertain.kiosk.cancelled"), "", False)
    if result.status is Outcome.TIMED_OUT:
        return Failure(msg("uncertain.kiosk.timed_out"), "payment_failed", False)
    return Failure(msg("uncertain.kiosk.not_paid"), "payment_failed", False)


class KioskSession:
    def __init__(
        self,
        checkout: CheckoutFlow,
        clock: Clock,
        config: KioskConfig | None = None,
        attendant: AttendantPort | None = None,
    ):
        self.checkout = checkout
        self.config = config or KioskConfig()
        self._clock = clock
        self._attendant = attendant
        self.state = KioskState.ATTRACT
        self.locale = self.config.default_locale
        self.attendant_called = False
        # Money is uncertain on this cart: it waits for the attendant.
        self.held = False
        self.last_failure: Failure | None = None
        # An idle reset waits for the payment it cancelled to come back.
        self.reset_pending = False
        self._override_until: float | None = None
        self._last_touch = clock.monotonic()
        self._thanks_since = 0.0

    # -- the shopper ------------------------------------------------------------------
    def touch(self) -> None:
        """Any input from the shopper: the idle timer starts again."""
        self._last_touch = self._clock.monotonic()
        if self.state is KioskState.ATTRACT:
            self.state = KioskState.SHOPPING

    def set_locale(self, locale: str) -> None:
        self.touch()
        self.locale = locale

    def paying(self) -> None:
        self.touch()
        self.state = KioskState.PAYING

    def shopping(self) -> None:
        self.touch()
        self.state = KioskState.SHOPPING

    def paid(self) -> None:
        self.state = KioskState.THANKS
        self._thanks_since = self._clock.monotonic()

    # -- the attendant ------------------------------------------------------------------
    def call_attendant(self, reason: str = "shopper") -> None:
        """Call the attendant for real (blocks on the journal write: run it on a
        worker). The shopper's own press and a failure both come here."""
        self.touch()
        self.attendant_called = True
        if self._attendant is not None:
            order = self.checkout.order
            self._attendant.call_attendant(reason, order.order_id if order is not None else "")

    def payment_failed(self, result: TenderResult) -> Failure | None:
        """A payment came back without taking money (or not known yet): what the
        shopper reads, the attendant called (blocks: run on a worker), and the
        cart held while money is uncertain."""
        failure = kiosk_failure(result)
        self.last_failure = failure
        if failure is None:
            return None
        self.touch()
        self.state = KioskState.SHOPPING
        if failure.holds_cart:
            self.held = True
        if failure.reason:
            self.call_attendant(failure.reason)
        return failure

    def payment_broke(self) -> Failure:
        """The payment call itself failed part-way: nothing is known about the money."""
        failure = Failure(msg("uncertain.kiosk.checking"), "payment_unknown", True)
        self.last_failure = failure
        self.held = True
        self.state = KioskState.SHOPPING
        self.call_attendant(failure.reason)
        return failure

    def refresh_held(self) -> bool:
        """Still held? Money is settled once no attempt on the cart is being
        checked (blocks on a store read: run on a worker)."""
        order = self.checkout.order
        if (
            self.held
            and self._attendant is not None
            and order is not None
            and not self._attendant.money_uncertain(order.order_id)
        ):
            tender = self.checkout.tender
            self.held = tender is not None and tender.state is TenderState.UNRESOLVED
        return self.held

    def override(self, approval: Approval) -> None:
        """An attendant's PIN opens the locked actions (void, exit) for a while."""
        self.attendant_called = False
        self.held = False  # the attendant has come: the cart is theirs now
        if self._attendant is not None:
            self._attendant.attendant_came()
        self._override_until = self._clock.monotonic() + self.config.override_s
        self.touch()

    @property
    def overridden(self) -> bool:
        until = self._override_until
        return until is not None and self._clock.monotonic() < until

    def require_override(self) -> None:
        if not self.overridden:
            raise FlowError(msg("kiosk.needs_attendant"))

    # -- timers -----------------------------------------------------------------------
    def tick(self) -> Tick:
        now = self._clock.monotonic()
        if self.state is KioskState.THANKS:
            if now - self._thanks_since >= self.config.thanks_s:
                return Tick(TickAction.RESET)
            return Tick(TickAction.NONE)
        if self.state is KioskState.ATTRACT or self.overridden or self.held or self.reset_pending:
            # Never drop a cart with money in doubt: it waits for the attendant.
            return Tick(TickAction.NONE)
        idle = now - self._last_touch
        left = self.config.idle_timeout_s - idle
        if left <= 0:
            return Tick(TickAction.RESET)
        if left <= self.config.warning_s:
            return Tick(TickAction.WARN, int(-(-left // 1)))
        return Tick(TickAction.NONE)

    def reset(self) -> None:
        """Back to the attract screen: cancel a running payment (at the gateway,
        through its cancel token), void the open cart, forget the language.
        Blocks while the cart is voided; the kiosk screen runs it on a worker.
        Refused while money on the cart is uncertain (`held`)."""
        if self.held:
            raise FlowError(msg("uncertain.kiosk.wait_for_attendant"))
        flow = self.checkout
        if flow.tender is not None:
            flow.tender.cancel()
            if flow.tender.busy:
                # The payment's worker finishes the cancel at the gateway; the
                # cart goes when it comes back, unless money is then uncertain
                # (`after_cancelled_payment`).
                self.reset_pending = True
                return
        money_left = self._clear_cart()
        self._to_attract()
        self.attendant_called = money_left

    def settle_left_open(self) -> int:
        """At start-up, after recovery: the shoppers whose kiosk sales a crash
        left open have gone. Their carts are voided, as an idle reset would;
        one with money already taken stays open for an attendant (its void
        needs a manager and gives the money back) and the kiosk calls one.
        Returns how many wait for the attendant."""
        waiting = 0
        flow = self.checkout
        for left in flow.left_open():
            if left.mode != "kiosk":
                continue  # a counter sale waits for a cashier's login
            uncertain = self._attendant is not None and self._attendant.money_uncertain(
                left.order.order_id
            )
            if left.order.paid.minor or uncertain:
                waiting += 1
            else:
                flow.void_left_open(left.order.order_id)
        self.attendant_called = self.attendant_called or waiting > 0
        return waiting

    def after_cancelled_payment(self, result: TenderResult | None = None) -> Failure | None:
        """The payment an idle reset cancelled has come back: clear the cart and
        go back to the attract screen, or, when its money is uncertain, hold
        the cart for the attendant (blocks: run on a worker)."""
        if not self.reset_pending and self.state is not KioskState.ATTRACT:
            return None
        self.reset_pending = False
        if result is not None and result.status is Outcome.UNKNOWN:
            return self.payment_failed(result)
        money_left = self._clear_cart()
        self._to_attract()
        self.attendant_called = money_left
        return None

    def _clear_cart(self) -> bool:
        """Void the open cart; True when money was already taken on it. That
        sale can be neither parked nor voided without a manager, so it is left
        open for the attendant (`left_open`) and the next shopper starts clean."""
        flow = self.checkout
        order = flow.tender.order if flow.tender is not None else flow.order  # with what was paid
        if order is None or flow.state not in (CheckoutState.RINGING, CheckoutState.TENDERING):
            flow.order, flow.tender, flow.state = None, None, CheckoutState.EMPTY
            return False
        flow.tender = None
        flow.state = CheckoutState.RINGING
        if order.paid.minor:
            flow.order, flow.state = None, CheckoutState.EMPTY
            return True
        flow.void_order()
        return False

    def _to_attract(self) -> None:
        self.reset_pending = False
        self.held = False
        self.last_failure = None
        self.state = KioskState.ATTRACT
        self.locale = self.config.default_locale
        self.attendant_called = False
        self._override_until = None
        self._last_touch = self._clock.monotonic()
