"""Tenders: what paid for an order, by which channel.

`amount` is what the tender pays toward the order. Only cash may be handed
over in excess: `tendered` is then what the shopper gave and `change` what
goes back, so a cash tender's amount is already net of change. Non-cash
tenders never exceed what remains to pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos.errors import InvalidInput
from pos.messages import Message, has, msg
from pos.money import Money
from pos.order import fields

CASH = "cash"


def channel_label(channel: str) -> Message:
    """A payment channel's name in the reader's language; one the catalogue
    does not name is shown as it is called."""
    code = f"till.channel.{channel}"
    return msg(code) if has(code) else msg("till.channel.other", channel=channel)


@dataclass(frozen=True, slots=True)
class Tender:
    channel: str
    amount: Money
    tendered: Money | None = None
    reference: str | None = None
    tender_id: str = ""  # given by the order when the tender is taken

    def __post_init__(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            raise InvalidInput(msg("order_rules.tender.no_channel"))
        if self.amount.minor <= 0:
            raise InvalidInput(msg("order_rules.tender.not_positive"))
        if self.tendered is not None:
            if self.channel != CASH:
                raise InvalidInput(msg("order_rules.tender.change_not_cash", channel=self.channel))
            if self.tendered < self.amount:
                raise InvalidInput(msg("order_rules.tender.short_cash"))

    @property
    def change(self) -> Money:
        return (
            Money.zero(self.amount.currency)
            if self.tendered is None
            else self.tendered - self.amount
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tender_id": self.tender_id,
            "channel": self.channel,
            "amount_minor": self.amount.minor,
            "tendered_minor": None if self.tendered is None else self.tendered.minor,
            "change_minor": self.change.minor,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], currency: str) -> Tender:
        return cls(
            channel=fields.text(data, "channel"),
            amount=fields.money(data, "amount_minor", currency),
            tendered=fields.opt_money(data, "tendered_minor", currency),
            reference=fields.opt_text(data, "reference"),
            tender_id=fields.text(data, "tender_id"),
        )
