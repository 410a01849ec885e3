"""Barcodes a scanner reads at the counter: EAN-13, EAN-8, UPC-A, and the store's
own weighted-item labels (GS1 prefix 2, "restricted circulation numbers").

`parse_scan(text, layouts)` turns scanner text into a `Scan`:

- a plain GTIN: EAN-13 and EAN-8 as they are, UPC-A (12 digits) widened to
  GTIN-13 with a leading 0, so one product is found by one key however its
  label was printed;
- a weighted-item label (13 digits, prefix matching a `WeightedLayout`): the
  store's item code plus an embedded price in minor units or a weight in
  grams. Its `lookup_key` is the label with the value zeroed (the "base
  barcode" that the catalog lists for the product).

Every input gives a `Scan` or `InvalidInput` saying why (wrong length, a
non-digit, a bad check digit, a bad price-verifier digit); nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg

# GS1 General Specifications 7.9.2-7.9.4: the weighting-factor tables for the
# price/weight verifier digit. Index = digit, value = units digit of the product.
_W2_MINUS = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)
_W5_PLUS = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)
_W5_MINUS = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body` (all digits except the check digit):
    weights 3,1,3,... from the right."""
    if not is_digits(body) or not body:
        raise InvalidInput(msg("catalog.barcode.not_digits", code=body))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def with_check_digit(body: str) -> str:
    """`body` followed by its GS1 check digit (for making valid codes)."""
    return body + str(gs1_check_digit(body))


def price_verifier_digit(value: str) -> int:
    """The GS1 price/weight verifier digit of a 4- or 5-digit value field."""
    if not is_digits(value) or len(value) not in (4, 5):
        raise InvalidInput(msg("catalog.barcode.verifier_length", value=value))
    d = [int(c) for c in value]
    if len(d) == 4:
        return (_W2_MINUS[d[0]] + _W2_MINUS[d[1]] + _W3[d[2]] + _W5_MINUS[d[3]]) * 3 % 10
    total = _W5_PLUS[d[0]] + _W2_MINUS[d[1]] + _W5_MINUS[d[2]] + _W5_PLUS[d[3]] + _W2_MINUS[d[4]]
    # The verifier is the digit whose 5- product is 10 minus the sum's units digit.
    return _W5_MINUS.index((10 - total % 10) % 10)


class Measure(StrEnum):
    PRICE = "price"  # embedded price in minor units (fen)
    WEIGHT = "weight"  # embedded weight in grams


@dataclass(frozen=True, slots=True)
class WeightedLayout:
    """How the store's scale prints a 13-digit label:
    prefix + item code [+ verifier digit] + value + check digit.

    `prefix` is "2" or two digits "20".."29"; the lengths must add up to 12
    before the check digit. With `price_verifier`, a GS1 verifier digit over a
    4- or 5-digit value sits between the item code and the value."""

    prefix: str = "2"
    item_digits: int = 6
    value_digits: int = 5
    measure: Measure = Measure.PRICE
    price_verifier: bool = False

    def __post_init__(self) -> None:
        if not (is_digits(self.prefix) and self.prefix[0] == "2" and len(self.prefix) <= 2):
            raise InvalidInput(msg("catalog.layout.prefix", prefix=self.prefix))
        if self.price_verifier and self.value_digits not in (4, 5):
            raise InvalidInput(msg("catalog.layout.verifier"))
        used = len(self.prefix) + self.item_digits + self.value_digits + int(self.price_verifier)
        if self.item_digits < 1 or self.value_digits < 1 or used != 12:
            raise InvalidInput(msg("catalog.layout.length", used=used))

    @property
    def value_start(self) -> int:
        return len(self.prefix) + self.item_digits + int(self.price_verifier)

    def base_barcode(self, item_code: str) -> str:
        """The catalog key for an item: its label with the value (and verifier) zeroed."""
        if not is_digits(item_code) or len(item_code) != self.item_digits:
            raise InvalidInput(
                msg("catalog.layout.item_code", code=item_code, digits=self.item_digits)
            )
        return with_check_digit(
            self.prefix + item_code + "0" * (12 - len(self.prefix) - self.item_digits)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "prefix": self.prefix,
            "item_digits": self.item_digits,
            "value_digits": self.value_digits,
            "measure": self.measure.value,
            "price_verifier": self.price_verifier,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> WeightedLayout:
        try:
            prefix, item, value = data["prefix"], data["item_digits"], data["value_digits"]
            measure, verifier = Measure(str(data["measure"])), data.get("price_verifier", False)
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInput(msg("catalog.layout.unreadable", detail=str(exc))) from None
        if not (isinstance(prefix, str) and type(item) is int and type(value) is int):
            raise InvalidInput(msg("catalog.layout.unreadable", detail="types"))
        return cls(prefix, item, value, measure, bool(verifier))


# A common Chinese scale label: 2 + 6-digit PLU + 5-digit price in fen + check.
DEFAULT_LAYOUTS: tuple[WeightedLayout, ...] = (WeightedLayout(),)


class ScanKind(StrEnum):
    GTIN = "gtin"
    WEIGHTED = "weighted"


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scan means. `lookup_key` is the catalog barcode to look up.

    For GTIN: `code` is GTIN-13 (UPC-A widened) or GTIN-8. For WEIGHTED:
    `item_code` plus exactly one of `price_minor` (in the store currency's
    minor units) or `grams`."""

    kind: ScanKind
    code: str
    lookup_key: str
    item_code: str = ""
    price_minor: int | None = None
    grams: int | None = None


def _check(code: str, what: str) -> None:
    if gs1_check_digit(code[:-1]) != int(code[-1]):
        raise InvalidInput(msg("catalog.barcode.check_digit", kind=what, code=code))


def _weighted(code: str, layout: WeightedLayout) -> Scan:
    start = layout.value_start
    value = code[start : start + layout.value_digits]
    if layout.price_verifier and price_verifier_digit(value) != int(code[start - 1]):
        raise InvalidInput(msg("catalog.barcode.verifier_digit", code=code))
    item = code[len(layout.prefix) : len(layout.prefix) + layout.item_digits]
    amount = int(value)
    return Scan(
        kind=ScanKind.WEIGHTED,
        code=code,
        lookup_key=layout.base_barcode(item),
        item_code=item,
        price_minor=amount if layout.measure is Measure.PRICE else None,
        grams=amount if layout.measure is Measure.WEIGHT else None,
    )


def parse_scan(text: str, layouts: Sequence[WeightedLayout] = DEFAULT_LAYOUTS) -> Scan:
    """Read one scan (surrounding whitespace and the scanner's CR/LF ignored)."""
    code = text.strip()
    if not code:
        raise InvalidInput(msg("catalog.barcode.empty"))
    if not is_digits(code):
        shown = code if len(code) <= 32 else code[:32] + "…"
        raise InvalidInput(msg("catalog.barcode.not_digits", code=shown))
    if len(code) == 8:
        _check(code, "EAN-8")
        return Scan(ScanKind.GTIN, code, code)
    if len(code) == 12:
        _check(code, "UPC-A")
        return Scan(ScanKind.GTIN, "0" + code, "0" + code)
    if len(code) != 13:
        raise InvalidInput(msg("catalog.barcode.length", code=code[:32], digits=len(code)))
    _check(code, "EAN-13")
    # Longest prefix first, so a "21" weight layout wins over a catch-all "2".
    for layout in sorted(layouts, key=lambda lay: -len(lay.prefix)):
        if code.startswith(layout.prefix):
            return _weighted(code, layout)
    return Scan(ScanKind.GTIN, code, code)


def normalize_gtin(text: str) -> str:
    """A catalog barcode in lookup form: EAN-13 or EAN-8 checked, UPC-A widened
    to 13 digits. Weighted base barcodes are ordinary EAN-13s and pass as is."""
    code = text.strip()
    if not is_digits(code) or len(code) not in (8, 12, 13):
        raise InvalidInput(msg("catalog.barcode.not_gtin", code=code[:32]))
    _check(code, {8: "EAN-8", 12: "UPC-A", 13: "EAN-13"}[len(code)])
    return "0" + code if len(code) == 12 else code
