from __future__ import annotations

import pytest

from pos.barcode import parse_scan, with_check_digit
from pos.catalog import Product
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.money import Money
from pos.order import Order
from tests.pos.order.order_builders import APPLES, COLA, GIFT, RETIRED, basket


def test_unit_line_costs_price_times_quantity() -> None:
    order = Order.open("o", "c").add_product(COLA, quantity=3)
    assert order.lines[0].gross == Money(1050)
    assert order.total == Money(1050)


def test_weighed_line_is_rounded_once_half_away_from_zero() -> None:
    # 12.80/kg x 0.333 kg = 4.2624 -> 4.26; 12.80 x 0.0045... at 1 g -> 0.0128 -> 0.01
    order = Order.open("o", "c").add_product(APPLES, grams=333).add_product(APPLES, grams=1)
    assert [ln.gross for ln in order.lines] == [Money(426), Money(1)]
    half = Product("X", (), "半", "Half", Money(1250), "reduced", sold_by_weight=True)
    # 12.50 x 0.0042 kg = 0.0525 -> 0.05; x 0.0044 kg = 0.055 -> 0.06 (half away from zero)
    order = Order.open("o", "c").add_product(half, grams=4).add_product(half, grams=44)
    assert [ln.gross for ln in order.lines] == [Money(5), Money(55)]


def test_scale_label_lines_take_the_embedded_price_or_weight() -> None:
    priced = parse_scan(with_check_digit("2000101" + "01234"))
    order = Order.open("o", "c").add_scan(APPLES, priced)
    assert order.lines[0].label_price and order.lines[0].gross == Money(1234)
    weighed = Order.open("o", "c").add_scan(
        APPLES, parse_scan(with_check_digit("21" + "00101" + "00500"), [_weight_layout()])
    )
    assert weighed.lines[0].grams == 500 and weighed.lines[0].gross == Money(640)
    plain = Order.open("o", "c").add_scan(COLA, parse_scan("6901234000016"))
    assert plain.lines[0].quantity == 1


def _weight_layout() -> object:
    from pos.barcode import Measure, WeightedLayout

    return WeightedLayout(prefix="21", item_digits=5, value_digits=5, measure=Measure.WEIGHT)


def test_weight_and_quantity_must_fit_the_product() -> None:
    with pytest.raises(InvalidInput, match="sold by weight"):
        Order.open("o", "c").add_product(APPLES)
    with pytest.raises(InvalidInput, match="sold per unit"):
        Order.open("o", "c").add_product(COLA, grams=100)
    with pytest.raises(InvalidInput, match="quantity"):
        Order.open("o", "c").add_product(COLA, quantity=0)
    with pytest.raises(InvalidInput, match="weight"):
        Order.open("o", "c").add_product(APPLES, grams=100_001)


def test_inactive_and_foreign_currency_products_are_refused() -> None:
    with pytest.raises(NotAllowed, match="not for sale"):
        Order.open("o", "c").add_product(RETIRED)
    usd = Product("U", (), "美元", "Dollar item", Money(100, "USD"), "standard")
    with pytest.raises(InvalidInput, match="USD"):
        Order.open("o", "c").add_product(usd)
    odd = Product("Z", (), "奢侈", "Luxury", Money(100), "luxury")
    with pytest.raises(InvalidInput, match="There is no tax class"):
        Order.open("o", "c").add_product(odd)


def test_quantity_changes_and_removal_keep_line_ids_unique() -> None:
    order = basket()
    order = order.set_quantity("L1", 5)
    assert order.line("L1").quantity == 5
    order = order.remove_line("L3").add_product(GIFT)
    assert [ln.line_id for ln in order.lines] == ["L1", "L2", "L4"]
    with pytest.raises(NotFound):
        order.remove_line("L3")
    with pytest.raises(InvalidInput, match="no quantity"):
        order.set_quantity("L2", 2)


def test_a_refused_change_leaves_the_order_as_it_was() -> None:
    order = basket()
    snapshot = order.to_dict()
    with pytest.raises(InvalidInput):
        order.set_quantity("L1", 10_000)
    assert order.to_dict() == snapshot
