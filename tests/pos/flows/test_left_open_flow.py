"""Sales the checkout left open (a crash, a closed window) are offered back at
login: resumed where they stopped, or voided (with a manager once money was
taken)."""

from __future__ import annotations

import pytest

from pos.flows import ApprovalRequired, CheckoutFlow, CheckoutState, FlowError, KioskSession
from pos.flows.core import CoreServices
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.conftest import CASHIER_PIN, MANAGER_PIN
from tests.pos.flows.flow_fakes import (
    CASHIER,
    Events,
    FakeCatalog,
    FakeCheckout,
    FakePayments,
    cash_in_part,
)

COLA = "6901234000016"  # 3.50
CHIPS = "6901234001013"  # 7.50


def _crash_with_part_paid(terminal_services: TerminalServices) -> tuple[CoreServices, str]:
    """Ring up cola and chips, take 5.00 cash, then close the services with the
    sale unpaid, and open the terminal again as the app would after a crash."""
    core = CoreServices(terminal_services)
    flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
    order_id = cash_in_part(flow, [COLA, CHIPS], Money(500))
    t = terminal_services.terminal
    data_dir, clock = t.data_dir, t.clock
    terminal_services.close()
    return CoreServices(TerminalServices.open(data_dir, clock)), order_id


def test_sale_left_open_by_a_crash_is_offered_with_its_lines_and_tender_and_resumes(
    terminal_services: TerminalServices,
) -> None:
    core, order_id = _crash_with_part_paid(terminal_services)
    try:
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        [left] = flow.left_open()
        assert left.order.order_id == order_id and left.mode == "cashier"
        assert len(left.order.lines) == 2 and left.order.total == Money(1100)
        assert [(t.channel, t.amount) for t in left.order.tenders] == [("cash", Money(500))]
        assert left.left_at == "10:00"  # Shanghai time of the fixture's clock
        order = flow.take_over(order_id)
        assert flow.state is CheckoutState.RINGING and order.remaining == Money(600)
        tender = flow.start_tender()
        assert tender.remaining == Money(600)
        tender.prepare("cash", "cash", tendered=Money(1000))
        tender.run(Events())
        assert flow.finish_if_paid()
        paid = core.get(order_id)
        assert paid.state == "paid" and len(paid.tenders) == 2
        assert flow.left_open() == []
    finally:
        core.services.close()


def test_voiding_a_sale_left_open_after_a_tender_needs_a_manager_and_gives_the_cash_back(
    terminal_services: TerminalServices,
) -> None:
    core, order_id = _crash_with_part_paid(terminal_services)
    try:
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        with pytest.raises(ApprovalRequired) as exc:
            flow.void_left_open(order_id)
        assert exc.value.action == "void"
        assert core.get(order_id).state == "open"
        flow.void_left_open(order_id, core.approve(MANAGER_PIN, "void"))
        assert core.get(order_id).state == "voided"
        assert flow.left_open() == [] and flow.state is CheckoutState.EMPTY
    finally:
        core.services.close()


def test_empty_sales_left_open_are_voided_not_offered_and_the_one_on_screen_is_not_offered(
    checkout: FakeCheckout, payments: FakePayments
) -> None:
    empty = checkout.new_order(CASHIER, "cashier").order_id
    left = checkout.new_order(CASHIER, "kiosk").order_id
    checkout.add_item(left, "COLA")
    flow = CheckoutFlow(CASHIER, checkout, FakeCatalog(), payments)
    flow.add("CHIPS")
    assert [lo.order.order_id for lo in flow.left_open()] == [left]
    assert checkout.orders[empty].state == "voided"


def test_taking_over_is_refused_over_a_sale_in_progress_and_for_a_sale_no_longer_open(
    checkout: FakeCheckout, flow: CheckoutFlow
) -> None:
    left = checkout.new_order(CASHIER, "cashier").order_id
    checkout.add_item(left, "COLA")
    flow.add("CHIPS")
    with pytest.raises(FlowError):
        flow.take_over(left)
    flow.park()
    checkout.void_order(left, None)
    with pytest.raises(FlowError):
        flow.take_over(left)
    assert flow.state is CheckoutState.EMPTY


def test_a_restarted_kiosk_voids_its_abandoned_carts_and_calls_the_attendant_for_a_part_paid_one(
    terminal_services: TerminalServices,
) -> None:
    core = CoreServices(terminal_services)
    kiosk = CheckoutFlow(core.login(CASHIER_PIN), core, core, core, mode="kiosk")
    part_paid = cash_in_part(kiosk, [COLA, CHIPS], Money(500))
    kiosk.tender, kiosk.order, kiosk.state = None, None, CheckoutState.EMPTY
    kiosk.scan(COLA)
    assert kiosk.order is not None
    abandoned = kiosk.order.order_id
    counter = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
    counter.scan(CHIPS)
    assert counter.order is not None
    counter_sale = counter.order.order_id
    t = terminal_services.terminal
    data_dir, clock = t.data_dir, t.clock
    terminal_services.close()

    core = CoreServices(TerminalServices.open(data_dir, clock))
    try:
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core, mode="kiosk")
        session = KioskSession(flow, clock)
        assert session.settle_left_open() == 1
        assert session.attendant_called
        assert core.get(abandoned).state == "voided"
        assert core.get(counter_sale).state == "open"  # waits for a cashier's login
        # The attendant finds the part-paid sale and voids it with a manager:
        # the money goes back to its tender.
        assert [lo.order.order_id for lo in flow.left_open()] == [part_paid, counter_sale]
        flow.void_left_open(part_paid, core.approve(MANAGER_PIN, "void"))
        assert core.get(part_paid).state == "voided"
        assert session.settle_left_open() == 0
    finally:
        core.services.close()


def test_an_idle_reset_leaves_a_part_paid_kiosk_sale_open_for_the_attendant(
    terminal_services: TerminalServices,
) -> None:
    core = CoreServices(terminal_services)
    clock = terminal_services.terminal.clock
    flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core, mode="kiosk")
    session = KioskSession(flow, clock)
    session.touch()
    order_id = cash_in_part(flow, [COLA, CHIPS], Money(500))
    session.reset()
    assert session.attendant_called and flow.order is None
    assert core.get(order_id).state == "open" and core.get(order_id).paid == Money(500)
    [left] = flow.left_open()
    assert left.order.order_id == order_id and left.mode == "kiosk"
    session.touch()
    flow.scan(COLA)  # the next shopper starts a cart of their own
    assert flow.order is not None and flow.order.order_id != order_id
