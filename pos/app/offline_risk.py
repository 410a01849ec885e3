"""The risk gate's answer to a channel that would approve offline (a card
within its floor limit): the sale is decided again as an offline payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos.services.checkout import CheckoutService
from pos.services.risk_gate import RiskRefused

if TYPE_CHECKING:
    from pos.payments.card.channel import OfflineRiskQuery


class OfflineRisk:
    """The till's risk engine decides the sale again as an offline payment
    (``online=False``) with the card's token and BIN, for the order's own
    basket, cashier and mode. Only an outright allow lets the card approve
    offline: no step-up (manager PIN, ID check, "pay online") can be met while
    the card waits in the reader. A refusal is recorded like any refused
    tender (declines velocity, journal)."""

    def __init__(self, checkout: CheckoutService) -> None:
        self._checkout = checkout

    def __call__(self, query: OfflineRiskQuery) -> str:
        checkout = self._checkout
        gate = checkout.risk
        if gate is None:
            return "the terminal's risk rules are not loaded"
        stored = checkout.get(query.intent.order_id)
        ctx = gate.sale_context(
            stored.order,
            channel=query.intent.channel,
            amount=query.intent.amount,
            mode=stored.mode,
            online=False,
            at=checkout.local_time(),
            card_token=query.card_token,
            card_bin=query.card_bin,
        )
        try:
            gate.check(ctx)
        except RiskRefused as refused:
            gate.record_refused(checkout.db, refused, ctx)
            return refused.message
        return ""
