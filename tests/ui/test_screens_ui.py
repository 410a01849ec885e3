"""The counter's screens as a cashier uses them (issue 12): the scanned line
is selected and repeats merge, delete and void ask first, the tender screen
leads with what is still due, the customer display holds 支付成功, money going
back is said as an instruction, and the printer's real state is shown."""

from __future__ import annotations

from pos.money import Money
from tests.ui.conftest import (
    CHIPS,
    COLA,
    MANAGER_PIN,
    NOODLES,
    approval,
    close_receipt,
    enter_pin,
    open_tender,
    qr_on_screen,
    ring_up,
    scan,
    sell_by_qr,
    settle,
)
from ui.app import App
from ui.screens.cashier import CashierScreen


def _selected_sku(cashier: CashierScreen) -> str:
    line = cashier.cart.selected_line()
    assert line is not None and cashier.flow.order is not None
    return cashier.flow.order.line(line).sku


def test_the_same_item_scanned_again_is_one_line_and_the_selected_one(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS)
    assert _selected_sku(cashier) == cashier.flow.order.lines[1].sku  # the chips, just scanned
    scan(qtbot, cashier.search, COLA)
    settle(app, lambda: cashier.flow.order.lines[0].quantity == 2)
    assert len(cashier.flow.order.lines) == 2
    cola = cashier.flow.order.lines[0]
    assert _selected_sku(cashier) == cola.sku  # the merged line is the one just scanned
    cashier.plus_button.click()  # +1 acts on it, not on the first or last row
    settle(app, lambda: cashier.flow.order.lines[0].quantity == 3)
    assert cashier.flow.order.lines[1].quantity == 1
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    receipt = close_receipt(app, cashier)
    text = app.runtime.core.receipt_text(app.runtime.core.find_receipt(receipt).order_id)
    assert text.count("可口可乐") == 1  # one line on the receipt too


def test_deleting_a_line_asks_first_and_keep_keeps_it(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS)
    cashier.void_line_button.click()
    dlg = cashier.confirm_dialog
    assert dlg is not None and dlg.isVisible() and "chips" in dlg.question.text()
    dlg.keep_button.click()
    settle(app)
    assert len(cashier.flow.order.lines) == 2
    cashier.minus_button.click()  # the last one off is a delete too: asked first
    assert cashier.confirm_dialog is not None
    cashier.confirm_dialog.yes_button.click()
    settle(app, lambda: len(cashier.flow.order.lines) == 1)
    assert cashier.flow.order.lines[0].sku == _selected_sku(cashier)


def test_tender_screen_leads_with_what_is_still_due_and_lists_tenders(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS, NOODLES)  # 3.50 + 7.50 + 5.00 = 16.00
    assert cashier.pay_button.text() == "Pay ¥16.00"
    open_tender(app, cashier)
    panel = cashier.tender_panel
    panel._key("5")
    panel.take_cash.click()
    settle(app, lambda: cashier.flow.tender.order.paid == Money(500))
    assert panel.title.text() == "Still due"
    assert panel.due.text() == "¥11.00"
    assert panel.summary.text() == "Order total ¥16.00"
    assert panel.taken.text() == "Taken: Cash ¥5.00"
    # The amount still due is the biggest figure on the tender screen.
    assert panel.due.font().pixelSize() > panel.summary.font().pixelSize()
    assert panel.due.font().pixelSize() >= cashier.totals.total.font().pixelSize()
    for k in "20":
        panel._key(k)
    assert panel.change.isVisible() and panel.change.text() == "Change ¥9.00"
    assert panel.change.font().pixelSize() >= 40


def test_one_touch_from_the_cart_to_the_default_wallets_qr(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, CHIPS)
    settle(app, lambda: cashier.wallet_button.wallet is not None)
    wallet = cashier.wallet_button
    assert wallet.isVisible() and wallet.text() == "Alipay QR ¥7.50"
    app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
    wallet.click()  # the only touch
    qr_on_screen(app, cashier)
    assert cashier.payer.dialog.channel == "alipay"
    app.runtime.sandbox.state.scan_now(None, None)
    close_receipt(app, cashier)


def test_customer_display_holds_payment_success_with_the_change(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    customer = app.customer
    assert customer is not None
    # One screen: the shopper's display does not open over the cashier's.
    assert not customer.isVisible()
    settle(app, lambda: "Convenience Store" in customer.welcome.text())
    assert "T-TEST" not in customer.welcome.text()
    login = app.counter.login.title.text()
    assert "Convenience Store" in login and "T-TEST" not in login
    ring_up(app, qtbot, cashier, CHIPS)
    assert customer.values["due"].text() == "¥7.50"
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[-1].click()  # a note larger than due
    settle(app, lambda: cashier.receipt_dialog is not None)
    cashier.receipt_dialog.accept()
    settle(app)
    # The sale is over on the cashier's side; the shopper still reads it.
    assert customer.holding and customer.success.isVisibleTo(customer)
    assert customer.success.text() == "Payment successful"
    paid = cashier.flow.last_paid
    assert customer.values["paid"].text() == app.ctx.money(paid.paid + paid.change)
    assert customer.values["change"].text() == app.ctx.money(paid.change)
    assert customer.values["due"].text() == "¥7.50"
    customer.hold.timeout.emit()  # the hold ends
    assert not customer.success.isVisibleTo(customer) and customer.values["due"].text() == "¥0.00"


def test_a_scan_during_the_hold_starts_the_next_sale_on_the_display(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    customer = app.customer
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    close_receipt(app, cashier)
    assert customer.holding
    ring_up(app, qtbot, cashier, CHIPS)
    assert not customer.holding and customer.values["due"].text() == "¥7.50"


def test_voiding_a_sale_with_cash_taken_says_what_to_hand_back(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS, NOODLES)
    open_tender(app, cashier)
    cashier.tender_panel._key("5")
    cashier.tender_panel.take_cash.click()
    settle(app, lambda: cashier.flow.tender.order.paid == Money(500))
    cashier.void_button.click()
    assert cashier.confirm_dialog.question.text() == "Void the whole sale (3 items, ¥16.00)?"
    cashier.confirm_dialog.yes_button.click()
    enter_pin(approval(app, cashier), MANAGER_PIN)
    settle(app, lambda: cashier.money_back_dialog is not None)
    dlg = cashier.money_back_dialog
    assert dlg.title.text() == "The sale is void"
    assert dlg.text() == "Take ¥5.00 from the drawer and hand it to the shopper"
    assert dlg.lines[0].font().pixelSize() >= 32


def test_refund_of_a_qr_sale_says_where_the_money_went_and_prints_a_slip(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    receipt = sell_by_qr(app, qtbot, cashier, CHIPS, "wechat")
    cashier.refund_button.click()
    screen = app.counter.refund
    scan(qtbot, screen.receipt, receipt)
    settle(app, lambda: len(screen.checks) == 1)
    screen.checks[0].setChecked(True)
    screen.refund_button.click()
    enter_pin(approval(app, screen), MANAGER_PIN)
    settle(app, lambda: screen.money_back_dialog is not None, timeout=30)
    dlg = screen.money_back_dialog
    assert dlg.title.text() == "Refunded ¥7.50"
    assert dlg.text() == "¥7.50 went back to the shopper's WeChat Pay"
    slip = app.runtime.printing.emulator.wait_for(1, timeout=15)[0].text()
    assert receipt in slip and "7.50" in slip
    settle(app, lambda: screen.message.text() == "The refund slip is printed.", idle=False)


def test_refund_in_cash_tells_the_cashier_to_hand_it_back(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    receipt = close_receipt(app, cashier)
    app.language.set("zh_CN")
    cashier.refund_button.click()
    screen = app.counter.refund
    scan(qtbot, screen.receipt, receipt)
    settle(app, lambda: len(screen.checks) == 2)
    screen.checks[0].setChecked(True)
    screen.refund_button.click()
    enter_pin(approval(app, screen), MANAGER_PIN)
    settle(app, lambda: screen.money_back_dialog is not None, timeout=30)
    assert screen.money_back_dialog.text() == "从钱箱取出 ¥3.50 交给顾客"
