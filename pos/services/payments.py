"""Non-cash tenders through the payment router, shared by the CLI and the
Qt flows: a confirmed payment becomes a tender in the order's transaction,
money given back goes through the channel that took it, and at start-up
payments a crash left behind are settled (`recover_payments`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pos.errors import NotAllowed, PosError
from pos.messages import msg
from pos.order.tenders import Tender, channel_label
from pos.payments.channel import PaymentIntent, PaymentStatus, RefundIntent, RefundStatus
from pos.payments.live import recovering
from pos.payments.router import PaymentOutcome, PaymentRouter, RecoveryReport
from pos.services.checkout import CheckoutService, SaleReceipt
from pos.services.refunds import GiveBack, RefundGateway
from pos.services.risk_gate import Checked
from pos.store.db import IntegrityError

if TYPE_CHECKING:
    from pos.services.terminal_services import TerminalServices

log = logging.getLogger(__name__)


class AlreadyRecorded(NotAllowed):
    """The payment is already a tender (another till process recorded it)."""


def record_payment(
    checkout: CheckoutService,
    order_id: str,
    intent: PaymentIntent,
    outcome: PaymentOutcome | None,
    risk: Checked | None = None,
) -> SaleReceipt:
    """Commit a payment the channel confirmed as the order's tender."""
    details = outcome.last.details if outcome is not None and outcome.last else {}
    token = details.get("card_token", "")
    if risk is not None and token and not risk.ctx.card_token:
        # The card was read after the decision: its sale is recorded under its
        # token, so card velocity here and across the chain sees it.
        bin_ = risk.ctx.card_bin or details.get("masked_pan", "")[:6]
        risk = replace(risk, ctx=replace(risk.ctx, card_token=token, card_bin=bin_))
    try:
        return checkout.take_tender(
            order_id,
            Tender(intent.channel, intent.amount, reference=intent.channel_ref or None),
            intent_id=intent.intent_id,
            masked_pan=details.get("masked_pan"),
            auth_code=details.get("auth_code"),
            risk=risk,
        )
    except IntegrityError as exc:
        # tenders_one_per_intent: one payment is never counted twice.
        raise AlreadyRecorded(
            msg(
                "payments.already_recorded",
                channel=channel_label(intent.channel),
                ref=intent.out_trade_no,
            )
        ) from exc


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
                msg("order.refund_payment_missing", channel=channel_label(part.channel))
            )
        refund = router.refund(intent, part.amount, part.reason or "refund")
        if refund.status is not RefundStatus.SUCCEEDED:
            raise NotAllowed(
                msg(
                    "order.refund_not_confirmed",
                    channel=channel_label(part.channel),
                    amount=part.amount,
                    status=refund.status.value,
                ),
            )
        return refund.channel_ref or refund.out_refund_no

    return give_back


# -- recovery at start-up -------------------------------------------------------------
@dataclass(frozen=True)
class StrayPayment:
    """A payment that took money but was no tender of its order, and what
    recovery did with it: attached | refunded | refund_open | refund_failed |
    already_recorded."""

    intent: PaymentIntent
    action: str
    why: str = ""
    receipt: SaleReceipt | None = None
    refund: RefundIntent | None = None

    @property
    def settled(self) -> bool:
        return self.action in ("attached", "refunded", "already_recorded")


@dataclass
class PaymentRecovery:
    channels: RecoveryReport
    strays: list[StrayPayment] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What is still not settled, for the manager."""
        out = [
            f"{i.channel} payment {i.out_trade_no} (order {i.order_id}) is still unknown"
            for i in self.channels.still_unknown
        ]
        out += [
            f"{r.payment.channel} refund {r.out_refund_no} (order {r.payment.order_id})"
            f" is {r.status.value}"
            for r in self.channels.refunds
            if r.status is not RefundStatus.SUCCEEDED
        ]
        out += [
            f"{s.intent.channel} payment {s.intent.out_trade_no} (order {s.intent.order_id}):"
            f" {s.action} ({s.why})"
            for s in self.strays
            if not s.settled
        ]
        return out

    @property
    def settled(self) -> bool:
        return not self.problems


_REFUND_REASON_MAX = 80  # WeChat Pay's limit for a refund reason


def untendered_payments(checkout: CheckoutService) -> list[str]:
    """Intent ids of payments that kept money but are no order's tender."""
    with checkout.db.read() as conn:
        rows = conn.execute(
            "SELECT p.id FROM payment_intents p"
            " WHERE p.status IN ('succeeded', 'partly_refunded') AND NOT EXISTS"
            " (SELECT 1 FROM tenders t WHERE t.intent_id = p.id AND t.kind = 'payment')"
            " ORDER BY p.created_at, p.id"
        ).fetchall()
    return [str(r[0]) for r in rows]


def settle_stray(checkout: CheckoutService, router: PaymentRouter, intent_id: str) -> StrayPayment:
    intent = router.intents.payment(intent_id)
    refunded = router.intents.refunded_total(intent)
    if intent.status is PaymentStatus.SUCCEEDED and refunded.minor == 0:
        try:
            receipt = record_payment(checkout, intent.order_id, intent, None)
        except AlreadyRecorded as exc:
            return StrayPayment(intent, "already_recorded", exc.message)
        except PosError as exc:
            # The order is gone, paid another way, voided, or owes less: the
            # checkout's own rules refused, so the money goes back.
            why = exc.message
        else:
            log.warning(
                "recovery: %s payment %s attached to order %s",
                intent.channel,
                intent.out_trade_no,
                intent.order_id,
            )
            return StrayPayment(intent, "attached", "", receipt=receipt)
    else:
        why = "partly refunded before it was recorded"
    left = intent.amount - refunded
    if left.minor <= 0:
        done = router.intents.refunded_total(intent, include_open=False)
        return StrayPayment(intent, "refunded" if done >= intent.amount else "refund_open", why)
    reason = f"not recorded: {why}"[:_REFUND_REASON_MAX]
    try:
        refund = router.refund(intent, left, reason)
    except PosError as exc:
        log.error("recovery: refund of %s failed: %s", intent.out_trade_no, exc.message)
        return StrayPayment(intent, "refund_failed", f"{why}; {exc.message}")
    action = "refunded" if refund.status is RefundStatus.SUCCEEDED else "refund_open"
    log.warning("recovery: %s payment %s %s (%s)", intent.channel, intent.out_trade_no, action, why)
    return StrayPayment(intent, action, why, refund=refund)


def recover_payments(services: TerminalServices, router: PaymentRouter) -> PaymentRecovery:
    """Settle what a crash left behind, at start-up: every open attempt and
    refund is resolved by the router (query, then cancel/reverse), then every
    payment that took money without becoming a tender is attached to its order
    when the order is still open and the amount fits, or refunded on its
    channel. The shopper ends up charged once. Refused (NotAllowed) while
    another process on this terminal is taking a payment (pos.payments.live)."""
    with recovering(services.terminal.data_dir):
        report = PaymentRecovery(router.recover())
        for intent_id in untendered_payments(services.checkout):
            report.strays.append(settle_stray(services.checkout, router, intent_id))
    return report
