"""Non-cash tenders from the command line: the payment router, when this
terminal has channels configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos.errors import NotAllowed
from pos.money import Money
from pos.services.checkout import RefundGateway, SaleReceipt

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
) -> SaleReceipt:
    raise NotAllowed(
        f"{channel} is not set up on this terminal",
        "Pay in cash, or configure the channel (docs/payments.md).",
    )


def refund_gateway(services: TerminalServices) -> RefundGateway | None:
    return None
