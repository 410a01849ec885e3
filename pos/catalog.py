"""Products and the catalog file a store imports.

CSV header (UTF-8, one product a row):

    sku,barcodes,name_zh,name_en,price,tax_class,active,sold_by_weight

`barcodes` are separated by '|' (may be empty: items found by search or PLU);
`price` is major-unit text ("12.50"), per unit, or per kg when sold_by_weight;
`active` and `sold_by_weight` are 1/0 (also true/false, yes/no). An import is
all or nothing: `parse_catalog_csv` returns every product or raises
`CatalogImportError` listing every bad row.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos.barcode import normalize_gtin
from pos.errors import InvalidInput
from pos.messages import Message, msg
from pos.money import DEFAULT_CURRENCY, Money, MoneyError
from pos.tax import DEFAULT_RATES

HEADER = ("sku", "barcodes", "name_zh", "name_en", "price", "tax_class", "active", "sold_by_weight")

_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}
_MAX_SKU = 64
_MAX_NAME = 200


class CatalogImportError(InvalidInput):
    """A catalog file with bad rows; `problems` holds every (line_number, reason)."""

    def __init__(self, problems: list[tuple[int, Message]]) -> None:
        rows = [msg("catalog.import.row", line=n, reason=r) for n, r in problems[:10]]
        more = len(problems) - len(rows)
        super().__init__(
            msg(
                "catalog.import.bad_rows_more" if more else "catalog.import.bad_rows",
                count=len(problems),
                rows=rows,
                more=more,
            )
        )
        self.problems = problems


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(msg("catalog.product.empty", field=field))
    if len(value) > limit:
        raise InvalidInput(msg("catalog.product.too_long", field=field, limit=limit))
    return value.strip()


@dataclass(frozen=True, slots=True)
class Product:
    """One sellable item. `unit_price` is per unit, or per kg when sold_by_weight.
    `barcodes` are in lookup form (GTIN-13 or GTIN-8; see pos.barcode)."""

    sku: str
    barcodes: tuple[str, ...]
    name_zh: str
    name_en: str
    unit_price: Money
    tax_class: str = "standard"
    active: bool = True
    sold_by_weight: bool = False

    def __post_init__(self) -> None:
        _text(self.sku, "sku", _MAX_SKU)
        _text(self.name_zh, "name_zh", _MAX_NAME)
        _text(self.name_en, "name_en", _MAX_NAME)
        if not isinstance(self.unit_price, Money) or self.unit_price.minor < 0:
            raise InvalidInput(msg("catalog.product.negative_price", sku=self.sku))
        if not isinstance(self.barcodes, tuple) or not all(
            isinstance(b, str) for b in self.barcodes
        ):
            raise InvalidInput(msg("catalog.product.bad_data", detail=f"barcodes of {self.sku}"))
        if not isinstance(self.tax_class, str) or not self.tax_class:
            raise InvalidInput(msg("catalog.product.empty", field="tax_class"))

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "barcodes": list(self.barcodes),
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "unit_price_minor": self.unit_price.minor,
            "currency": self.unit_price.currency,
            "tax_class": self.tax_class,
            "active": int(self.active),
            "sold_by_weight": int(self.sold_by_weight),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        try:
            price = data["unit_price_minor"]
            if type(price) is not int:
                raise TypeError("unit_price_minor must be an integer")
            return cls(
                sku=data["sku"],
                barcodes=tuple(data["barcodes"]),
                name_zh=data["name_zh"],
                name_en=data["name_en"],
                unit_price=Money(price, data["currency"]),
                tax_class=data["tax_class"],
                active=bool(data["active"]),
                sold_by_weight=bool(data["sold_by_weight"]),
            )
        except (KeyError, TypeError, MoneyError) as exc:
            raise InvalidInput(msg("catalog.product.bad_data", detail=str(exc))) from None


def _flag(text: str, field: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(msg("catalog.import.flag", field=field, text=text))


def _row(row: dict[str, str | None], currency: str, tax_classes: frozenset[str]) -> Product:
    if None in row.values() or None in row:
        raise InvalidInput(msg("catalog.import.columns"))
    cells = {k: (v or "") for k, v in row.items() if k is not None}
    for field, value in cells.items():
        bad = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
        if bad is not None:  # it would reach receipts and printers as a command
            raise InvalidInput(msg("catalog.import.control", field=field, char=f"U+{ord(bad):04X}"))
    try:
        price = Money.parse(cells["price"], currency)
    except MoneyError as exc:
        raise InvalidInput(msg("catalog.import.price", reason=exc.msg)) from None
    tax_class = cells["tax_class"].strip()
    if tax_class not in tax_classes:
        raise InvalidInput(
            msg(
                "catalog.import.tax_class",
                tax_class=tax_class,
                known=", ".join(sorted(tax_classes)),
            )
        )
    codes = [c for c in cells["barcodes"].split("|") if c.strip()]
    barcodes = tuple(normalize_gtin(c) for c in codes)
    if len(set(barcodes)) != len(barcodes):
        raise InvalidInput(msg("catalog.import.barcode_twice"))
    return Product(
        sku=cells["sku"].strip(),
        barcodes=barcodes,
        name_zh=cells["name_zh"],
        name_en=cells["name_en"],
        unit_price=price,
        tax_class=tax_class,
        active=_flag(cells["active"], "active"),
        sold_by_weight=_flag(cells["sold_by_weight"], "sold_by_weight"),
    )


def parse_catalog_csv(
    text: str,
    currency: str = DEFAULT_CURRENCY,
    tax_classes: frozenset[str] = frozenset(DEFAULT_RATES),
) -> list[Product]:
    """Every product in the file, or `CatalogImportError` with every bad row
    (line numbers count the header as line 1). Duplicate SKUs and barcodes
    are errors, reported on the later row."""
    if text.startswith("\ufeff"):  # Excel writes a BOM into UTF-8 CSV
        text = text[1:]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = tuple(h.strip() for h in (reader.fieldnames or ()))
    except csv.Error as exc:
        raise CatalogImportError([(1, msg("catalog.import.unreadable", detail=str(exc)))]) from None
    if header != HEADER:
        raise CatalogImportError([(1, msg("catalog.import.header", header=",".join(HEADER)))])
    reader.fieldnames = list(HEADER)
    products: list[Product] = []
    problems: list[tuple[int, Message]] = []
    skus: dict[str, int] = {}
    barcodes: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            try:
                product = _row(row, currency, tax_classes)
            except InvalidInput as exc:
                problems.append((line, _reason(exc)))
                continue
            if product.sku in skus:
                problems.append(
                    (line, msg("catalog.import.sku_twice", sku=product.sku, line=skus[product.sku]))
                )
                continue
            clash = next((b for b in product.barcodes if b in barcodes), None)
            if clash is not None:
                problems.append(
                    (
                        line,
                        msg("catalog.import.barcode_repeated", barcode=clash, line=barcodes[clash]),
                    )
                )
                continue
            skus[product.sku] = line
            barcodes.update({b: line for b in product.barcodes})
            products.append(product)
    except csv.Error as exc:
        problems.append(
            (reader.line_num + 1, msg("catalog.import.unreadable", detail=str(exc)))
        )  # the row being read
    if problems:
        raise CatalogImportError(problems)
    return products


def _reason(exc: InvalidInput) -> Message:
    return exc.msg if exc.msg is not None else msg("catalog.import.unreadable", detail=exc.message)
