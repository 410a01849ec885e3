"""Non-cash tenders from the command line, through the payment router."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING

from pos.errors import NotAllowed
from pos.money import Money
from pos.payments.live import taking_payment
from pos.payments.notify import receiver_from_config
from pos.payments.registry import open_router
from pos.services.checkout import RefundGateway, SaleReceipt
from pos.services.payments import record_payment, router_refunds
from pos.services.risk_gate import Checked

if TYPE_CHECKING:
    from pos.cli.context import CliContext
    from pos.services.terminal_services import TerminalServices


def pay_with_channel(
    ctx: CliContext,
    services: TerminalServices,
    order_id: str,
    channel: str,
    amount: Money,
    auth_code: str | None = None,
    risk: Checked | None = None,
) -> SaleReceipt:
    from pos.cli.payments import pay_from_cli

    router, problems = open_router(services.terminal)
    if channel not in router.channel_names:
        why = problems.get(channel, "not configured")
        raise NotAllowed(
            f"{channel} is not available on this terminal: {why}",
            "Pay in cash, or set the channel up (docs/payments.md; `pos sandbox run` for a demo).",
        )
    # With notifications configured, the provider's message wakes the wait
    # between queries; the payment is still confirmed by query.
    receiver = receiver_from_config(services.terminal.data_dir, router)
    with taking_payment(services.terminal.data_dir):
        with receiver or nullcontext():
            outcome = pay_from_cli(ctx, router, order_id, channel, amount, auth_code)
        if outcome.paid:
            return record_payment(services.checkout, order_id, outcome.intent, outcome, risk)
    others = ", ".join(router.alternatives(outcome.intent)) or "cash"
    raise NotAllowed(
        f"{channel}: {outcome.notice.en} ({outcome.intent.status.value})",
        f"The order stays open; take payment another way ({others}), or void it.",
    )


def refund_gateway(services: TerminalServices) -> RefundGateway | None:
    router, _ = open_router(services.terminal)
    return router_refunds(router, services.checkout)
