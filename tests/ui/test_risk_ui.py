"""Risk step-ups at the counter, with rules installed on the terminal: the ID
check is the cashier's own confirmation naming the reasons, and "online only"
greys cash out and takes a QR wallet instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.flows.kiosk import KioskConfig
from pos.risk import install_ruleset
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.test_risk_step_up_flow import RULES
from tests.ui.conftest import (
    ALIPAY_CODE,
    CHIPS,
    KIOSK,
    MANAGER_PIN,
    approval,
    close_receipt,
    enter_pin,
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
from ui.screens.kiosk import KioskWindow
from ui.widgets import ApprovalDialog, IdCheckDialog, StaffNeededDialog

KIOSK_RULES = """
[[rule]]
id = "kiosk-over-5-id"
when = "kiosk && amount > 500"
action = "review"
step_up = "check_id"
priority = 500
reason_zh = "自助机超过 5.00 元，请店员核对顾客身份证件"
reason_en = "Kiosk sale over 5.00; an attendant must check the shopper's ID"
"""


def _ruled(data_dir: Path, rules: str) -> App:
    provision_demo(data_dir)
    with TerminalServices.open(data_dir) as services, services.terminal.db.transaction() as conn:
        install_ruleset(conn, rules, 1, installed_at="2026-03-02T02:00:00.000000Z")
    return open_app(data_dir)


@pytest.fixture
def ruled_app(qapp: QApplication, tmp_path: Path) -> Iterator[App]:
    app = _ruled(tmp_path / "term", RULES)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def kiosk_ruled_app(qapp: QApplication, tmp_path: Path) -> Iterator[App]:
    app = _ruled(tmp_path / "term", KIOSK_RULES)
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


def test_kiosk_id_check_takes_an_attendant_pin_not_the_shoppers_word(
    kiosk_ruled_app: App, qtbot
) -> None:
    app = kiosk_ruled_app
    win = KioskWindow(app.ctx, KIOSK, KioskConfig(thanks_s=1))
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        scan(qtbot, win, CHIPS)  # 7.50
        settle(app, lambda: win.session.checkout.order is not None)
        scan(qtbot, win, ALIPAY_CODE)
        # The shopper is told staff are called; no PIN pad until staff ask for it.
        settle(app, lambda: isinstance(win.payer.step_up_dialog, StaffNeededDialog))
        assert win.session.attendant_called
        assert not [d for d in win.findChildren(ApprovalDialog) if d.isVisible()]
        win.payer.step_up_dialog.staff_button.click()
        dlg = approval(app, win)
        assert not win.findChildren(IdCheckDialog)  # no button a shopper could press
        assert "attendant checks the shopper's ID" in dlg.title.text()
        assert "an attendant must check" in dlg.reasons.text()
        enter_pin(dlg, MANAGER_PIN)
        settle(app, lambda: win.session.state.value == "thanks", idle=False)
        paid = win.session.checkout.last_paid
        assert paid is not None and paid.tenders[0].channel == "alipay"
    finally:
        win.allow_close = True
        win.close()
