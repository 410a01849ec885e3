from __future__ import annotations

import pytest

from pos.errors import InvalidInput, NotAllowed
from pos.money import Money
from pos.order import Discount, DiscountPolicy, Order
from tests.pos.order.order_builders import CASHIER_SAYS_YES, COLA, MANAGER, SHAMPOO, basket


def test_line_discounts_by_percent_and_amount() -> None:
    order = basket().discount_line("L1", Discount.percent(1000))  # 10% of 10.50
    order = order.discount_line("L3", Discount.amount(Money(490)))
    totals = order.totals()
    assert totals.line("L1").line_discount == Money(105)
    assert totals.line("L3").line_discount == Money(490)
    assert totals.discount == Money(595)
    assert totals.total == Money(4616 - 595)


def test_order_discount_is_spread_over_lines_by_largest_remainder() -> None:
    order = Order.open("o", "c")
    for _ in range(3):
        order = order.add_product(COLA)
    order = order.discount_order(Discount.amount(Money(100)))
    shares = [lt.order_discount for lt in order.totals().lines]
    assert shares == [Money(34), Money(33), Money(33)]
    assert order.total == Money(950)


def test_order_discount_applies_after_line_discounts() -> None:
    order = basket().discount_line("L3", Discount.amount(Money(590)))  # shampoo 29.90 -> 24.00
    order = order.discount_order(Discount.percent(1000))
    totals = order.totals()
    assert totals.order_discount == Money(div10(4616 - 590))
    assert sum(lt.total.minor for lt in totals.lines) == totals.total.minor


def div10(minor: int) -> int:
    return (minor + 5) // 10


def test_large_discounts_need_a_manager_and_record_who_approved() -> None:
    order = basket()
    with pytest.raises(NotAllowed, match="manager's approval"):
        order.discount_order(Discount.percent(2500))
    with pytest.raises(NotAllowed, match="manager"):
        order.discount_order(Discount.percent(2500, approval=CASHIER_SAYS_YES))
    approved = order.discount_order(Discount.percent(2500, approval=MANAGER))
    assert approved.order_discount is not None
    assert approved.order_discount.approval == MANAGER
    # Exactly at the threshold needs no one.
    order.discount_order(Discount.percent(2000))


def test_amount_threshold_applies_too() -> None:
    big = Order.open("o", "c").add_product(SHAMPOO, quantity=10)  # 299.00
    big.discount_order(Discount.amount(Money(5000)))  # 50.00 is fine
    with pytest.raises(NotAllowed):
        big.discount_order(Discount.amount(Money(5001)))


def test_thresholds_are_configurable() -> None:
    strict = Order.open("o", "c", policy=DiscountPolicy(max_percent_bp=500, max_amount_minor=100))
    strict = strict.add_product(SHAMPOO)
    with pytest.raises(NotAllowed):
        strict.discount_line("L1", Discount.percent(600))


def test_a_discount_larger_than_its_base_is_refused() -> None:
    with pytest.raises(NotAllowed, match="more than"):
        basket().discount_line("L1", Discount.amount(Money(1051), approval=MANAGER))


def test_a_percent_discount_that_grows_past_the_limit_must_be_approved_again() -> None:
    # 10% of 46.16 is fine; with 20 more shampoos 10% is over 50.00.
    order = basket().discount_order(Discount.percent(1000))
    with pytest.raises(NotAllowed, match="order discount"):
        order.add_product(SHAMPOO, quantity=20)


def test_discounts_can_be_cleared() -> None:
    order = (
        basket().discount_line("L1", Discount.percent(500)).discount_order(Discount.percent(500))
    )
    cleared = order.discount_line("L1", None).discount_order(None)
    assert cleared.totals().discount == Money(0)


@pytest.mark.parametrize("bad", [(Discount.percent, 0), (Discount.percent, 10_001)])
def test_impossible_discounts_are_invalid(bad: tuple[object, int]) -> None:
    with pytest.raises(InvalidInput):
        Discount.percent(bad[1])
    with pytest.raises(InvalidInput):
        Discount.amount(Money(0))
    with pytest.raises(InvalidInput):
        DiscountPolicy(max_percent_bp=-1)
