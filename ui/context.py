"""What every screen is given: the services behind the flows' ports, the
operations runner, the language, the clock. Passed in, never global."""

from __future__ import annotations

from dataclasses import dataclass, field

from pos.clock import Clock
from pos.flows.ports import (
    AuthPort,
    CatalogLookup,
    CheckoutPort,
    DayClosePort,
    PaymentPort,
    RefundPort,
    ReviewPort,
)
from pos.flows.text import Text
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


@dataclass
class UiContext:
    services: Services
    ops: Ops
    language: Language

    def say(self, text: Text) -> str:
        return text.get(self.language.locale)

    def money(self, amount: Money) -> str:
        return amount.format(self.language.locale)
