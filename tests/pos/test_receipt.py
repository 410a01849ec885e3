from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.auth import Approval, Role
from pos.catalog import Product, parse_catalog_csv
from pos.errors import InvalidInput
from pos.money import Money
from pos.order import Discount, Order, Tender, plan_refund
from pos.receipt import (
    WIDTHS,
    QrRow,
    ReceiptInfo,
    StoreHeader,
    TextRow,
    card_last4,
    layout,
    parse_lookup_code,
    refund_receipt,
    render_text,
    sale_receipt,
    tender_from_row,
    text_width,
    wrap,
)

CATALOG = Path(__file__).resolve().parents[2] / "assets" / "demo_catalog.csv"
HEADER = StoreHeader(
    "好邻居便利店 Good Neighbour Store",
    "北京市朝阳区建国路88号 SOHO现代城1层",
    "010-88886666",
    "91110105MA01ABCD2X",
    ("谢谢惠顾，欢迎再来 Thank you",),
)
INFO = ReceiptInfo(HEADER, "20260105-0007", "T01", "王芳", datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
MANAGER = Approval("u-mgr", Role.MANAGER, "regular customer")


@pytest.fixture(scope="module")
def products() -> dict[str, Product]:
    return {p.sku: p for p in parse_catalog_csv(CATALOG.read_text(encoding="utf-8"))}


def _weighed(products: dict[str, Product]) -> Product:
    return next(p for p in products.values() if p.sold_by_weight)


def _unit(products: dict[str, Product], n: int) -> Product:
    return [p for p in products.values() if not p.sold_by_weight and p.unit_price.minor > 0][n]


def _paid_order(products: dict[str, Product]) -> Order:
    order = Order.open("o-1", "u-7")
    order = order.add_product(_unit(products, 0), quantity=2)
    order = order.add_product(_unit(products, 5))
    order = order.add_product(_weighed(products), grams=352)
    order = order.discount_line(order.lines[0].line_id, Discount.percent(1000))
    order = order.discount_order(Discount.amount(Money(50)))
    order = order.add_tender(Tender("card", Money(500)))
    return order.tender_cash(Money(10000))


def _card_row(masked: str | None) -> dict[str, object]:
    return {
        "kind": "payment",
        "channel": "card",
        "amount_minor": 500,
        "tendered_minor": None,
        "change_minor": 0,
        "currency": "CNY",
        "reference": "RRN123456",
        "card_masked_pan": masked,
        "auth_code": "A1B2C3",
    }


def _cash_row(order: Order) -> dict[str, object]:
    cash = order.tenders[1]
    return {
        "kind": "payment",
        "channel": "cash",
        "amount_minor": cash.amount.minor,
        "tendered_minor": 10000,
        "change_minor": cash.change.minor,
        "currency": "CNY",
        "reference": None,
        "card_masked_pan": None,
        "auth_code": None,
    }


def _sale(order: Order, rows: list[dict[str, object]] | None = None, reprint: bool = False):
    return sale_receipt(
        order,
        header=HEADER,
        receipt_no="20260105-0007",
        terminal_id="T01",
        cashier="王芳",
        created_at=INFO.created_at,
        tender_rows=rows or [],
        reprint=reprint,
    )


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_line_fits_its_paper_width_counting_chinese_as_two_columns(
    products: dict[str, Product], width: int, locale: str
) -> None:
    order = _paid_order(products)
    receipt = _sale(order, [_card_row("622848******1234"), _cash_row(order)])
    for row in layout(receipt, width, locale):
        if isinstance(row, TextRow):
            limit = width // 2 if row.double else width
            assert text_width(row.text) <= limit, row.text
    for line in render_text(receipt, width, locale).splitlines():
        assert text_width(line) <= width, line


def test_receipt_adds_up_to_the_order_total(products: dict[str, Product]) -> None:
    order = _paid_order(products)
    receipt = _sale(order)
    totals = order.totals()
    assert receipt.total == order.total
    assert sum(ln.amount.minor for ln in receipt.lines) == totals.subtotal.minor - (
        totals.line_discounts.minor
    )
    assert receipt.subtotal - receipt.discount == receipt.total  # VAT-inclusive prices
    assert sum(t.tax.minor for t in receipt.taxes) == totals.tax.minor
    assert receipt.change == order.change and receipt.change.minor > 0


def test_receipt_text_shows_lines_discounts_tax_by_rate_tenders_and_change(
    products: dict[str, Product],
) -> None:
    order = _paid_order(products)
    text = render_text(_sale(order, [_card_row("622848******1234"), _cash_row(order)]), 42)
    assert _unit(products, 0).name_zh in text
    assert "0.352kg x" in text and "/kg" in text
    assert "整单优惠" in text and "-0.50" in text
    for rate in order.totals().tax_by_rate:
        assert f"其中税额 {rate.rate_bp // 100}%" in text
    assert "合计 CNY" in text and order.total.amount_text() in text
    assert "银行卡" in text and "**** 1234" in text and "A1B2C3" in text
    assert "找零" in text and order.change.amount_text() in text
    assert "POS-R:T01:20260105-0007" in text


def test_a_card_is_printed_by_its_last_four_digits_whatever_is_stored() -> None:
    full = "6228480000001234567"
    tender = tender_from_row(_card_row(full))
    assert tender.card_last4 == "4567"
    assert card_last4("622848******1234") == "1234"
    assert card_last4(None) == "" and card_last4("12") == ""


def test_full_card_number_never_reaches_the_receipt(products: dict[str, Product]) -> None:
    order = _paid_order(products)
    full = "6228480000001234"
    text = render_text(_sale(order, [_card_row(full), _cash_row(order)]))
    assert full not in text and "622848" not in text
    assert "**** 1234" in text


def test_refund_slip_lists_what_went_back_and_to_which_tender(
    products: dict[str, Product],
) -> None:
    order = _paid_order(products)
    plan = plan_refund(order, [], lines={order.lines[1].line_id: 1})
    refund = plan.approve(MANAGER, "r-1", "damaged")
    slip = refund_receipt(order, refund, INFO)
    text = render_text(slip, 42, "en")
    assert "REFUND" in text
    assert slip.refunded == refund.amount
    assert sum(t.amount.minor for t in slip.tenders) == refund.amount.minor
    assert _unit(products, 5).name_en in text


def test_reprint_is_marked_as_such(products: dict[str, Product]) -> None:
    text = render_text(_sale(_paid_order(products), reprint=True), 32, "zh")
    assert "重印" in text


def test_receipt_carries_a_qr_code_that_finds_it_again(products: dict[str, Product]) -> None:
    receipt = _sale(_paid_order(products))
    codes = [r.payload for r in layout(receipt) if isinstance(r, QrRow)]
    assert codes == [receipt.lookup_code]
    assert parse_lookup_code(codes[0]) == ("T01", "20260105-0007")


@pytest.mark.parametrize("text", ["", "hello", "POS-R::1", "POS-R:T1", "X:T1:1"])
def test_other_codes_are_not_taken_for_a_receipt(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_lookup_code(text)


def test_unsupported_paper_width_is_refused(products: dict[str, Product]) -> None:
    with pytest.raises(InvalidInput, match="40 characters wide"):
        layout(_sale(_paid_order(products)), 40)


def test_chinese_text_wraps_on_columns_and_latin_text_between_words() -> None:
    assert wrap("红富士苹果特级精选山东烟台产", 10) == ["红富士苹果", "特级精选山", "东烟台产"]
    assert wrap("Good Neighbour Store", 16) == ["Good Neighbour", "Store"]


def test_a_stored_amount_that_is_not_an_integer_is_a_clear_error() -> None:
    row = _card_row("622848******1234")
    row["amount_minor"] = 5.0
    with pytest.raises(InvalidInput, match="not an amount"):
        tender_from_row(row)
