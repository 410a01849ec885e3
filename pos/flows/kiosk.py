"""A shopper's session at a self-service kiosk: attract screen, scanning,
paying, thanks, and back. An idle shopper gets a visible warning, then the
session resets: any running payment is cancelled at the gateway and the cart
is voided, so the next shopper starts clean.

The kiosk's timers are ticks from the screen with the injected clock's
monotonic time; nothing here sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pos.clock import Clock
from pos.flows.checkout import CheckoutFlow, CheckoutState
from pos.flows.text import FlowError
from pos.flows.views import Approval
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


class KioskSession:
    def __init__(self, checkout: CheckoutFlow, clock: Clock, config: KioskConfig | None = None):
        self.checkout = checkout
        self.config = config or KioskConfig()
        self._clock = clock
        self.state = KioskState.ATTRACT
        self.locale = self.config.default_locale
        self.attendant_called = False
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
    def call_attendant(self) -> None:
        self.touch()
        self.attendant_called = True

    def override(self, approval: Approval) -> None:
        """An attendant's PIN opens the locked actions (void, exit) for a while."""
        self.attendant_called = False
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
        if self.state is KioskState.ATTRACT or self.overridden:
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
        Blocks while the cart is voided; the kiosk screen runs it on a worker."""
        flow = self.checkout
        if flow.tender is not None:
            flow.tender.cancel()
            if flow.tender.busy:
                # The payment's worker finishes the cancel at the gateway; the
                # cart is voided when it comes back (`after_cancelled_payment`).
                self._to_attract()
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
            if left.order.paid.minor:
                waiting += 1
            else:
                flow.void_left_open(left.order.order_id)
        self.attendant_called = self.attendant_called or waiting > 0
        return waiting

    def after_cancelled_payment(self) -> None:
        """The cancelled payment has come back: clear the cart it left open."""
        if self.state is KioskState.ATTRACT:
            self.attendant_called = self._clear_cart()

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
        self.state = KioskState.ATTRACT
        self.locale = self.config.default_locale
        self.attendant_called = False
        self._override_until = None
        self._last_touch = self._clock.monotonic()
