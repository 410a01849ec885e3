"""An order's totals: discounts spread over lines, then tax by pos.tax's rule.

Every figure is derived from the lines, so the lines always add up to the
order: sum(line.total) == total, sum(line.tax) == tax, to the minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pos.errors import NotFound
from pos.messages import Name, msg
from pos.money import Money
from pos.order.discounts import Discount, DiscountPolicy, checked_amount
from pos.order.lines import Line
from pos.tax import RateTax, TaxTable, compute_tax


@dataclass(frozen=True, slots=True)
class LineTotal:
    """One line's figures. `amount` = gross - line_discount - order_discount (in
    the table's price basis); `net` excludes tax; `total` is what the line costs."""

    line_id: str
    rate_bp: int
    gross: Money
    line_discount: Money
    order_discount: Money
    amount: Money
    tax: Money
    net: Money
    total: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "rate_bp": self.rate_bp,
            "gross_minor": self.gross.minor,
            "line_discount_minor": self.line_discount.minor,
            "order_discount_minor": self.order_discount.minor,
            "tax_minor": self.tax.minor,
            "total_minor": self.total.minor,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    lines: tuple[LineTotal, ...]
    subtotal: Money  # sum of gross line prices
    line_discounts: Money
    order_discount: Money
    tax: Money
    tax_by_rate: tuple[RateTax, ...]  # highest rate first
    total: Money

    @property
    def discount(self) -> Money:
        return self.line_discounts + self.order_discount

    def line(self, line_id: str) -> LineTotal:
        for lt in self.lines:
            if lt.line_id == line_id:
                return lt
        raise NotFound(msg("order_rules.no_line", line=line_id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "subtotal_minor": self.subtotal.minor,
            "discount_minor": self.discount.minor,
            "line_discounts_minor": self.line_discounts.minor,
            "order_discount_minor": self.order_discount.minor,
            "tax_minor": self.tax.minor,
            "total_minor": self.total.minor,
            "tax_by_rate": [g.to_dict() for g in self.tax_by_rate],
            "lines": [lt.to_dict() for lt in self.lines],
        }


def compute_totals(
    lines: Sequence[Line],
    order_discount: Discount | None,
    table: TaxTable,
    policy: DiscountPolicy,
    currency: str,
) -> Totals:
    """Totals of `lines`; NotAllowed when a discount is too large or lacks the
    manager approval the policy asks for."""
    zero = Money.zero(currency)
    gross = [ln.gross for ln in lines]
    line_off = [
        zero
        if ln.discount is None
        else checked_amount(
            ln.discount,
            g,
            policy,
            msg("users.action.line_discount", name=Name(ln.name_zh, ln.name_en)),
        )
        for ln, g in zip(lines, gross, strict=True)
    ]
    after_line = [g - d for g, d in zip(gross, line_off, strict=True)]
    base = Money(sum(a.minor for a in after_line), currency)
    order_off = (
        zero
        if order_discount is None
        else checked_amount(order_discount, base, policy, msg("users.action.order_discount"))
    )
    shares = order_off.allocate([a.minor for a in after_line]) if lines else []
    amounts = [a - s for a, s in zip(after_line, shares, strict=True)]
    taxed = compute_tax(
        [(ln.tax_class, a) for ln, a in zip(lines, amounts, strict=True)], table, currency
    )
    line_totals = tuple(
        LineTotal(ln.line_id, t.rate_bp, g, d, s, t.amount, t.tax, t.net, t.total)
        for ln, g, d, s, t in zip(lines, gross, line_off, shares, taxed.lines, strict=True)
    )
    return Totals(
        currency=currency,
        lines=line_totals,
        subtotal=Money(sum(g.minor for g in gross), currency),
        line_discounts=Money(sum(d.minor for d in line_off), currency),
        order_discount=order_off,
        tax=taxed.tax,
        tax_by_rate=taxed.by_rate,
        total=taxed.total,
    )
