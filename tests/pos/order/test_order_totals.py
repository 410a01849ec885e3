from __future__ import annotations

from hypothesis import given, settings

from pos.money import Money
from pos.order import Discount, Order
from pos.tax import TaxTable
from tests.pos.order.order_builders import GIFT, MANAGER, MILK, basket, random_orders


def test_totals_of_a_mixed_basket_inclusive() -> None:
    order = basket().add_product(MILK).add_product(GIFT)
    t = order.totals()
    assert t.subtotal == Money(4616 + 320 + 10000)
    assert t.total == t.subtotal
    rates = {g.rate_bp: g for g in t.tax_by_rate}
    # standard: 10.50 + 29.90 = 40.40 -> 4.648 -> 4.65; reduced: 5.76 + 3.20 = 8.96 -> 0.7398 -> 0.74
    assert rates[1300].tax == Money(465)
    assert rates[900].tax == Money(74)
    assert rates[0].tax == Money(0)
    assert t.tax == Money(539)


def test_totals_of_a_basket_exclusive_add_tax_on_top() -> None:
    t = basket(inclusive=False).totals()
    assert t.tax == Money(div(4040 * 13, 100) + div(576 * 9, 100))
    assert t.total == t.subtotal + t.tax


def div(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b)


def test_empty_order_totals_are_zero() -> None:
    t = Order.open("o", "c").totals()
    assert (t.subtotal, t.tax, t.total) == (Money(0), Money(0), Money(0))


def test_a_fully_discounted_order_has_no_tax() -> None:
    order = Order.open("o", "c", tax_table=TaxTable(inclusive=False)).add_product(MILK)
    order = order.discount_order(Discount.percent(10_000, approval=MANAGER))
    assert order.total == Money(0) and order.totals().tax == Money(0)


@settings(max_examples=300)
@given(random_orders())
def test_lines_add_up_to_the_total_for_random_baskets(order: Order) -> None:
    t = order.totals()
    assert sum(lt.total.minor for lt in t.lines) == t.total.minor
    assert sum(lt.tax.minor for lt in t.lines) == t.tax.minor
    assert sum(g.tax.minor for g in t.tax_by_rate) == t.tax.minor
    assert sum(lt.order_discount.minor for lt in t.lines) == t.order_discount.minor
    assert sum(lt.line_discount.minor for lt in t.lines) == t.line_discounts.minor
    expected = t.subtotal - t.discount
    if not order.tax_table.inclusive:
        expected = expected + t.tax
    assert t.total == expected
    for lt in t.lines:
        assert lt.amount.minor >= 0 and lt.tax.minor >= 0
        assert lt.net + lt.tax == lt.total
