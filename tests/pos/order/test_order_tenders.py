from __future__ import annotations

import pytest

from pos.errors import InvalidInput, NotAllowed
from pos.money import Money
from pos.order import CASH, Order, OrderState, Tender
from tests.pos.order.order_builders import basket, paid_split


def test_split_tender_with_cash_change() -> None:
    order = paid_split()  # total 46.16 - 4.62 = 41.54; card 20.00; cash 50.00
    assert order.total == Money(4154)
    assert order.state is OrderState.PAID
    card, cash = order.tenders
    assert (card.tender_id, card.amount) == ("T1", Money(2000))
    assert (cash.channel, cash.amount, cash.tendered) == (CASH, Money(2154), Money(5000))
    assert cash.change == order.change == Money(2846)
    assert order.paid == order.total and order.remaining == Money(0)


def test_exact_cash_pays_without_change() -> None:
    order = basket().tender_cash(Money(4616))
    assert order.state is OrderState.PAID and order.change == Money(0)


def test_partial_cash_leaves_the_rest_to_pay() -> None:
    order = basket().tender_cash(Money(1000))
    assert order.state is OrderState.OPEN and order.remaining == Money(3616)


def test_non_cash_may_never_exceed_what_remains() -> None:
    order = basket().add_tender(Tender("alipay", Money(4000)))
    with pytest.raises(NotAllowed, match=r"more than the ¥6\.16 still due"):
        order.add_tender(Tender("card", Money(617)))
    assert order.add_tender(Tender("card", Money(616))).state is OrderState.PAID


def test_only_cash_gives_change() -> None:
    with pytest.raises(InvalidInput, match="Only cash gives change"):
        Tender("card", Money(100), tendered=Money(200))
    with pytest.raises(InvalidInput):
        Tender(CASH, Money(200), tendered=Money(100))
    with pytest.raises(NotAllowed, match="only when it pays the rest"):
        basket().add_tender(Tender(CASH, Money(100), tendered=Money(200)))


def test_no_payment_for_empty_settled_or_foreign_orders() -> None:
    with pytest.raises(NotAllowed, match="empty"):
        Order.open("o", "c").tender_cash(Money(100))
    with pytest.raises(NotAllowed, match="cannot take payment for a paid order"):
        paid_split().tender_cash(Money(100))
    with pytest.raises(InvalidInput):
        basket().add_tender(Tender("card", Money(100, "USD")))
    with pytest.raises(InvalidInput):
        Tender("card", Money(0))
