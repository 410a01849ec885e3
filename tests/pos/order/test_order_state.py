from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.errors import NotAllowed, NotFound
from pos.money import Money
from pos.order import Discount, Order, OrderState, Refund, Tender, plan_refund
from pos.order.state import ALLOWED, Action, check
from tests.pos.order.order_builders import COLA, MANAGER, basket, paid_split


def test_illegal_transitions_say_what_was_refused() -> None:
    paid = paid_split()
    with pytest.raises(NotAllowed) as err:
        paid.add_product(COLA)
    assert err.value.code == "order_rules.state.refused.paid"
    assert err.value.render("en").startswith("You cannot add items to a paid order. Start a new")
    assert err.value.render("zh_CN").startswith("已付款的订单不能添加商品。请开始新订单")
    with pytest.raises(NotAllowed, match="cannot resume an open order"):
        basket().resume()
    with pytest.raises(NotAllowed, match="cannot take payment for a parked order"):
        basket().park().tender_cash(Money(100))


def test_park_and_resume_keep_the_lines() -> None:
    parked = basket().park()
    assert parked.state is OrderState.PARKED
    resumed = parked.resume()
    assert resumed.state is OrderState.OPEN and resumed.lines == basket().lines


def test_cashier_voids_an_open_order_without_approval() -> None:
    voided = basket().void(reason="customer left")
    assert voided.state is OrderState.VOIDED and voided.void_approval is None


def test_void_after_payment_needs_a_manager_and_records_who() -> None:
    paid = paid_split()
    with pytest.raises(NotAllowed, match="manager"):
        paid.void()
    voided = paid.void(MANAGER, reason="wrong items")
    assert voided.state is OrderState.VOIDED
    assert voided.void_approval == MANAGER


def test_void_of_a_partly_paid_order_needs_a_manager() -> None:
    part = basket().add_tender(Tender("card", Money(1000)))
    assert part.state is OrderState.OPEN
    with pytest.raises(NotAllowed):
        part.void()
    assert part.void(MANAGER).state is OrderState.VOIDED


def test_lines_are_frozen_once_payment_has_started() -> None:
    part = basket().add_tender(Tender("card", Money(1000)))
    with pytest.raises(NotAllowed, match="once payment has started"):
        part.add_product(COLA)
    with pytest.raises(NotAllowed, match="once payment has started"):
        part.discount_order(Discount.percent(500))
    with pytest.raises(NotAllowed, match="once payment has started"):
        part.park()


def test_final_states_refuse_everything() -> None:
    for state in (OrderState.VOIDED, OrderState.REFUNDED):
        for action in Action:
            with pytest.raises(NotAllowed):
                check(state, action)


ACTIONS: dict[str, Callable[[Order], Order]] = {
    "add": lambda o: o.add_product(COLA),
    "remove": lambda o: o.remove_line(o.lines[0].line_id if o.lines else "L0"),
    "discount": lambda o: o.discount_order(Discount.percent(100)),
    "park": lambda o: o.park(),
    "resume": lambda o: o.resume(),
    "void": lambda o: o.void(MANAGER),
    "card": lambda o: o.add_tender(Tender("card", Money(100))),
    "cash": lambda o: o.tender_cash(Money(100_000)),
}
NEEDS = {
    "add": Action.ADD_LINE,
    "remove": Action.REMOVE_LINE,
    "discount": Action.DISCOUNT,
    "park": Action.PARK,
    "resume": Action.RESUME,
    "void": Action.VOID,
    "card": Action.TENDER,
    "cash": Action.TENDER,
    "refund": Action.REFUND,
}
NEXT = {
    OrderState.OPEN: {OrderState.OPEN, OrderState.PARKED, OrderState.PAID, OrderState.VOIDED},
    OrderState.PARKED: {OrderState.OPEN, OrderState.VOIDED},
    OrderState.PAID: {OrderState.VOIDED, OrderState.PARTLY_REFUNDED, OrderState.REFUNDED},
    OrderState.PARTLY_REFUNDED: {OrderState.PARTLY_REFUNDED, OrderState.REFUNDED},
    OrderState.VOIDED: set(),
    OrderState.REFUNDED: set(),
}


@given(st.lists(st.sampled_from(sorted(NEEDS)), max_size=25))
def test_random_action_sequences_only_take_allowed_transitions(names: list[str]) -> None:
    order = basket()
    refunds: list[Refund] = []
    for name in names:
        before = order
        try:
            if name == "refund":
                plan = plan_refund(order, refunds, amount=Money(500))
                refunds.append(plan.approve(MANAGER, f"r-{len(refunds)}"))
                order = order.apply_refund(refunds[-1])
            else:
                order = ACTIONS[name](order)
        except (NotAllowed, NotFound):
            # Refused, by the state or by a rule (e.g. nothing left to refund).
            continue
        assert NEEDS[name] in ALLOWED[before.state], (before.state, name)
        assert order.state in NEXT[before.state], (before.state, name, order.state)
