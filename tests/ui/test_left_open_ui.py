"""A sale the till left open when it stopped (the services closed with the sale
part paid) is offered at the next login, with its lines and the cash already
taken, and is resumed or voided from there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.money import Money
from tests.ui.conftest import (
    CHIPS,
    COLA,
    MANAGER_PIN,
    approval,
    close_receipt,
    enter_pin,
    log_in,
    open_app,
    open_tender,
    ring_up,
    settle,
)
from ui.app import App
from ui.qt import QApplication
from ui.screens.cashier import CashierScreen
from ui.screens.left_open import LeftOpenDialog


@pytest.fixture
def reopened(qapp: QApplication, tmp_path: Path, qtbot) -> Iterator[tuple[App, str]]:  # type: ignore[no-untyped-def]
    """Cola and chips (11.00), 5.00 cash taken, then the app closes unpaid; the
    app is opened again on the same terminal."""
    data_dir = tmp_path / "term"
    first = open_app(data_dir)
    try:
        cashier = log_in(first)
        ring_up(first, qtbot, cashier, COLA, CHIPS)
        open_tender(first, cashier)
        cashier.tender_panel._key("5")
        cashier.tender_panel.take_cash.click()
        settle(
            first,
            lambda: (
                cashier.flow.tender is not None and cashier.flow.tender.order.paid == Money(500)
            ),
        )
        order_id = cashier.flow.tender.order.order_id  # type: ignore[union-attr]
    finally:
        first.close()
    again = open_app(data_dir)
    try:
        yield again, order_id
    finally:
        again.close()


def _offered(app: App, cashier: CashierScreen) -> LeftOpenDialog:
    settle(app, lambda: cashier.left_open_dialog is not None)
    dlg = cashier.left_open_dialog
    assert dlg is not None and dlg.isVisible()
    return dlg


def test_sale_left_open_by_a_crash_is_offered_at_login_and_resumed(
    reopened: tuple[App, str],
) -> None:
    app, order_id = reopened
    cashier = log_in(app)
    dlg = _offered(app, cashier)
    assert dlg.order_ids == [order_id]
    assert dlg.lines.rowCount() == 2
    assert "¥5.00" in dlg.paid.text() and "Cash" in dlg.paid.text()
    assert "¥6.00 due" in dlg.list.item(0).text()
    dlg.resume_button.click()
    settle(app, lambda: cashier.left_open_dialog is None)
    assert cashier.flow.order is not None and cashier.flow.order.order_id == order_id
    assert cashier.cart.rowCount() == 2
    open_tender(app, cashier)
    assert cashier.tender_panel.due.text() == "¥6.00"
    cashier.tender_panel.suggest_buttons[0].click()  # the exact 6.00
    close_receipt(app, cashier)
    paid = app.runtime.core.get(order_id)
    assert paid.state == "paid" and [t.amount for t in paid.tenders] == [Money(500), Money(600)]


def test_voiding_a_sale_left_open_after_a_tender_asks_a_manager(
    reopened: tuple[App, str],
) -> None:
    app, order_id = reopened
    cashier = log_in(app)
    dlg = _offered(app, cashier)
    dlg.void_button.click()
    enter_pin(approval(app, dlg), MANAGER_PIN)
    settle(app, lambda: cashier.left_open_dialog is None)
    assert app.runtime.core.get(order_id).state == "voided"
    assert cashier.flow.order is None
    # Logging in again offers nothing: the sale is settled.
    assert app.counter is not None
    app.counter.logout()
    cashier = log_in(app)
    settle(app)
    assert cashier.left_open_dialog is None
