"""Cash through the same interface as every other channel: the drawer is the
provider, and the cashier's count is its answer, so every outcome is final at once."""

from __future__ import annotations

from pos.payments.channel import (
    Capabilities,
    ChannelEnv,
    ChannelResult,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.errors import notice_with

_TAKEN = notice_with("cash", "taken")


class CashChannel:
    name = "cash"

    def __init__(self, env: ChannelEnv | None = None) -> None:
        self.name = env.name if env is not None else "cash"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            modes=frozenset({PaymentMode.CASH}),
            currencies=frozenset({"CNY", "HKD", "MOP", "USD", "EUR"}),
            needs_network=False,
            gives_change=True,
            poll_interval=0.0,
            payment_timeout=0.0,
        )

    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult:
        handler.status(_TAKEN)
        return ChannelResult(PaymentStatus.SUCCEEDED, paid_amount=intent.amount)

    def query(self, intent: PaymentIntent) -> ChannelResult:
        # Cash is taken in start(); an intent that never got there took nothing.
        status = PaymentStatus.SUCCEEDED if intent.sent else PaymentStatus.FAILED
        return ChannelResult(status)

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        return ChannelResult(PaymentStatus.CLOSED)

    def close(self, intent: PaymentIntent) -> ChannelResult:
        return ChannelResult(PaymentStatus.CLOSED)

    def refund(self, refund: RefundIntent) -> RefundResult:
        return RefundResult(RefundStatus.SUCCEEDED, refunded_amount=refund.amount)

    def refund_query(self, refund: RefundIntent) -> RefundResult:
        status = RefundStatus.SUCCEEDED if refund.sent else RefundStatus.FAILED
        return RefundResult(status, refunded_amount=refund.amount if refund.sent else None)
