"""Settlement reports (X, Z, daily), their exports, and reconciliation of the
payment channels' bills against the terminal's own records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos.reports.compute import ReportContext

if TYPE_CHECKING:
    from pos.services.terminal_services import TerminalServices


def context_of(services: TerminalServices) -> ReportContext:
    """The report context of an opened terminal: ids, currency, time zone, and
    the checkout's rule for which business day a moment belongs to."""
    checkout = services.checkout
    return ReportContext(
        store_id=services.terminal.store_id,
        terminal_id=services.terminal.terminal_id,
        currency=checkout.settings.currency,
        tz=checkout.timezone,
        business_date_of=checkout.business_date,
    )
