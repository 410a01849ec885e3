"""Line and order discounts, and when they need a manager.

A discount is a percentage in basis points (1500 = 15%) of its base, or a
fixed amount in minor units. A line discount's base is the line's price; the
order discount's base is the sum of the lines after their own discounts, and
it is spread over those lines by largest remainder. A discount is refused
when it is more than its base, and when it is above the store's threshold
(more than `max_percent_bp` of its base, or more than `max_amount_minor`)
without a manager's approval, which the discount then keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pos.auth import Approval, require_approval
from pos.errors import InvalidInput, NotAllowed
from pos.messages import Message, msg
from pos.money import Money
from pos.order import fields
from pos.tax import BP


class DiscountKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


@dataclass(frozen=True, slots=True)
class Discount:
    """`value` is basis points for PERCENT (1..10000), minor units for AMOUNT (> 0)."""

    kind: DiscountKind
    value: int
    reason: str = ""
    approval: Approval | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", DiscountKind(self.kind))
        except ValueError:
            raise InvalidInput(msg("order_rules.discount.kind", kind=str(self.kind))) from None
        if type(self.value) is not int:
            raise InvalidInput(msg("order_rules.discount.whole"))
        if self.kind is DiscountKind.PERCENT and not 1 <= self.value <= BP:
            raise InvalidInput(msg("order_rules.discount.percent_range"))
        if self.kind is DiscountKind.AMOUNT and self.value <= 0:
            raise InvalidInput(msg("order_rules.discount.not_positive"))

    @classmethod
    def percent(cls, bp: int, reason: str = "", approval: Approval | None = None) -> Discount:
        return cls(DiscountKind.PERCENT, bp, reason, approval)

    @classmethod
    def amount(cls, value: Money, reason: str = "", approval: Approval | None = None) -> Discount:
        return cls(DiscountKind.AMOUNT, value.minor, reason, approval)

    def amount_of(self, base: Money) -> Money:
        """What this discount takes off `base` (percent: half away from zero)."""
        if self.kind is DiscountKind.PERCENT:
            return base.scale(self.value, BP)
        return Money(self.value, base.currency)

    def describe(self, currency: str) -> str:
        if self.kind is DiscountKind.PERCENT:
            whole, frac = divmod(self.value, 100)
            return f"{whole}.{frac:02d}%".replace(".00%", "%")
        return Money(self.value, currency).format()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "value": self.value,
            "reason": self.reason,
            "approval": None if self.approval is None else self.approval.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Discount:
        kind = fields.text(data, "kind")
        if kind not in {k.value for k in DiscountKind}:
            raise fields.bad(f"unknown discount kind {kind!r}")
        approval = fields.opt_record(data, "approval")
        return cls(
            DiscountKind(kind),
            fields.integer(data, "value"),
            fields.text(data, "reason"),
            None if approval is None else Approval.from_dict(approval),
        )


@dataclass(frozen=True, slots=True)
class DiscountPolicy:
    """Above either limit a discount needs a manager's approval."""

    max_percent_bp: int = 2000
    max_amount_minor: int = 5000

    def __post_init__(self) -> None:
        if type(self.max_percent_bp) is not int or not 0 <= self.max_percent_bp <= BP:
            raise InvalidInput(msg("order_rules.discount.limit_percent"))
        if type(self.max_amount_minor) is not int or self.max_amount_minor < 0:
            raise InvalidInput(msg("order_rules.discount.limit_amount"))

    def needs_approval(self, amount: Money, base: Money) -> bool:
        return (
            amount.minor > self.max_amount_minor
            or amount.minor * BP > base.minor * self.max_percent_bp
        )

    def to_dict(self) -> dict[str, int]:
        return {"max_percent_bp": self.max_percent_bp, "max_amount_minor": self.max_amount_minor}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiscountPolicy:
        return cls(fields.integer(data, "max_percent_bp"), fields.integer(data, "max_amount_minor"))


def checked_amount(
    discount: Discount, base: Money, policy: DiscountPolicy, what: str | Message
) -> Money:
    """The discount's amount on `base`, refused when it exceeds the base or
    needs an approval it does not carry. `what` names it ('the order discount')."""
    amount = discount.amount_of(base)
    if amount > base:
        raise NotAllowed(msg("order_rules.discount.too_large", amount=amount, base=base))
    if policy.needs_approval(amount, base):
        require_approval(
            discount.approval, msg("users.action.give_discount", what=what, amount=amount)
        )
    return amount
