from __future__ import annotations

import threading

import pytest

from pos.flows import (
    CheckoutFlow,
    CheckoutState,
    FlowError,
    OnlineOnly,
    TenderState,
    suggest_cash,
)
from pos.flows.views import Outcome
from pos.money import Money
from tests.pos.flows.flow_fakes import (
    CASHIER,
    MANAGER_OK,
    Events,
    FakeCatalog,
    FakeCheckout,
    FakePayments,
)

COLA, CHIPS = "6901234567892", "6909876543217"


def _tender(flow: CheckoutFlow, *codes: str):
    for c in codes:
        flow.scan(c)
    return flow.start_tender()


def test_cash_over_tendered_gives_change_and_finishes_the_sale(
    flow: CheckoutFlow, events: Events
) -> None:
    tender = _tender(flow, COLA, CHIPS)  # 12.40
    assert tender.prepare("cash", "cash", tendered=Money(2000)) is not None
    result = tender.run(events)
    assert result.status is Outcome.SUCCEEDED
    assert result.change == Money(760)
    assert tender.state is TenderState.PAID
    assert flow.finish_if_paid() and flow.state is CheckoutState.DONE
    assert flow.last_paid is not None and flow.last_paid.receipt_no


def test_split_tender_cash_then_qr_pays_the_rest(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    tender = _tender(flow, CHIPS)  # 8.90
    tender.prepare("cash", "cash", tendered=Money(500))
    tender.run(events)
    assert tender.state is TenderState.CHOOSING and tender.remaining == Money(390)
    request = tender.prepare("alipay", "qr")
    assert request is not None and request.amount == Money(390)
    tender.run(events)
    assert events.qrs and tender.paid


def test_qr_amount_above_what_is_due_is_refused(flow: CheckoutFlow) -> None:
    tender = _tender(flow, COLA)
    with pytest.raises(FlowError) as exc:
        tender.prepare("wechat", "qr", amount=Money(351))
    assert "3.50" in exc.value.text.render("en")


def test_declined_qr_returns_to_choosing_with_the_reason(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.script = [Outcome.FAILED]
    tender = _tender(flow, COLA)
    tender.prepare("alipay", "qr")
    result = tender.run(events)
    assert result.status is Outcome.FAILED and result.message.render("en")
    assert tender.state is TenderState.CHOOSING and tender.remaining == Money(350)


def test_timed_out_qr_leaves_the_sale_open_to_pay_another_way(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.script = [Outcome.TIMED_OUT]
    tender = _tender(flow, COLA)
    tender.prepare("wechat", "qr")
    assert tender.run(events).status is Outcome.TIMED_OUT
    assert tender.prepare("cash", "cash", tendered=Money(350)) is not None


def test_cancel_from_another_thread_stops_the_payment_at_the_gateway(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    release = threading.Event()
    payments.wait_for_cancel = release
    tender = _tender(flow, COLA)
    tender.prepare("alipay", "qr")
    results = []
    worker = threading.Thread(target=lambda: results.append(tender.run(events)))
    worker.start()
    while not events.statuses:
        release.wait(0.01)
    assert tender.busy
    with pytest.raises(FlowError):
        tender.prepare("cash", "cash", tendered=Money(500))
    tender.cancel()
    release.set()
    worker.join(5)
    assert results[0].status is Outcome.CANCELLED
    assert payments.cancelled_at_gateway == [flow.order.order_id]
    assert tender.state is TenderState.CHOOSING


def test_unknown_outcome_blocks_other_tenders_until_resolved(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.script = [Outcome.UNKNOWN]
    tender = _tender(flow, COLA)
    tender.prepare("alipay", "qr")
    tender.run(events)
    assert tender.state is TenderState.UNRESOLVED
    with pytest.raises(FlowError) as exc:
        tender.prepare("cash", "cash", tendered=Money(500))
    assert "not known" in exc.value.text.render("en")
    assert tender.resolve().status is Outcome.CANCELLED
    assert tender.state is TenderState.CHOOSING


def test_a_payment_call_that_fails_part_way_leaves_the_sale_to_be_checked_not_busy(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    tender = _tender(flow, COLA)
    tender.prepare("alipay", "payment_code", auth_code="286543210987654321")
    payments.fail_with = [OSError("disk full"), OSError("network down")]
    with pytest.raises(OSError):
        tender.run(events)
    assert tender.state is TenderState.UNRESOLVED and not tender.busy
    with pytest.raises(FlowError):
        tender.prepare("cash", "cash", tendered=Money(500))  # not before it is checked
    with pytest.raises(OSError):
        tender.resolve()
    assert tender.state is TenderState.UNRESOLVED
    assert tender.resolve().status is Outcome.CANCELLED
    assert tender.state is TenderState.CHOOSING
    tender.prepare("cash", "cash", tendered=Money(500))
    assert tender.run(events).status is Outcome.SUCCEEDED


def test_payment_code_needs_the_code(flow: CheckoutFlow, events: Events) -> None:
    tender = _tender(flow, COLA)
    with pytest.raises(FlowError):
        tender.prepare("alipay", "payment_code")
    request = tender.prepare("alipay", "payment_code", auth_code=" 286412345678901234 ")
    assert request is not None and request.auth_code == "286412345678901234"
    tender.run(events)
    assert not events.qrs and tender.paid


def test_risk_review_waits_for_a_manager_then_pays_with_the_approval(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.risk_action = "review"
    tender = _tender(flow, CHIPS)
    assert tender.prepare("wechat", "qr") is None
    assert tender.state is TenderState.STEP_UP
    assert tender.decision is not None and tender.decision.reasons[0].en
    with pytest.raises(FlowError):
        tender.run(events)
    request = tender.approve(MANAGER_OK)
    assert request.approval == MANAGER_OK
    tender.run(events)
    assert payments.requests[-1].approval == MANAGER_OK and tender.paid


def test_risk_block_refuses_with_the_reasons(flow: CheckoutFlow, payments: FakePayments) -> None:
    payments.risk_action = "block"
    tender = _tender(flow, CHIPS)
    with pytest.raises(FlowError) as exc:
        tender.prepare("alipay", "qr")
    assert "amount over the limit" in exc.value.text.render("en")
    assert tender.state is TenderState.CHOOSING


def test_cash_suggestions_round_up_to_the_notes_shoppers_hand_over() -> None:
    assert suggest_cash(Money(1240)) == [
        Money(1240),
        Money(1300),
        Money(1500),
        Money(2000),
        Money(5000),
    ]
    assert suggest_cash(Money(10000))[0] == Money(10000)
    assert suggest_cash(Money(0)) == []


def test_id_check_is_its_own_confirmation_not_a_manager_pin(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.risk_action = "review"
    payments.step_ups = ("check_id",)
    tender = _tender(flow, CHIPS)
    assert tender.prepare("cash", "cash", tendered=Money(2000)) is None
    assert tender.step_up == "check_id"
    with pytest.raises(FlowError):
        tender.approve(MANAGER_OK)  # a PIN is not an ID check
    request = tender.confirm_id()
    assert request is not None and request.id_checked and request.approval is None
    tender.run(events)
    assert tender.paid and payments.requests[-1].id_checked


def test_a_manager_pin_and_an_id_check_are_both_met_before_paying(
    flow: CheckoutFlow, payments: FakePayments
) -> None:
    payments.risk_action = "review"
    payments.step_ups = ("manager_pin", "check_id")
    tender = _tender(flow, CHIPS)
    assert tender.prepare("alipay", "qr") is None
    assert tender.step_up == "manager_pin"
    assert tender.approve(MANAGER_OK) is None
    assert tender.state is TenderState.STEP_UP and tender.step_up == "check_id"
    request = tender.confirm_id()
    assert request is not None and request.approval == MANAGER_OK and request.id_checked
    assert tender.state is TenderState.PAYING


def test_kiosk_id_check_needs_an_attendant(checkout: FakeCheckout, payments: FakePayments) -> None:
    kiosk = CheckoutFlow(CASHIER, checkout, FakeCatalog(), payments, mode="kiosk")
    payments.risk_action = "review"
    payments.step_ups = ("check_id",)
    kiosk.scan(CHIPS)
    tender = kiosk.start_tender()
    assert tender.prepare("alipay", "qr") is None
    with pytest.raises(FlowError):
        tender.confirm_id()
    assert tender.state is TenderState.STEP_UP
    assert tender.confirm_id(MANAGER_OK) is not None


def test_online_only_refuses_cash_and_offers_the_online_tenders(
    flow: CheckoutFlow, payments: FakePayments, events: Events
) -> None:
    payments.risk_action = "review"
    payments.step_ups = ("online_only",)
    tender = _tender(flow, CHIPS)
    with pytest.raises(OnlineOnly) as exc:
        tender.prepare("cash", "cash", tendered=Money(2000))
    assert "amount over the limit" in exc.value.text.render("en") and "online" in exc.value.text.render("en")
    assert tender.state is TenderState.CHOOSING
    offered = {ch.channel: ch for ch in tender.channels()}
    assert not offered["cash"].available and offered["cash"].why_unavailable is not None
    assert offered["alipay"].available and offered["wechat"].available
    request = tender.prepare("wechat", "qr")
    assert request is not None and request.approval is None
    tender.run(events)
    assert tender.paid
