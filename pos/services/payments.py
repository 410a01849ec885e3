"""Non-cash tenders through the payment router, shared by the CLI and the
Qt flows: a confirmed payment becomes a tender in the order's transaction,
and money given back goes through the channel that took it."""

from __future__ import annotations

from pos.errors import NotAllowed
from pos.order.tenders import Tender
from pos.payments.channel import PaymentIntent, RefundStatus
from pos.payments.router import PaymentOutcome, PaymentRouter
from pos.services.checkout import CheckoutService, GiveBack, RefundGateway, SaleReceipt
from pos.services.risk_gate import Checked


def record_payment(
    checkout: CheckoutService,
    order_id: str,
    intent: PaymentIntent,
    outcome: PaymentOutcome | None,
    risk: Checked | None = None,
) -> SaleReceipt:
    """Commit a payment the channel confirmed as the order's tender."""
    details = outcome.last.details if outcome is not None and outcome.last else {}
    return checkout.take_tender(
        order_id,
        Tender(intent.channel, intent.amount, reference=intent.channel_ref or None),
        intent_id=intent.intent_id,
        masked_pan=details.get("masked_pan"),
        auth_code=details.get("auth_code"),
        risk=risk,
    )


def unrecorded_payments(
    checkout: CheckoutService, router: PaymentRouter, order_id: str
) -> list[PaymentIntent]:
    """Payments that took money for this order but are not its tenders yet
    (the till stopped between the channel's answer and the commit)."""
    recorded = {r.get("intent_id") for r in checkout.tenders(order_id)}
    return [
        i
        for i in router.query_order(order_id)
        if i.status.took_money and i.intent_id not in recorded
    ]


def router_refunds(router: PaymentRouter, checkout: CheckoutService) -> RefundGateway:
    """Give a tender's money back on the channel that took it."""

    def give_back(part: GiveBack) -> str:
        rows = {r["id"].rsplit("-", 1)[-1]: r for r in checkout.tenders(part.order_id)}
        row = rows.get(part.tender_id)
        intent_id = row.get("intent_id") if row else None
        intent = next(
            (i for i in router.query_order(part.order_id) if i.intent_id == intent_id), None
        )
        if intent is None:
            raise NotAllowed(
                f"the {part.channel} payment behind tender {part.tender_id} was not found",
                "Give the money back another way and note it for the manager.",
            )
        refund = router.refund(intent, part.amount, part.reason or "refund")
        if refund.status is not RefundStatus.SUCCEEDED:
            raise NotAllowed(
                f"{part.channel} has not confirmed the refund of {part.amount.format()}"
                f" ({refund.status.value})",
                "Check again in a minute with `pos payment query`; nothing was recorded yet.",
            )
        return refund.channel_ref or refund.out_refund_no

    return give_back
