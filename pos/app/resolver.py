"""The till's background resolution of payments it let go of: a thread that
settles released attempts (pos.services.released) every few seconds, and at
once when nudged (a payment was just let go). Started with the till's other
services (entry point `pos.till_services`: released)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from pos.payments.router import PaymentRouter
from pos.services.checkout import CheckoutService
from pos.services.released import ReleasedEnd, settle_released

log = logging.getLogger(__name__)

INTERVAL_S = 2.0


class _TillParts(Protocol):
    @property
    def checkout(self) -> CheckoutService: ...

    router: PaymentRouter


class ReleasedResolver:
    def __init__(
        self, checkout: CheckoutService, router: PaymentRouter, interval: float = INTERVAL_S
    ) -> None:
        self._checkout = checkout
        self._router = router
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="payment-resolver", daemon=True)
        # Told each end (on the resolver's thread): the screens show the manager.
        self.listeners: list[Callable[[ReleasedEnd], None]] = []

    def start(self) -> ReleasedResolver:
        self._thread.start()
        return self

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def run_once(self) -> list[ReleasedEnd]:
        ends = settle_released(self._checkout, self._router)
        for end in ends:
            for listener in list(self.listeners):
                listener(end)
        return ends

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a store or gateway hiccup: the next round tries again
                log.exception("settling released payments")
            self._wake.wait(self._interval)
            self._wake.clear()


def start(till: _TillParts) -> ReleasedResolver | None:
    if not any(
        till.router.channel(n).capabilities().needs_network for n in till.router.channel_names
    ):
        return None
    return ReleasedResolver(till.checkout, till.router).start()
