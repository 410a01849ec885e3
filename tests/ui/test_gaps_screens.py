"""What issue 12 asked to be on screen besides the failure paths, in both
languages on the real widgets over the sandbox gateways: the counter's tender
screen says whether the till is online and which earlier attempts are being
checked in the background; the manager sees how each let-go attempt ended;
the kiosk prints its receipt, or shows it as a QR code without a printer. With POS_SHOTS=DIR the screens are saved there."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pos.events import Event
from pos.flows.kiosk import KioskConfig
from tests.ui.conftest import (
    ALIPAY_CODE,
    COLA,
    KIOSK,
    MANAGER_PIN,
    WECHAT_CODE,
    approval,
    close_receipt,
    enter_pin,
    open_tender,
    ring_up,
    settle,
)
from tests.ui.test_failure_screens import SILENT, finished_dialog, shot
from ui.app import App
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow

ONLINE = {"en": "Network: online", "zh_CN": "网络：在线"}
OFFLINE = {"en": "Network: offline", "zh_CN": "网络：离线"}
CHECKING = {"en": "being checked in the background", "zh_CN": "正在后台核实"}


def _at_tender(app: App, qtbot: Any, cashier: CashierScreen, locale: str) -> Any:
    """A cola rung up and the tender screen open; the till's hold with a
    shorter first backoff so the test does not idle."""
    app.language.set(locale)
    till = app.runtime.till
    till.router.policy = replace(till.router.policy, first_backoff=0.3, max_backoff=1.0)
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    return till


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_tender_screen_shows_the_network_and_the_attempt_being_checked(
    app: App, qtbot: Any, cashier: CashierScreen, locale: str
) -> None:
    till = _at_tender(app, qtbot, cashier, locale)
    panel = cashier.tender_panel
    settle(app, lambda: panel.network.isVisible())
    assert panel.network.text() == ONLINE[locale]
    assert not panel.checking.isVisible()
    try:
        app.runtime.sandbox.state.set_scenario({"next": True, **SILENT})
        cashier._pay("wechat", "payment_code", None, WECHAT_CODE)
        finished_dialog(app, cashier).accept()
        settle(app, lambda: panel.checking.isVisible())
        said = panel.checking.text()
        assert CHECKING[locale] in said and ("WeChat" in said or "微信" in said)
        assert "3.50" in said or "¥" in said
        shot(app, cashier, "tender_checking_online")
        # The sync link down: the till says it is offline, in words.
        till.connectivity.link(False)
        panel.poll()
        settle(app, lambda: panel.network.text().startswith(OFFLINE[locale]))
        shot(app, cashier, "tender_offline")
    finally:
        till.connectivity.link(True)
        app.runtime.sandbox.state.reset()


# The shopper's code is charged, and every answer is lost until the test heals it.
# The till's own cancel never reaches the platform meanwhile.
PAID_BUT_LOST = {
    "pay_after": 0,
    "faults": [
        {"kind": "5xx", "op": "cancel", "times": 1000, "after": False},
        {"kind": "5xx", "op": "*", "times": 1000},
    ],
}
# Given back either way, as the platform prescribes: a refund, or a cancel that reverses.
GIVEN_BACK = {
    "en": ("Had been paid; refunded to the shopper", "Had been paid; reversed to the shopper"),
    "zh_CN": ("曾扣款，已原路退款给顾客", "曾扣款，已撤销退回顾客"),
}


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_an_attempt_paid_after_cash_covered_the_sale_is_refunded_and_shown_to_the_manager(
    app: App, qtbot: Any, cashier: CashierScreen, locale: str
) -> None:
    till = _at_tender(app, qtbot, cashier, locale)
    try:
        # The platform takes the money but its answers are lost: the till lets go.
        app.runtime.sandbox.state.set_scenario({"next": True, **PAID_BUT_LOST})
        cashier._pay("alipay", "payment_code", None, ALIPAY_CODE)
        finished_dialog(app, cashier).accept()
        settle(app)
        cashier.tender_panel.suggest_buttons[0].click()  # cash covers the sale
        receipt = close_receipt(app, cashier)
        [lost] = till.router.intents.released_open()
        app.runtime.sandbox.state.set_scenario({"out_trade_no": lost.out_trade_no})  # answers

        def ended() -> bool:
            till.nudge()
            with till.terminal.db.read() as conn:
                (n,) = conn.execute(
                    "SELECT count(*) FROM journal WHERE type = ?",
                    (Event.PAYMENT_RELEASED_SETTLED,),
                ).fetchone()
            return bool(n)

        settle(app, ended, timeout=30)
    finally:
        app.runtime.sandbox.state.reset()
    counter = app.counter
    assert counter is not None
    cashier.manager_button.click()
    enter_pin(approval(app, counter), MANAGER_PIN)
    manager = counter.manager
    table = manager.tables["released"]
    settle(app, lambda: table.rowCount() > 0 and table.item(0, 4) is not None)
    row = [item.text() for c in range(5) if (item := table.item(0, c)) is not None]
    assert row[1] == receipt and row[4] in GIVEN_BACK[locale]
    assert ("Alipay" in row[2]) if locale == "en" else ("支付宝" in row[2])
    assert row[3] == "3.50"
    manager.tabs.setCurrentWidget(table)
    settle(app)
    shot(app, manager, "manager_released_attempts")


def _kiosk_sale(app: App, printing: Any) -> KioskWindow:
    win = KioskWindow(app.ctx, KIOSK, KioskConfig(thanks_s=60), printing=printing)
    win.resize(1024, 768)
    win.show()
    win.on_scan(COLA)
    settle(app, lambda: win.session.checkout.order is not None)
    win.on_scan(ALIPAY_CODE)  # the shopper's payment code: paid at once
    settle(app, lambda: win.session.state.value == "thanks", timeout=20)
    return win


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_kiosk_prints_the_receipt_when_a_printer_is_set_up(app: App, locale: str) -> None:
    app.language.set(locale)
    emulator = app.runtime.printing.emulator
    win = _kiosk_sale(app, app.runtime.printing)
    try:
        receipt = win.receipt
        printed = {"en": "Your receipt is printed", "zh_CN": "小票已打印"}[locale]
        settle(app, lambda: receipt.note.text().startswith(printed), idle=False)
        paid = win.session.checkout.last_paid
        assert paid is not None and paid.receipt_no in emulator.wait_for(1)[0].text()
        assert not receipt.qr.isVisible()
        shot(app, win, "kiosk_thanks_printed")
    finally:
        win.allow_close = True
        win.close()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_without_a_printer_the_kiosk_shows_a_receipt_qr_and_promises_no_print(
    app: App, locale: str
) -> None:
    app.language.set(locale)
    win = _kiosk_sale(app, None)
    try:
        receipt = win.receipt
        paid = win.session.checkout.last_paid
        assert paid is not None
        assert receipt.qr.isVisible() and paid.receipt_no in receipt.qr.payload
        assert ("3.50" in receipt.qr.payload) and ("¥" in receipt.qr.payload)
        said = receipt.note.text() + win.thanks.text()
        assert ("print" not in said.lower()) if locale == "en" else ("打印" not in said)
        shot(app, win, "kiosk_thanks_receipt_qr")
    finally:
        win.allow_close = True
        win.close()


def test_a_kiosk_printer_out_of_paper_falls_back_to_the_receipt_qr(app: App) -> None:
    from drivers.printer.status import PrinterStatus

    app.runtime.printing.emulator.status = PrinterStatus(online=True, paper_out=True)
    win = _kiosk_sale(app, app.runtime.printing)
    try:
        receipt = win.receipt
        settle(app, lambda: receipt.qr.isVisible(), idle=False)
        assert receipt.note.text().startswith("The receipt printer is not working")
        paid = win.session.checkout.last_paid
        assert paid is not None and paid.receipt_no in receipt.qr.payload
        shot(app, win, "kiosk_thanks_printer_failed")
    finally:
        win.allow_close = True
        win.close()
