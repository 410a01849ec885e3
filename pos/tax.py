"""VAT by tax class, and the one rounding rule the checkout uses.

Tax classes map to rates in basis points (1300 = 13%). Prices are
VAT-inclusive by default (what Chinese shelf labels show); a store can make
them VAT-exclusive, in which case tax is added on top.

The rounding rule, used everywhere (sales, refunds, reports):

1. Each line's amount is its price net of every discount (its own discount
   and its share of the order discount), in the price basis of the table
   (tax-inclusive or tax-exclusive).
2. Lines are grouped by rate. A group's tax is computed once, on the sum of
   its lines, rounded half away from zero to the minor unit:
   inclusive  tax = G x r / (10000 + r);   exclusive  tax = N x r / 10000.
3. The group's tax is allocated to its lines in proportion to their amounts
   by largest remainder (ties to the earlier line), so the lines' taxes add
   up to the group's tax exactly.

Hence line totals (amount, plus tax when exclusive) always add up to the
order total to the fen, and the tax shown per rate is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money, div_half_up

BP = 10_000  # basis points in one whole

DEFAULT_RATES: Mapping[str, int] = {
    "standard": 1300,
    "reduced": 900,
    "low": 600,
    "zero": 0,
    "exempt": 0,
}


@dataclass(frozen=True, slots=True)
class TaxTable:
    """Rates by tax class in basis points, and whether prices include VAT."""

    rates: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RATES))
    inclusive: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.inclusive, bool):
            raise InvalidInput(msg("catalog.tax.mode"))
        for name, rate in self.rates.items():
            if not isinstance(name, str) or not name:
                raise InvalidInput(msg("catalog.tax.no_name"))
            if type(rate) is not int or not 0 <= rate <= BP:
                raise InvalidInput(msg("catalog.tax.rate", name=name))
        object.__setattr__(self, "rates", dict(self.rates))

    def rate(self, tax_class: str) -> int:
        try:
            return self.rates[tax_class]
        except KeyError:
            raise InvalidInput(
                msg(
                    "catalog.tax.unknown_class",
                    tax_class=tax_class,
                    known=", ".join(sorted(self.rates)),
                )
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {"rates": dict(sorted(self.rates.items())), "inclusive": int(self.inclusive)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaxTable:
        try:
            rates, inclusive = data["rates"], data["inclusive"]
        except (KeyError, TypeError):
            raise InvalidInput(msg("catalog.tax.unreadable")) from None
        if not isinstance(rates, Mapping) or inclusive not in (0, 1):
            raise InvalidInput(msg("catalog.tax.unreadable"))
        return cls(rates=rates, inclusive=bool(inclusive))


@dataclass(frozen=True, slots=True)
class LineTax:
    """A line's tax result. `amount` is the input (net of discounts, in the
    table's price basis); `net` excludes tax; `total` is what the line costs."""

    rate_bp: int
    amount: Money
    tax: Money
    net: Money
    total: Money


@dataclass(frozen=True, slots=True)
class RateTax:
    """One rate group: `net` (excluding tax) + `tax` = `gross`."""

    rate_bp: int
    net: Money
    tax: Money
    gross: Money

    def to_dict(self) -> dict[str, int]:
        return {
            "rate_bp": self.rate_bp,
            "net_minor": self.net.minor,
            "tax_minor": self.tax.minor,
            "gross_minor": self.gross.minor,
        }


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    lines: tuple[LineTax, ...]
    by_rate: tuple[RateTax, ...]  # highest rate first
    tax: Money
    total: Money


def group_tax(amount: Money, rate_bp: int, inclusive: bool) -> Money:
    """Tax of one rate group's amount, rounded half away from zero (rule step 2)."""
    denominator = BP + rate_bp if inclusive else BP
    return Money(div_half_up(amount.minor * rate_bp, denominator), amount.currency)


def compute_tax(
    lines: Sequence[tuple[str, Money]], table: TaxTable, currency: str = "CNY"
) -> TaxBreakdown:
    """Tax for lines given as (tax_class, amount net of discounts), by the
    module's rounding rule. Amounts must be zero or more."""
    rates = [table.rate(tax_class) for tax_class, _ in lines]
    for _, amount in lines:
        if amount.currency != currency:
            raise InvalidInput(
                msg("catalog.tax.line_currency", currency=amount.currency, order_currency=currency)
            )
        if amount.minor < 0:
            raise InvalidInput(msg("catalog.tax.negative_line"))
    taxes = [Money.zero(currency)] * len(lines)
    groups: list[RateTax] = []
    for rate in sorted(set(rates), reverse=True):
        members = [i for i, r in enumerate(rates) if r == rate]
        gross_in = Money(sum(lines[i][1].minor for i in members), currency)
        tax = group_tax(gross_in, rate, table.inclusive)
        for i, part in zip(
            members, tax.allocate([lines[i][1].minor for i in members]), strict=True
        ):
            taxes[i] = part
        net = gross_in - tax if table.inclusive else gross_in
        groups.append(RateTax(rate, net, tax, net + tax))
    line_taxes = tuple(
        LineTax(
            rate_bp=rate,
            amount=amount,
            tax=tax,
            net=amount - tax if table.inclusive else amount,
            total=amount if table.inclusive else amount + tax,
        )
        for (_, amount), rate, tax in zip(lines, rates, taxes, strict=True)
    )
    tax_total = Money(sum(g.tax.minor for g in groups), currency)
    grand = Money(sum(lt.total.minor for lt in line_taxes), currency)
    return TaxBreakdown(line_taxes, tuple(groups), tax_total, grand)
