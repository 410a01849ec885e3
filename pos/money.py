"""Money as integer minor units with an ISO 4217 currency. Never float."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pos.errors import InvalidInput
from pos.messages import msg

# Minor-unit exponents for the currencies a store here meets. ISO 4217.
_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "THB": 2,
    "MYR": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
}
CURRENCIES = frozenset(_EXPONENTS)
_SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "JPY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "HKD": "HK$",
}

DEFAULT_CURRENCY = "CNY"

_AMOUNT_RE = re.compile(r"^\s*(-)?(\d+)(?:\.(\d+))?\s*$")


class MoneyError(InvalidInput, ValueError):
    """A money value or operation that makes no sense (mixed currencies, bad text).

    Bad input (an amount typed or read from a file) reaches people, so it
    carries a catalogue message; it stays a ValueError for parsers that catch
    that."""


def exponent(currency: str) -> int:
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise MoneyError(msg("money.unsupported_currency", currency=currency)) from None


def minor_text(minor: int, currency: str) -> str:
    """Any integer amount as plain major-unit text ('12.50'): for sums that
    are not one store's money (a server's totals over many terminals)."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


# Ten trillion yuan: far beyond any sale, and a day's sums stay well inside the
# 64-bit integers the database stores.
MAX_MINOR = 10**15


@dataclass(frozen=True, order=False, slots=True)
class Money:
    minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError(msg("money.not_minor_units", kind=type(self.minor).__name__))
        if not -MAX_MINOR <= self.minor <= MAX_MINOR:
            raise MoneyError(msg("money.too_large", text=str(self.minor)))
        exponent(self.currency)

    # -- construction -------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Parse '12', '12.5', '12.50' (major units) exactly; more decimals than the
        currency has is an error rather than a silent rounding."""
        m = _AMOUNT_RE.match(text)
        if not m:
            raise MoneyError(msg("money.not_an_amount", text=text))
        sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
        exp = exponent(currency)
        if len(frac) > exp:
            raise MoneyError(
                msg("money.too_many_decimals", text=text, places=exp, currency=currency)
            )
        minor = int(whole) * 10**exp + (int(frac.ljust(exp, "0")) if exp else 0)
        if minor > MAX_MINOR:
            raise MoneyError(msg("money.too_large", text=text))
        return cls(-minor if sign else minor, currency)

    # -- arithmetic ---------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(msg("money.not_money", kind=type(other).__name__))
        if other.currency != self.currency:
            raise MoneyError(msg("money.currency_mismatch", a=self.currency, b=other.currency))

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def times(self, quantity: int) -> Money:
        return Money(self.minor * quantity, self.currency)

    def scale(self, numerator: int, denominator: int) -> Money:
        """self * numerator / denominator, rounded half away from zero: the one
        rounding rule the checkout uses (prices per kg x grams, percentages)."""
        if denominator <= 0:
            raise MoneyError(msg("money.bad_denominator"))
        return Money(_div_half_up(self.minor * numerator, denominator), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to non-negative integer weights so that the
        parts add up exactly (largest remainder; ties go to the earliest part)."""
        return [Money(m, self.currency) for m in allocate_minor(self.minor, weights)]

    # -- presentation -------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def amount_text(self) -> str:
        """Plain major-unit text with all decimals ('12.50'), as gateways want it."""
        return minor_text(self.minor, self.currency)

    def format(self, locale: str = "en") -> str:
        """'¥1,234.50' for en and zh_CN; other currencies by their code in en."""
        exp = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**exp) if exp else (abs(self.minor), 0)
        body = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
        symbol = _SYMBOLS.get(self.currency)
        if locale.startswith("zh") and self.currency == "CNY":
            return f"{sign}¥{body}"
        if symbol:
            return f"{sign}{symbol}{body}"
        return f"{sign}{self.currency} {body}"

    def __str__(self) -> str:
        return f"{self.amount_text()} {self.currency}"


def _div_half_up(numerator: int, denominator: int) -> int:
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def div_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero."""
    if denominator <= 0:
        raise MoneyError(msg("money.bad_denominator"))
    return _div_half_up(numerator, denominator)


def allocate_minor(total: int, weights: Sequence[int]) -> list[int]:
    if not weights:
        raise MoneyError(msg("money.no_weights"))
    if any(w < 0 for w in weights):
        raise MoneyError(msg("money.negative_weight"))
    wsum = sum(weights)
    if wsum == 0:
        # Nothing to be proportional to: the first part takes it all.
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    amount = abs(total)
    parts = [amount * w // wsum for w in weights]
    remainders = [(amount * w % wsum, -i) for i, w in enumerate(weights)]
    short = amount - sum(parts)
    for _, neg_i in sorted(remainders, reverse=True)[:short]:
        parts[-neg_i] += 1
    return [sign * p for p in parts]


def total(values: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
    acc = Money.zero(currency)
    for v in values:
        acc = acc + v
    return acc


def decimal_to_minor(value: Decimal, currency: str) -> int:
    """Exact conversion at the edge (gateway bodies): refuses sub-minor amounts."""
    try:
        scaled = value.scaleb(exponent(currency))
        if scaled != scaled.to_integral_value():
            raise MoneyError(
                msg(
                    "money.too_many_decimals",
                    text=str(value),
                    places=exponent(currency),
                    currency=currency,
                )
            )
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:
        raise MoneyError(msg("money.not_an_amount", text=str(value))) from exc
