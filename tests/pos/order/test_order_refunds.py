from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.money import Money
from pos.order import CASH, Order, OrderState, Refund, Tender, plan_refund
from tests.pos.order.order_builders import (
    CASHIER_SAYS_YES,
    COLA,
    MANAGER,
    basket,
    paid_split,
    random_orders,
)


def refund(order: Order, priors: list[Refund], **what: object) -> tuple[Order, Refund]:
    plan = plan_refund(order, priors, **what)  # type: ignore[arg-type]
    made = plan.approve(MANAGER, f"r-{len(priors) + 1}", reason="returned")
    return order.apply_refund(made), made


def test_refunding_a_line_returns_its_total_with_its_share_of_the_order_discount() -> None:
    order = paid_split()
    line = order.totals().line("L3")  # shampoo 29.90, less its share of the 10% discount
    assert line.order_discount == Money(299)
    after, made = refund(order, [], lines={"L3": 1})
    assert made.amount == line.total == Money(2691)
    assert after.state is OrderState.PARTLY_REFUNDED
    assert after.refunded == Money(2691)


def test_refund_goes_to_non_cash_first_then_cash_net_of_change() -> None:
    order = paid_split()  # card 20.00, cash 21.54 (50.00 handed, 28.46 change)
    _, made = refund(order, [], lines={"L3": 1})  # 26.91
    assert [(t.channel, t.amount) for t in made.tenders] == [
        ("card", Money(2000)),
        (CASH, Money(691)),
    ]
    assert made.tenders[0].reference == "auth-1"


def test_units_refunded_in_steps_return_exactly_the_line_total() -> None:
    order = paid_split()  # cola x3 line total after discount
    line_total = order.totals().line("L1").total
    priors: list[Refund] = []
    for _ in range(3):
        order, made = refund(order, priors, lines={"L1": 1})
        priors.append(made)
    assert sum(r.amount.minor for r in priors) == line_total.minor
    with pytest.raises(NotAllowed, match="0 of 3 are left"):
        plan_refund(order, priors, lines={"L1": 1})


def test_full_refund_returns_everything_and_the_tax_exactly() -> None:
    order = paid_split()
    order, first = refund(order, [], lines={"L1": 2, "L2": 1})
    order, second = refund(order, [first], lines={"L1": 1, "L3": 1})
    assert order.state is OrderState.REFUNDED
    assert order.refunded == order.total
    t = order.totals()
    for g in t.tax_by_rate:
        back = sum(
            x.tax.minor for r in (first, second) for x in r.tax_by_rate if x.rate_bp == g.rate_bp
        )
        assert back == g.tax.minor
    with pytest.raises(NotAllowed, match="cannot refund a refunded order"):
        plan_refund(order, [first, second], amount=Money(1))


def test_amount_refunds_are_capped_by_what_is_left() -> None:
    order = paid_split()
    order, made = refund(order, [], amount=Money(4000))
    with pytest.raises(NotAllowed, match="left on the order"):
        plan_refund(order, [made], amount=Money(155))
    order, _ = refund(order, [made], amount=Money(154))
    assert order.state is OrderState.REFUNDED


def test_refund_needs_a_manager() -> None:
    plan = plan_refund(paid_split(), [], amount=Money(100))
    with pytest.raises(NotAllowed, match="manager"):
        plan.approve(None, "r-1")
    with pytest.raises(NotAllowed, match="manager"):
        plan.approve(CASHIER_SAYS_YES, "r-1")


def test_refund_refuses_unpaid_orders_bad_lines_and_mismatched_history() -> None:
    with pytest.raises(NotAllowed, match="cannot refund an open order"):
        plan_refund(basket(), [], amount=Money(100))
    order = paid_split()
    with pytest.raises(NotFound):
        plan_refund(order, [], lines={"L9": 1})
    with pytest.raises(InvalidInput):
        plan_refund(order, [], lines={"L1": 0})
    with pytest.raises(InvalidInput, match="either items or an amount"):
        plan_refund(order, [], lines={"L1": 1}, amount=Money(1))
    after, made = refund(order, [], amount=Money(100))
    with pytest.raises(InvalidInput, match="refunds do not add up"):
        plan_refund(after, [], amount=Money(100))  # the earlier refund was not given
    other = replace(paid_split(), order_id="o-2")
    with pytest.raises(InvalidInput):
        other.apply_refund(made)


def test_a_line_refund_after_an_amount_refund_cannot_overshoot_a_rate() -> None:
    order = Order.open("o", "c").add_product(COLA).tender_cash(Money(350))
    order, made = refund(order, [], amount=Money(300))
    with pytest.raises(NotAllowed):
        plan_refund(order, [made], lines={"L1": 1})


def _paid(order: Order, cuts: list[int], channels: list[str]) -> Order:
    """Pay `order` in several tenders split at the given points."""
    total = order.total.minor
    points = sorted({c % total for c in cuts if total} - {0})
    amounts = [b - a for a, b in zip([0, *points], [*points, total], strict=True)]
    for i, amount in enumerate(amounts):
        channel = channels[i % len(channels)]
        if channel == CASH and i == len(amounts) - 1:
            order = order.tender_cash(Money(amount + 1000))
        else:
            order = order.add_tender(Tender(channel, Money(amount)))
    return order


@settings(max_examples=150, deadline=None)
@given(
    random_orders(),
    st.lists(st.integers(min_value=1, max_value=10**7), max_size=4),
    st.lists(st.sampled_from([CASH, "card", "alipay", "wechat"]), min_size=1, max_size=4),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**6)), max_size=12),
)
def test_random_refund_sequences_never_exceed_payments_per_tender(
    order: Order, cuts: list[int], channels: list[str], steps: list[tuple[bool, int]]
) -> None:
    if order.total.minor == 0:
        return
    order = _paid(order, cuts, channels)
    assert order.state is OrderState.PAID
    priors: list[Refund] = []
    for by_line, n in steps:
        if by_line:
            line = order.lines[n % len(order.lines)]
            what: dict[str, object] = {"lines": {line.line_id: 1 + n % line.refund_units}}
        else:
            what = {"amount": Money(1 + n % order.total.minor)}
        try:
            order, made = refund(order, priors, **what)
        except (NotAllowed, InvalidInput):
            continue
        priors.append(made)
        event("refund made")
        assert made.amount == Money(sum(t.amount.minor for t in made.tenders))
    per_tender: dict[str, int] = {}
    for r in priors:
        for t in r.tenders:
            per_tender[t.tender_id] = per_tender.get(t.tender_id, 0) + t.amount.minor
    for t in order.tenders:
        assert 0 <= per_tender.get(t.tender_id, 0) <= t.amount.minor
    refunded = sum(r.amount.minor for r in priors)
    assert refunded == order.refunded.minor <= order.total.minor
    tax_back = sum(g.tax.minor for r in priors for g in r.tax_by_rate)
    assert 0 <= tax_back <= order.totals().tax.minor
    if refunded == order.total.minor:
        event("fully refunded")
        assert order.state is OrderState.REFUNDED
        assert tax_back == order.totals().tax.minor
