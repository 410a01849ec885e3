from __future__ import annotations

import pytest

from pos.errors import InvalidInput, NotFound
from pos.flows import ApprovalRequired, CheckoutFlow, CheckoutState, FlowError
from pos.flows.checkout import payment_code_channel
from pos.flows.ports import Discount
from pos.money import Money
from tests.pos.flows.flow_fakes import MANAGER_OK

COLA, CHIPS = "6901234567892", "6909876543217"


def test_first_scan_opens_a_sale_and_adds_the_item(flow: CheckoutFlow) -> None:
    order = flow.scan(COLA)
    assert flow.state is CheckoutState.RINGING
    assert [ln.sku for ln in order.lines] == ["COLA"]
    assert order.total == Money(350)


def test_scanning_the_same_item_twice_counts_it_twice(flow: CheckoutFlow) -> None:
    flow.scan(COLA)
    order = flow.scan(COLA)
    assert order.lines[0].quantity == 2 and order.total == Money(700)


def test_bad_and_unknown_barcodes_are_refused_and_the_cart_stays(flow: CheckoutFlow) -> None:
    flow.scan(COLA)
    with pytest.raises(InvalidInput):
        flow.scan("abc")
    with pytest.raises(NotFound):
        flow.scan("4006381333931")
    assert flow.order is not None and flow.order.total == Money(350)


def test_search_finds_items_by_either_language_and_ignores_blank(flow: CheckoutFlow) -> None:
    assert [h.sku for h in flow.search("cri")] == ["CHIPS"]
    assert [h.sku for h in flow.search("可乐")] == ["COLA"]
    assert flow.search("  ") == []


def test_quantity_zero_voids_the_line(flow: CheckoutFlow) -> None:
    order = flow.add("COLA", 3)
    order = flow.set_quantity(order.lines[0].line_id, 0)
    assert order.lines == ()


def test_small_discount_applies_and_large_one_asks_for_a_manager(flow: CheckoutFlow) -> None:
    line = flow.add("CHIPS").lines[0].line_id
    assert flow.discount_line(line, Discount(basis_points=1000)).total == Money(801)
    with pytest.raises(ApprovalRequired) as exc:
        flow.discount_line(line, Discount(basis_points=5000))
    assert exc.value.action == "discount"
    assert flow.discount_line(line, Discount(basis_points=5000), MANAGER_OK).total == Money(445)


def test_parked_sale_resumes_with_its_lines(flow: CheckoutFlow) -> None:
    first = flow.scan(CHIPS).order_id
    flow.park()
    assert flow.state is CheckoutState.EMPTY and flow.order is None
    assert flow.scan(COLA).order_id != first
    flow.park()
    parked = {p.order_id for p in flow.parked()}
    assert first in parked
    order = flow.resume(first)
    assert [ln.sku for ln in order.lines] == ["CHIPS"]
    assert flow.state is CheckoutState.RINGING


def test_resuming_over_an_unfinished_sale_is_refused(flow: CheckoutFlow) -> None:
    first = flow.scan(CHIPS).order_id
    flow.park()
    flow.scan(COLA)
    with pytest.raises(FlowError):
        flow.resume(first)


def test_an_empty_cart_cannot_be_parked_or_tendered(flow: CheckoutFlow) -> None:
    line = flow.scan(COLA).lines[0].line_id
    flow.void_line(line)
    with pytest.raises(FlowError):
        flow.park()
    with pytest.raises(FlowError):
        flow.start_tender()


def test_cashier_voids_an_open_sale_without_a_manager(flow: CheckoutFlow) -> None:
    flow.scan(COLA)
    flow.void_order()
    assert flow.state is CheckoutState.EMPTY


def test_cart_is_locked_while_tendering(flow: CheckoutFlow) -> None:
    line = flow.scan(COLA).lines[0].line_id
    flow.start_tender()
    with pytest.raises(FlowError):
        flow.set_quantity(line, 2)
    with pytest.raises(FlowError):
        flow.scan(COLA)
    order = flow.back_from_tender()
    assert flow.state is CheckoutState.RINGING and order.total == Money(350)


@pytest.mark.parametrize(
    ("code", "channel"),
    [
        ("286412345678901234", "alipay"),
        ("134567890123456789", "wechat"),
        ("6901234567892", None),
        ("12345678", None),
        ("", None),
    ],
)
def test_payment_codes_are_told_from_product_barcodes(code: str, channel: str | None) -> None:
    assert payment_code_channel(code) == channel
