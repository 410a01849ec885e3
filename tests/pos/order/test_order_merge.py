"""The same item scanned twice is one line with quantity 2; weighed,
label-priced and discounted lines stay lines of their own."""

from __future__ import annotations

from pos.barcode import parse_scan, with_check_digit
from pos.money import Money
from pos.order import Discount, Order
from tests.pos.order.order_builders import APPLES, COLA, MILK


def test_scanning_the_same_item_again_raises_the_quantity_of_its_line() -> None:
    cola = parse_scan("6901234000016")
    order = Order.open("o", "c").add_scan(COLA, cola).add_one_more(MILK).add_scan(COLA, cola)
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("DRK-001", 2), ("DRK-005", 1)]
    assert order.total == Money(350 * 2 + 320)


def test_weighed_and_label_priced_items_are_never_merged() -> None:
    priced = parse_scan(with_check_digit("2000101" + "01234"))
    order = Order.open("o", "c").add_scan(APPLES, priced).add_scan(APPLES, priced)
    assert [ln.label_price for ln in order.lines] == [True, True]
    by_weight = Order.open("o", "c").add_product(APPLES, grams=300).add_product(APPLES, grams=200)
    assert len(by_weight.lines) == 2


def test_a_discounted_line_is_not_merged_into() -> None:
    order = Order.open("o", "c").add_one_more(COLA)
    order = order.discount_line(order.lines[0].line_id, Discount.percent(1000))
    order = order.add_one_more(COLA)
    assert [ln.quantity for ln in order.lines] == [1, 1]
    assert order.add_one_more(COLA).lines[1].quantity == 2
