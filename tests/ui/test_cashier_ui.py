"""Every tender through the cashier's screens, on the real services and the
sandbox gateways."""

from __future__ import annotations

from pos.flows.views import Outcome
from pos.money import Money
from pos.payments.sandbox.state import TradeState
from tests.ui.conftest import (
    CHIPS,
    COLA,
    MANAGER_PIN,
    NOODLES,
    WATER,
    WECHAT_CODE,
    approval,
    close_receipt,
    enter_pin,
    open_tender,
    qr_on_screen,
    ring_up,
    scan,
    settle,
    show_qr,
)
from ui.app import App
from ui.screens.cashier import CashierScreen


def test_cash_sale_with_a_suggested_note_shows_the_change(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS)  # 11.00
    assert cashier.totals.total.text() == "¥11.00"
    open_tender(app, cashier)
    notes = [b.text() for b in cashier.tender_panel.suggest_buttons]
    assert notes[:3] == ["¥11.00", "¥15.00", "¥20.00"]
    cashier.tender_panel.suggest_buttons[2].click()
    settle(app, lambda: cashier.receipt_dialog is not None)
    assert cashier.flow.last_paid is not None and cashier.flow.last_paid.change == Money(900)
    assert "¥9.00" in cashier.receipt_dialog.findChildren(type(cashier.who))[1].text()
    close_receipt(app, cashier)
    assert cashier.totals.total.text() == "¥0.00"


def test_cash_keypad_takes_part_and_a_qr_pays_the_rest(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, CHIPS, NOODLES)  # 12.50
    open_tender(app, cashier)
    panel = cashier.tender_panel
    for k in "5":
        panel._key(k)
    panel.take_cash.click()
    settle(
        app,
        lambda: cashier.flow.tender is not None and cashier.flow.tender.order.paid == Money(500),
    )
    assert panel.due.text() == "¥7.50"
    panel.channel_buttons[("wechat", "qr")].click()
    qr_on_screen(app, cashier)
    dialog = cashier.payer.dialog
    assert dialog.amount_label.text() == "¥7.50"
    app.runtime.sandbox.state.scan_now(None, None)
    close_receipt(app, cashier)
    paid = cashier.flow.last_paid
    assert paid is not None and [t.channel for t in paid.tenders] == ["cash", "wechat"]


def test_alipay_qr_is_paid_when_the_shopper_scans(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, WATER)
    open_tender(app, cashier)
    show_qr(app, cashier, "alipay")
    assert app.customer is not None and app.customer.qr.payload == cashier.payer.dialog.qr.payload
    app.runtime.sandbox.state.scan_now(None, None)
    receipt = close_receipt(app, cashier)
    assert app.runtime.core.find_receipt(receipt).tenders[0].channel == "alipay"


def test_cancel_closes_the_trade_at_the_gateway(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, NOODLES)
    open_tender(app, cashier)
    sandbox = app.runtime.sandbox
    show_qr(app, cashier, "alipay")
    dialog = cashier.payer.dialog
    dialog.cancel_button.click()
    settle(app, lambda: dialog.outcome is not None)
    assert dialog.outcome.status is Outcome.CANCELLED
    trades = [t for t in sandbox.state.trades.values() if t.platform == "alipay"]
    assert trades and trades[-1].state is TradeState.CLOSED
    assert cashier.flow.tender is not None and cashier.flow.tender.remaining == Money(500)
    cashier.tender_panel.suggest_buttons[0].click()
    close_receipt(app, cashier)


def test_qr_that_nobody_pays_times_out_and_the_sale_stays_open(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    show_qr(app, cashier, "wechat")
    dialog = cashier.payer.dialog
    settle(app, lambda: dialog.outcome is not None, timeout=20)
    assert dialog.outcome.status is Outcome.TIMED_OUT
    assert "timed out" in dialog.status.text().lower()
    assert cashier.flow.tender is not None and cashier.flow.tender.remaining == Money(350)


def test_scanned_payment_code_pays_with_no_further_touch(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, WATER)
    scan(qtbot, cashier.search, WECHAT_CODE)
    receipt = close_receipt(app, cashier)
    order = app.runtime.core.find_receipt(receipt)
    assert [t.channel for t in order.tenders] == ["wechat"] and order.paid == Money(550)


def test_park_and_resume_through_the_screen(
    app: App, qtbot, cashier: CashierScreen, monkeypatch
) -> None:
    ring_up(app, qtbot, cashier, CHIPS)
    first = cashier.flow.order.order_id
    cashier.park_button.click()
    settle(app, lambda: cashier.flow.order is None)
    assert cashier.cart.rowCount() == 0
    parked = app.runtime.core.parked()
    assert [p.order_id for p in parked] == [first]
    app.ops.run(
        "resume", lambda op: cashier.flow.resume(first), cashier.scope, lambda _: cashier._redraw()
    )
    settle(app, lambda: cashier.cart.rowCount() == 1)
    assert cashier.totals.total.text() == "¥7.50"


def test_void_after_a_part_payment_needs_the_manager_pin(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, CHIPS)
    open_tender(app, cashier)
    cashier.tender_panel._key("5")
    cashier.tender_panel.take_cash.click()
    settle(app, lambda: cashier.flow.tender.order.paid == Money(500))
    order_id = cashier.flow.order.order_id
    cashier.void_button.click()
    cashier.confirm_dialog.yes_button.click()
    dlg = approval(app, cashier)
    enter_pin(dlg, "9999")
    settle(app, lambda: dlg.message.text())
    assert dlg.isVisible()
    enter_pin(dlg, MANAGER_PIN)
    settle(app, lambda: cashier.flow.order is None)
    assert app.runtime.core.get(order_id).state == "voided"


def test_line_discount_over_the_limit_asks_a_manager(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, CHIPS)
    line = cashier.flow.order.lines[0].line_id
    app.ops.run("discount", lambda op: None, cashier.scope)
    cashier._run(
        "discount",
        lambda: cashier.flow.discount_line(line, _half()),
        retry_with=lambda appr: lambda: cashier.flow.discount_line(line, _half(), appr),
    )
    dlg = approval(app, cashier)
    enter_pin(dlg, MANAGER_PIN)
    settle(app, lambda: cashier.flow.order.total == Money(375))
    assert cashier.totals.total.text() == "¥3.75"


def _half():  # type: ignore[no-untyped-def]
    from pos.flows.ports import Discount

    return Discount(basis_points=5000)


def test_switching_language_redraws_the_open_screens(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA)
    assert cashier.pay_button.text() == "Pay ¥3.50"
    app.language.set("zh_CN")
    settle(app)
    assert cashier.pay_button.text() == "收款 ¥3.50"
    assert cashier.cart.item(0, 0).text() == "可口可乐 500ml"
    assert cashier.lang_button.text() == "English"


def test_print_sends_the_receipt_to_the_printer(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    settle(app, lambda: cashier.receipt_dialog is not None)
    dialog = cashier.receipt_dialog
    assert dialog.print_button.isEnabled()
    dialog.print_button.click()
    settle(app)
    printed = app.runtime.printing.emulator.wait_for(1, timeout=10)
    assert cashier.flow.last_paid.receipt_no in printed[0].text()
    close_receipt(app, cashier)
