from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.canonical import dumps, loads
from pos.errors import InvalidInput
from pos.money import Money
from pos.order import Discount, Order, Refund, plan_refund
from tests.pos.order.order_builders import MANAGER, basket, paid_split, random_orders


def through_json(data: dict[str, Any]) -> Any:
    return loads(dumps(data))  # canonical JSON refuses floats and odd types


def test_a_paid_discounted_split_order_round_trips_through_canonical_json() -> None:
    order = paid_split(basket().discount_line("L1", Discount.amount(Money(50))))
    restored = Order.from_dict(through_json(order.to_dict()))
    assert restored == order
    assert restored.totals() == order.totals()
    assert restored.change == order.change


def test_a_voided_order_keeps_who_approved() -> None:
    voided = paid_split().void(MANAGER, reason="wrong items")
    restored = Order.from_dict(through_json(voided.to_dict()))
    assert restored.void_approval == MANAGER and restored.void_reason == "wrong items"


def test_a_refund_round_trips_and_still_guards_the_next_one() -> None:
    order = paid_split()
    made = plan_refund(order, [], lines={"L3": 1}).approve(MANAGER, "r-1", "torn")
    order = order.apply_refund(made)
    restored = Refund.from_dict(through_json(made.to_dict()))
    assert restored == made
    again = Order.from_dict(through_json(order.to_dict()))
    nxt = plan_refund(again, [restored], amount=Money(1))
    assert nxt.amount == Money(1)


def test_a_voided_paid_order_needs_a_manager_on_record() -> None:
    data = through_json(paid_split().void(MANAGER).to_dict())
    data["void_approval"]["role"] = "cashier"
    with pytest.raises(InvalidInput, match="without a manager"):
        Order.from_dict(data)


def test_totals_serialise_for_the_journal() -> None:
    data = through_json(basket().totals().to_dict())
    assert data["total_minor"] == 4616
    assert sum(line["total_minor"] for line in data["lines"]) == 4616


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("state",), "lost"),
        (("currency",), "XXX"),
        (("lines", 0, "quantity"), 1.5),
        (("lines", 0, "quantity"), 0),
        (("lines", 0, "discount"), {"kind": "gift", "value": 1, "reason": ""}),
        (("tenders", 0, "amount_minor"), "20.00"),
        (("tenders", 0, "channel"), ""),
        (("tax_table", "rates"), [1300]),
        (("policy",), None),
        (("lines",), "L1"),
        (("tenders", 0), 7),
        (("state",), "open"),  # an open order cannot be fully paid
        (("refunded_minor",), 1),  # a paid order with a refund must say so
        (("void_approval",), {"user_id": "c-1", "role": "cashier", "reason": ""}),
        (("next_line",), 2),  # would reuse line ids
    ],
)
def test_a_damaged_document_is_reported_not_crashed_on(path: tuple[Any, ...], value: Any) -> None:
    data = through_json(paid_split(basket().discount_line("L1", Discount.percent(100))).to_dict())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInput):
        Order.from_dict(data)


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200)
@given(random_orders(), st.data())
def test_any_single_field_damage_gives_an_order_or_invalid_input(
    order: Order, data: st.DataObject
) -> None:
    doc = through_json(order.to_dict())
    key = data.draw(st.sampled_from(sorted(doc)))
    if data.draw(st.booleans()):
        del doc[key]
    else:
        doc[key] = data.draw(json_values)
    try:
        restored = Order.from_dict(doc)
    except InvalidInput as exc:
        assert exc.code == "order_rules.bad_data"
        return
    # What loads is a whole order again: consistent, and storable as it was.
    assert Order.from_dict(through_json(restored.to_dict())) == restored
    assert restored.paid <= restored.totals().total


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("amount_minor", lambda v: v + 1),
        ("amount_minor", lambda v: 0),
        ("tenders", lambda v: v[:1]),
        ("tax_by_rate", lambda v: []),
        ("currency", lambda v: "USD"),
        ("approval", lambda v: None),
    ],
)
def test_a_damaged_refund_is_reported_not_applied(key: str, change: Any) -> None:
    order = paid_split()
    data = through_json(plan_refund(order, [], lines={"L3": 1}).approve(MANAGER, "r-1").to_dict())
    data[key] = change(data[key])
    with pytest.raises(InvalidInput):
        order.apply_refund(Refund.from_dict(data))
