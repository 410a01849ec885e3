"""Payments the till let go of (pos.payments.router: an outcome that did not
come in time, or a QR code that never reached the shopper) are made final
here, in the background: the router queries, then cancels or reverses as the
platform prescribes. The cashier was told to take payment another way, so one
that proves paid is given back on its channel (refunded); only when someone
asks for the order again (`attach`: "check again", `pos order pay`) is it
attached to its order instead, when the order still owes that much. Each end
is journalled (payment.released_settled) and listed for the manager.

Run by the till's background resolver (pos.app.resolver), at the end of the
command line's payment commands, and by start-up recovery, so a released
attempt is chased until it is final: nothing else closes it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from pos.errors import PosError
from pos.money import Money
from pos.payments.channel import PaymentIntent, RefundStatus
from pos.payments.router import PaymentRouter
from pos.services.checkout import CheckoutService
from pos.services.payments import settle_stray

log = logging.getLogger(__name__)

# One settle at a time in a process: the app's resolver and a screen's own call.
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class ReleasedEnd:
    """How a let-go attempt ended: closed (no money was kept), reversed (paid,
    and the platform gave it back on cancel), attached (it became the order's
    tender), refunded, refund_open, refund_failed, already_recorded."""

    intent: PaymentIntent
    action: str

    @property
    def money_back(self) -> Money | None:
        return self.intent.amount if self.action in ("reversed", "refunded") else None


def settle_released(
    checkout: CheckoutService,
    router: PaymentRouter,
    *,
    order_id: str | None = None,
    until: float | None = None,
    attach: bool = False,
) -> list[ReleasedEnd]:
    """Make every released attempt (of `order_id`, or all) final, stopping at
    `until` (monotonic); what is not final yet stays for the next call."""
    ends: list[ReleasedEnd] = []
    with _ONE_AT_A_TIME:
        for intent in router.intents.released_open():
            if order_id is not None and intent.order_id != order_id:
                continue
            if intent.channel not in router.channel_names:
                continue  # a command that did not load its channel leaves it to the next
            if until is not None and checkout.clock.monotonic() >= until:
                break
            end = _settle_one(checkout, router, intent, until, attach)
            if end is not None:
                ends.append(end)
    return ends


def _settle_one(
    checkout: CheckoutService,
    router: PaymentRouter,
    intent: PaymentIntent,
    until: float | None,
    attach: bool,
) -> ReleasedEnd | None:
    outcome = router.settle(intent, until)
    done = outcome.intent
    if not done.status.is_final:
        return None
    if done.status.took_money and attach:
        action = settle_stray(checkout, router, done.intent_id).action
    elif done.status.took_money:
        action = _give_back(router, done)
    elif outcome.last is not None and outcome.last.details.get("action") == "refund":
        action = "reversed"
    else:
        action = "closed"
    amount = done.amount if action != "closed" else Money(0, done.amount.currency)
    router.intents.released_settled(done, action, amount)
    log.info(
        "released %s payment %s (order %s): %s",
        done.channel,
        done.out_trade_no,
        done.order_id,
        action,
    )
    return ReleasedEnd(done, action)


def _give_back(router: PaymentRouter, intent: PaymentIntent) -> str:
    left = intent.amount - router.intents.refunded_total(intent)
    if left.minor <= 0:
        return "refunded"
    try:
        refund = router.refund(intent, left, "paid another way")
    except PosError as exc:
        log.error("released payment %s: refund failed: %s", intent.out_trade_no, exc.message)
        return "refund_failed"
    return "refunded" if refund.status is RefundStatus.SUCCEEDED else "refund_open"


def released_for_order(router: PaymentRouter, order_id: str) -> list[PaymentIntent]:
    """This order's attempts still being checked in the background."""
    return [i for i in router.intents.released_open() if i.order_id == order_id]
