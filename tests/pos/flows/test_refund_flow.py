from __future__ import annotations

import pytest

from pos.errors import NotFound
from pos.flows import CheckoutFlow, FlowError, RefundFlow, RefundState
from pos.money import Money
from tests.pos.flows.flow_fakes import MANAGER_OK, Events, FakeCheckout, FakeRefunds

COLA, CHIPS = "6901234567892", "6909876543217"


def _paid_sale(flow: CheckoutFlow, events: Events) -> str:
    flow.scan(COLA)
    flow.scan(CHIPS)
    tender = flow.start_tender()
    tender.prepare("cash", "cash", tendered=Money(2000))
    tender.run(events)
    assert flow.finish_if_paid() and flow.last_paid is not None
    return flow.last_paid.receipt_no


def test_refund_of_one_line_from_the_receipt(
    flow: CheckoutFlow, checkout: FakeCheckout, events: Events
) -> None:
    receipt = _paid_sale(flow, events)
    refund = RefundFlow(checkout, FakeRefunds(checkout))
    order = refund.lookup(receipt)
    assert refund.refundable == Money(1240)
    chips = next(ln for ln in order.lines if ln.sku == "CHIPS")
    refund.toggle_line(chips.line_id)
    assert refund.preview() == Money(890)
    request = refund.request_approval("damaged")
    assert request.line_ids == (chips.line_id,)
    result = refund.run(MANAGER_OK)
    assert refund.state is RefundState.DONE and result.order.state == "partly_refunded"
    assert refund.refunded == Money(890) and refund.refundable == Money(350)


def test_refund_amount_cannot_exceed_what_is_refundable(
    flow: CheckoutFlow, checkout: FakeCheckout, events: Events
) -> None:
    refund = RefundFlow(checkout, FakeRefunds(checkout))
    refund.lookup(_paid_sale(flow, events))
    with pytest.raises(FlowError) as exc:
        refund.set_amount(Money(1241))
    assert "12.40" in exc.value.text.render("en")
    refund.set_amount(Money(1240))
    refund.request_approval("")
    assert refund.run(MANAGER_OK).order.state == "refunded"


def test_unknown_receipt_and_unpaid_sale_are_refused(
    flow: CheckoutFlow, checkout: FakeCheckout
) -> None:
    refund = RefundFlow(checkout, FakeRefunds(checkout))
    with pytest.raises(NotFound):
        refund.lookup("R9999")
    with pytest.raises(FlowError):
        refund.lookup("  ")
    assert refund.state is RefundState.LOOKUP


def test_refund_without_a_choice_does_not_go_to_approval(
    flow: CheckoutFlow, checkout: FakeCheckout, events: Events
) -> None:
    refund = RefundFlow(checkout, FakeRefunds(checkout))
    refund.lookup(_paid_sale(flow, events))
    with pytest.raises(FlowError):
        refund.request_approval("why")
    with pytest.raises(FlowError):
        refund.run(MANAGER_OK)
