"""Order lines: a product at a quantity, or a weighed product at a weight.

A unit line costs unit_price x quantity. A weighed line costs the price per
kg x grams / 1000, rounded half away from zero once for the line. A line from
a scale label with an embedded price costs that price (`label_price`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money
from pos.order import fields
from pos.order.discounts import Discount

MAX_QUANTITY = 9_999
MAX_GRAMS = 100_000  # 100 kg: beyond any counter scale


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    name_zh: str
    name_en: str
    tax_class: str
    unit_price: Money  # per unit; per kg when `grams` is set; the line price when label_price
    quantity: int = 1
    grams: int | None = None
    label_price: bool = False
    discount: Discount | None = None

    def __post_init__(self) -> None:
        if type(self.quantity) is not int or not 1 <= self.quantity <= MAX_QUANTITY:
            raise InvalidInput(msg("order_rules.line.quantity", most=MAX_QUANTITY))
        if self.grams is not None:
            if type(self.grams) is not int or not 1 <= self.grams <= MAX_GRAMS:
                raise InvalidInput(msg("order_rules.line.weight", kg=MAX_GRAMS // 1000))
            if self.quantity != 1 or self.label_price:
                raise InvalidInput(msg("order_rules.line.weighed_quantity"))
        if self.label_price and self.quantity != 1:
            raise InvalidInput(msg("order_rules.line.label_quantity"))
        if self.unit_price.minor < 0:
            raise InvalidInput(msg("order_rules.line.negative_price"))

    @property
    def weighed(self) -> bool:
        return self.grams is not None

    @property
    def refund_units(self) -> int:
        """How many units can be returned one by one: a weighed or labelled line is one."""
        return 1 if self.weighed or self.label_price else self.quantity

    @property
    def gross(self) -> Money:
        """The line's price before discounts."""
        if self.grams is not None:
            return self.unit_price.scale(self.grams, 1000)
        return self.unit_price.times(self.quantity)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "sku": self.sku,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "tax_class": self.tax_class,
            "unit_price_minor": self.unit_price.minor,
            "quantity": self.quantity,
            "grams": self.grams,
            "label_price": int(self.label_price),
            "discount": None if self.discount is None else self.discount.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], currency: str) -> Line:
        discount = fields.opt_record(data, "discount")
        return cls(
            line_id=fields.text(data, "line_id"),
            sku=fields.text(data, "sku"),
            name_zh=fields.text(data, "name_zh"),
            name_en=fields.text(data, "name_en"),
            tax_class=fields.text(data, "tax_class"),
            unit_price=fields.money(data, "unit_price_minor", currency),
            quantity=fields.integer(data, "quantity"),
            grams=fields.opt_integer(data, "grams"),
            label_price=bool(fields.integer(data, "label_price")),
            discount=None if discount is None else Discount.from_dict(discount),
        )
