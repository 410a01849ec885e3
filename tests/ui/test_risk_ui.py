"""Risk step-ups at the counter, with rules installed on the terminal: the ID
check is the cashier's own confirmation naming the reasons, and "online only"
greys cash out and takes a QR wallet instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.risk import install_ruleset
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.test_risk_step_up_flow import RULES
from tests.ui.conftest import (
    CHIPS,
    close_receipt,
    log_in,
    open_app,
    open_tender,
    qr_on_screen,
    scan,
    settle,
)
from ui.app import App
from ui.demo import provision_demo
from ui.qt import QApplication
from ui.screens.cashier import CashierScreen
from ui.widgets import IdCheckDialog


@pytest.fixture
def ruled_app(qapp: QApplication, tmp_path: Path) -> Iterator[App]:
    data_dir = tmp_path / "term"
    provision_demo(data_dir)
    with TerminalServices.open(data_dir) as services, services.terminal.db.transaction() as conn:
        install_ruleset(conn, RULES, 1, installed_at="2026-03-02T02:00:00.000000Z")
    app = open_app(data_dir)
    try:
        yield app
    finally:
        app.close()


def _chips(app: App, qtbot, cashier: CashierScreen, count: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(count):
        scan(qtbot, cashier.search, CHIPS)
        settle(app)
    settle(app, lambda: cashier.flow.order is not None and cashier.flow.order.item_count == count)


def test_id_check_asks_the_cashier_to_confirm_with_the_reasons_then_pays(
    ruled_app: App, qtbot
) -> None:
    cashier = log_in(ruled_app)
    _chips(ruled_app, qtbot, cashier, 4)  # 30.00
    open_tender(ruled_app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()  # exactly 30.00 in cash
    settle(ruled_app, lambda: isinstance(cashier.payer.step_up_dialog, IdCheckDialog))
    dlg = cashier.payer.step_up_dialog
    assert isinstance(dlg, IdCheckDialog) and dlg.isVisible()
    assert "check the shopper's ID" in dlg.reasons.text()
    assert dlg.confirm_button.text() == "I have checked the shopper's ID"
    dlg.confirm_button.click()
    close_receipt(ruled_app, cashier)


def test_online_only_greys_out_cash_and_a_qr_wallet_pays(ruled_app: App, qtbot) -> None:
    cashier = log_in(ruled_app)
    _chips(ruled_app, qtbot, cashier, 8)  # 60.00
    open_tender(ruled_app, cashier)
    panel = cashier.tender_panel
    panel.suggest_buttons[0].click()
    settle(ruled_app, lambda: not panel.take_cash.isEnabled())
    assert "must be paid online" in cashier.message.text()
    assert "Cash" in panel.unavailable.text()
    assert not any(b.isEnabled() for b in panel.suggest_buttons)
    alipay = panel.channel_buttons[("alipay", "qr")]
    assert alipay.isEnabled()
    alipay.click()
    qr_on_screen(ruled_app, cashier)
    ruled_app.runtime.sandbox.state.scan_now(None, None)
    close_receipt(ruled_app, cashier)
    paid = cashier.flow.last_paid
    assert paid is not None and [t.channel for t in paid.tenders] == ["alipay"]
