from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.printer.emulator import EmulatedPrinter
from pos.catalog import parse_catalog_csv
from pos.money import Money
from pos.order import Order, Tender
from pos.receipt import Receipt, StoreHeader, sale_receipt

CATALOG = Path(__file__).resolve().parents[3] / "assets" / "demo_catalog.csv"


@pytest.fixture(scope="session")
def receipt() -> Receipt:
    """A paid order of Chinese-named products, card and cash."""
    products = [
        p
        for p in parse_catalog_csv(CATALOG.read_text(encoding="utf-8"))
        if not p.sold_by_weight and p.unit_price.minor > 0
    ]
    order = Order.open("o-9", "u-7").add_product(products[0], 2).add_product(products[3])
    order = order.add_tender(Tender("card", Money(300))).tender_cash(Money(5000))
    card = {
        "kind": "payment", "channel": "card", "amount_minor": 300, "tendered_minor": None,
        "change_minor": 0, "currency": "CNY", "reference": "RRN42",
        "card_masked_pan": "622848******4321", "auth_code": "Z9Y8X7",
    }  # fmt: skip
    header = StoreHeader("好邻居便利店", "北京市朝阳区建国路88号", "010-88886666")
    when = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    return sale_receipt(
        order,
        header=header,
        receipt_no="20260105-0042",
        terminal_id="T01",
        cashier="王芳",
        created_at=when,
        tender_rows=[card],
    )


@pytest.fixture
def printer() -> Iterator[EmulatedPrinter]:
    with EmulatedPrinter() as p:
        yield p
