"""`recover_payments`: payments that took money without becoming a tender are
attached to their order when it still fits, refunded otherwise; the shopper
is charged once. Real store, real sandbox gateways over loopback HTTP."""

from __future__ import annotations

import pytest

from pos.money import Money
from pos.order.state import OrderState
from pos.payments.channel import PaymentIntent, PaymentStatus, RefundStatus
from pos.payments.sandbox.server import SandboxServer
from pos.services.payments import AlreadyRecorded, record_payment, recover_payments
from tests.pos.payments.conftest import open_order, pay_without_recording


def charged(sandbox: SandboxServer, intent: PaymentIntent) -> int:
    return sum(
        t["charged"] for t in sandbox.state.view() if t["out_trade_no"] == intent.out_trade_no
    )


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_unrecorded_payment_is_attached_to_its_open_order(services, router, sandbox, channel):
    order_id = open_order(services, "DRK-001", "DRK-002")
    total = services.checkout.get(order_id).order.total
    intent = pay_without_recording(router, order_id, channel, total)

    report = recover_payments(services, router)

    [stray] = report.strays
    assert stray.action == "attached" and stray.receipt is not None
    assert stray.receipt.receipt_no
    stored = services.checkout.get(order_id).order
    assert stored.state is OrderState.PAID
    assert [t.channel for t in stored.tenders] == [channel]
    assert charged(sandbox, intent) == total.minor
    assert report.settled and services.verify().ok
    # Nothing is left for a second start-up to do.
    assert recover_payments(services, router).strays == []


def test_payment_for_an_order_paid_another_way_is_refunded(services, router, sandbox):
    order_id = open_order(services, "DRK-004")
    total = services.checkout.get(order_id).order.total
    intent = pay_without_recording(router, order_id, "alipay", total)
    services.checkout.pay_cash(order_id, Money(1000))

    report = recover_payments(services, router)

    [stray] = report.strays
    assert stray.action == "refunded" and "paid order" in stray.why
    assert stray.refund is not None and stray.refund.status is RefundStatus.SUCCEEDED
    assert charged(sandbox, intent) == 0
    assert [t.channel for t in services.checkout.get(order_id).order.tenders] == ["cash"]
    assert router.intents.payment(intent.intent_id).status is PaymentStatus.REFUNDED
    assert report.settled


def test_payment_larger_than_what_is_left_is_refunded(services, router, sandbox):
    order_id = open_order(services, "DRK-002")
    intent = pay_without_recording(router, order_id, "wechat", Money(5000))

    report = recover_payments(services, router)

    [stray] = report.strays
    assert stray.action == "refunded" and "more than" in stray.why
    assert charged(sandbox, intent) == 0
    assert services.checkout.get(order_id).order.tenders == ()


def test_payment_for_an_order_the_terminal_never_kept_is_refunded(services, router, sandbox):
    intent = pay_without_recording(router, "T-TEST-1-gone", "alipay", Money(350))

    report = recover_payments(services, router)

    assert [s.action for s in report.strays] == ["refunded"]
    assert charged(sandbox, intent) == 0


def test_refund_the_channel_does_not_confirm_is_reported_and_finished_later(
    services, router, sandbox
):
    intent = pay_without_recording(router, "T-TEST-1-gone", "wechat", Money(350))
    sandbox.state.per_order[intent.out_trade_no].faults = [
        _fault("5xx", "refund", 99),
        _fault("5xx", "refund_query", 99),
    ]

    report = recover_payments(services, router)

    [stray] = report.strays
    assert stray.action == "refund_open" and not report.settled
    assert any(intent.out_trade_no in p for p in report.problems)
    assert charged(sandbox, intent) == 350

    sandbox.state.per_order[intent.out_trade_no].faults = []
    later = recover_payments(services, router)
    assert [r.status for r in later.channels.refunds] == [RefundStatus.SUCCEEDED]
    assert later.strays == [] and later.settled
    assert charged(sandbox, intent) == 0


def test_one_payment_is_never_recorded_twice(services, router, sandbox):
    order_id = open_order(services, "DRK-004", "DRK-004")
    intent = pay_without_recording(router, order_id, "alipay", Money(500))
    record_payment(services.checkout, order_id, intent, None)

    with pytest.raises(AlreadyRecorded):
        record_payment(services.checkout, order_id, intent, None)

    assert [t.amount for t in services.checkout.get(order_id).order.tenders] == [Money(500)]
    assert recover_payments(services, router).strays == []


def _fault(kind: str, op: str, times: int):  # type: ignore[no-untyped-def]
    from pos.payments.sandbox.state import Fault

    return Fault(kind, op, times, after=False)
