"""The payments journal check: tables replayed from the journal, tenders
against their payments, and payments that kept money against tenders."""

from __future__ import annotations

import pytest

from pos.money import Money
from pos.payments.consistency import payments_agree_with_journal
from pos.payments.router import PaymentRouter
from pos.services.payments import record_payment, recover_payments
from pos.services.terminal_services import TerminalServices
from tests.pos.payments.conftest import open_order, pay_without_recording


def problems(services: TerminalServices) -> list[str]:
    with services.terminal.db.read() as conn:
        return payments_agree_with_journal(conn)


def edit(services: TerminalServices, sql: str, *params: object) -> None:
    with services.terminal.db.transaction() as conn:
        conn.execute(sql, params)


@pytest.fixture
def sold(services: TerminalServices, router: PaymentRouter, sandbox):
    """A sale paid by WeChat Pay, partly refunded on WeChat Pay."""
    order_id = open_order(services, "DRK-004")
    total = services.checkout.get(order_id).order.total
    intent = pay_without_recording(router, order_id, "wechat", total)
    record_payment(services.checkout, order_id, intent, None)
    router.refund(intent, Money(100), "damaged")
    return intent


def test_a_paid_and_partly_refunded_sale_agrees(services, sold):
    assert problems(services) == []


def test_an_edited_intent_amount_is_found(services, sold):
    edit(services, "UPDATE payment_intents SET amount_minor = 1 WHERE id = ?", sold.intent_id)
    found = problems(services)
    assert any("amount_minor 1, journal amount_minor 990" in p for p in found), found
    assert any(p.startswith("tender ") and "differs from its payment" in p for p in found)


def test_an_edited_intent_status_is_found(services, sold):
    edit(services, "UPDATE payment_intents SET status = 'closed' WHERE id = ?", sold.intent_id)
    found = problems(services)
    assert any("status 'closed', journal status 'partly_refunded'" in p for p in found), found
    assert any("its payment" in p and "is closed" in p for p in found)


def test_an_edited_refund_and_a_removed_intent_are_found(services, sold):
    edit(services, "UPDATE refund_intents SET amount_minor = 990")
    edit(services, "DELETE FROM refund_intents")
    edit(services, "DELETE FROM payment_intents WHERE id = ?", sold.intent_id)
    found = problems(services)
    assert any("is in the journal but not in its table" in p for p in found), found
    assert any("which does not exist" in p for p in found)


def test_a_payment_that_kept_money_without_a_tender_is_found_until_recovered(
    services,
    router,
    sandbox,
):
    order_id = open_order(services, "DRK-001")
    intent = pay_without_recording(router, order_id, "alipay", Money(350))
    [found] = problems(services)
    assert intent.out_trade_no in found and "pos payment recover" in found

    recover_payments(services, router)

    assert problems(services) == []


def test_a_tender_pointing_at_another_payment_is_found(services, sold, router):
    other = pay_without_recording(router, "T-TEST-1-elsewhere", "alipay", Money(350))
    edit(
        services,
        "UPDATE tenders SET intent_id = ? WHERE intent_id = ?",
        other.intent_id,
        sold.intent_id,
    )
    found = problems(services)
    assert any("differs from its payment" in p for p in found), found
    assert any(sold.out_trade_no in p and "no tender" in p for p in found)
