"""The manager's refunds-and-voids table over the real journal: each entry
on its own business day, and every entry of that day however many."""

from __future__ import annotations

from pos.flows.backoffice import Backoffice
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.conftest import MANAGER_PIN

DAY = 24 * 3600


def _void_a_paid_sale(services: TerminalServices) -> str:
    co = services.checkout
    order = co.new_order("c1")
    co.add_item(order.order_id, "DRK-001")
    co.pay_cash(order.order_id, Money(350))
    ok = services.users.approval("boss", MANAGER_PIN, "void")
    co.void(order.order_id, ok, "wrong item")
    return order.order_id


def test_a_void_is_listed_on_its_own_business_day_only(terminal_services) -> None:
    clock = terminal_services.terminal.clock
    today = terminal_services.checkout.business_date()
    voided = _void_a_paid_sale(terminal_services)
    clock.advance(DAY)
    tomorrow = terminal_services.checkout.business_date()
    office = Backoffice(terminal_services)
    assert len(office.refunds_and_voids(today).rows) == 1
    assert voided in str(office.refunds_and_voids(today).rows[0])
    assert office.refunds_and_voids(tomorrow).rows == ()


def test_the_table_lists_every_void_of_the_day_past_five_hundred(terminal_services) -> None:
    co = terminal_services.checkout
    ok = terminal_services.users.approval("boss", MANAGER_PIN, "void")
    for _ in range(505):
        order = co.new_order("c1")
        co.void(order.order_id, ok, "test")
    table = Backoffice(terminal_services).refunds_and_voids(co.business_date())
    assert len(table.rows) == 505
