"""What every screen is given: the services behind the flows' ports, the
operations runner, the language, the clock. Passed in, never global."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pos.clock import Clock
from pos.flows.badges import BadgeDesk
from pos.flows.ports import (
    AuthPort,
    CatalogLookup,
    CheckoutPort,
    DayClosePort,
    PaymentPort,
    RefundPort,
    ReviewPort,
)
from pos.flows.text import Said
from pos.messages import msg
from pos.money import Money
from ui.i18n import Language
from ui.ops import Ops


@dataclass
class Services:
    auth: AuthPort
    catalog: CatalogLookup
    checkout: CheckoutPort
    payments: PaymentPort
    refunds: RefundPort
    dayclose: DayClosePort
    review: ReviewPort
    clock: Clock
    # Names of what is running behind the services, shown in settings and logs.
    notes: list[str] = field(default_factory=list)
    # Sign-in by staff badge on the card reader, when a reader layer is installed.
    badges: BadgeDesk | None = None
    # The chain's risk alerts about this store, from the central server
    # (ui.screens.chain_alerts); None: not asked for.
    chain_alerts: Callable[[], Any] | None = None


@dataclass
class UiContext:
    services: Services
    ops: Ops
    language: Language

    def say(self, said: Said) -> str:
        """A catalogue message (or a flow's zh/en pair) in the screen's language."""
        return said.render(self.language.locale)

    def t(self, code: str, **params: Any) -> str:
        """The catalogue's text for `code` in the screen's language."""
        return msg(code, **params).render(self.language.locale)

    def money(self, amount: Money) -> str:
        return amount.format(self.language.locale)
