"""Refunds, the manager's day close with exports, and the kiosk's idle reset,
through the screens."""

from __future__ import annotations

import openpyxl

from pos.flows import CheckoutFlow
from pos.flows.kiosk import KioskConfig
from pos.money import Money
from pos.payments.sandbox.state import TradeState
from tests.pos.flows.flow_fakes import cash_in_part
from tests.ui.conftest import (
    CHIPS,
    COLA,
    KIOSK,
    MANAGER_PIN,
    WATER,
    approval,
    close_receipt,
    enter_pin,
    open_tender,
    ring_up,
    scan,
    settle,
)
from ui.app import App
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow


def _cash_sale(app: App, qtbot, cashier: CashierScreen, *codes: str) -> str:  # type: ignore[no-untyped-def]
    ring_up(app, qtbot, cashier, *codes)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    return close_receipt(app, cashier)


def test_refund_of_one_line_from_the_receipt_with_the_manager_pin(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    receipt = _cash_sale(app, qtbot, cashier, COLA, CHIPS)
    cashier.refund_button.click()
    screen = app.counter.refund
    scan(qtbot, screen.receipt, receipt)  # the receipt's barcode, scanned
    settle(app, lambda: len(screen.checks) == 2)
    screen.checks[1].setChecked(True)
    assert screen.preview.text() == "Refund: ¥7.50"
    screen.reason.setText("stale")
    screen.refund_button.click()
    enter_pin(approval(app, screen), MANAGER_PIN)
    settle(app, lambda: screen.flow.state.value == "done")
    assert screen.preview.text() == "Refunded: ¥7.50"
    assert "refundable ¥3.50" in screen.sale.text()
    order = app.runtime.core.find_receipt(receipt)
    assert order.state == "partly_refunded" and order.refunded == Money(750)
    assert app.runtime.terminal.verify().ok


def test_day_close_counts_the_drawer_closes_with_a_reason_and_exports(
    app: App, qtbot, cashier: CashierScreen, tmp_path
) -> None:
    _cash_sale(app, qtbot, cashier, COLA, WATER)  # 5.50 cash
    counter = app.counter
    cashier.manager_button.click()
    enter_pin(approval(app, counter), MANAGER_PIN)
    tab = counter.manager.day_close
    settle(app, lambda: tab.flow is not None and tab.spins)
    assert tab.flow.expected == Money(550)
    tab.spins[500].setValue(1)
    assert tab.over_short.text() == "Short by ¥0.50"
    tables = counter.manager.tables
    settle(app, lambda: tables["risk"].rowCount() > 0 and tables["settings"].rowCount() > 0)
    # Review tables speak the screen's language; an empty one says so.
    assert (
        tables["risk"].item(0, 2).text() == "allow" and tables["risk"].item(0, 3).text() == "Cash"
    )
    assert tables["offline"].item(0, 0).text() == "Nothing here yet."
    app.language.set("zh_CN")
    settle(app)
    assert tables["risk"].item(0, 3).text() == "现金"
    assert tables["settings"].item(0, 0).text() == "终端"
    app.language.set("en")
    tab.close_button.click()
    assert "reason" in tab.message.text()  # refused before any PIN is asked
    tab.reason.setText("coin under the drawer")
    tab.close_button.click()
    enter_pin(approval(app, tab), MANAGER_PIN)
    settle(app, lambda: counter.manager.z.view is not None and counter.manager.z.view.z_number)
    view = counter.manager.z.view
    assert view.sales_count == 1 and view.net == Money(550)
    assert dict(view.by_channel)["cash"] == Money(550)
    tab.out_dir = tmp_path
    seen: list[int] = []
    tab.progress.valueChanged.connect(seen.append)
    for fmt in ("csv", "xlsx", "pdf"):
        tab._export(fmt)
        settle(app, lambda: tab.export_op is None, timeout=60)
    date = tab.flow.business_date
    assert "5.50" in (tmp_path / f"z-{date}.csv").read_text("utf-8-sig")
    assert (tmp_path / f"z-{date}.pdf").read_bytes().startswith(b"%PDF")
    assert openpyxl.load_workbook(tmp_path / f"z-{date}.xlsx").sheetnames
    assert seen and max(seen) == tab.progress.maximum()


def test_idle_kiosk_warns_then_cancels_the_qr_at_the_gateway_and_voids_the_cart(
    app: App, qtbot
) -> None:
    win = KioskWindow(app.ctx, KIOSK, KioskConfig(idle_timeout_s=3, warning_s=2, thanks_s=2))
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        win.start_button.click()
        scan(qtbot, win, COLA)
        settle(
            app,
            lambda: (
                win.session.checkout.order is not None
                and len(win.session.checkout.order.lines) == 1
            ),
        )
        order_id = win.session.checkout.order.order_id
        app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
        settle(app, lambda: win.pay_buttons["alipay"].isEnabled())
        win.pay_buttons["alipay"].click()
        settle(
            app, lambda: win.payer.dialog is not None and win.payer.dialog.qr.payload, idle=False
        )
        # Nobody touches the kiosk: the warning shows, then the session resets.
        settle(app, lambda: win.warning.isVisible(), idle=False)
        assert "clears in" in win.warning.text()
        settle(
            app,
            lambda: (
                win.session.state.value == "attract"
                and app.runtime.core.get(order_id).state == "voided"
            ),
            timeout=20,
        )
        trades = list(app.runtime.sandbox.state.trades.values())
        assert trades[-1].state is TradeState.CLOSED  # cancelled at the gateway
        assert not win.warning.isVisible() and win.pages.currentIndex() == 0
    finally:
        win.allow_close = True
        win.close()


def test_kiosk_blocks_the_keys_that_would_leave_it(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK)
    win.show()
    try:
        win.close()
        assert win.isVisible()  # a close without the attendant is refused
        from ui.qt import QEvent, QKeyEvent, Qt

        alt_f4 = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
        assert win.eventFilter(win, alt_f4) is True
        plain = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a")
        assert win.eventFilter(win, plain) is False
    finally:
        win.allow_close = True
        win.close()


def test_kiosk_shopper_pays_by_payment_code_and_sees_thanks(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK, KioskConfig(thanks_s=1))
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        scan(qtbot, win, CHIPS)
        settle(app, lambda: win.session.checkout.order is not None)
        assert win.session.state.value == "shopping"
        scan(qtbot, win, "286543210987654321")  # the shopper's Alipay code
        settle(app, lambda: win.session.state.value == "thanks", idle=False)
        paid = win.session.checkout.last_paid
        assert paid is not None and paid.tenders[0].channel == "alipay"
        assert win.payer.dialog is None
        settle(app, lambda: win.session.state.value == "attract", timeout=10)
    finally:
        win.allow_close = True
        win.close()


def test_card_tender_says_why_it_is_unavailable(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    panel = cashier.tender_panel
    card = panel.channel_buttons.get(("card", "card"))
    assert card is not None and not card.isEnabled()
    assert panel.unavailable.text().startswith("Bank card:")


def test_refund_of_a_qr_sale_goes_back_through_the_wallet(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    from tests.ui.conftest import sell_by_qr

    receipt = sell_by_qr(app, qtbot, cashier, CHIPS, "alipay")
    sandbox = app.runtime.sandbox
    cashier.refund_button.click()
    screen = app.counter.refund
    screen.receipt.setText(receipt)
    screen.find_button.click()
    settle(app, lambda: len(screen.checks) == 1)
    screen.amount.setText("2.50")
    screen._amount_changed("2.50")
    screen.refund_button.click()
    enter_pin(approval(app, screen), MANAGER_PIN)
    settle(app, lambda: screen.flow.state.value == "done", timeout=30)
    trade = next(t for t in sandbox.state.trades.values() if t.platform == "alipay")
    assert trade.refunded == 250  # fen, at the gateway
    assert app.runtime.core.find_receipt(receipt).refunded == Money(250)


def test_kiosk_attendant_override_with_pin_removes_an_item(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK)
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        scan(qtbot, win, COLA)
        scan(qtbot, win, CHIPS)
        settle(
            app,
            lambda: (
                win.session.checkout.order is not None
                and len(win.session.checkout.order.lines) == 2
            ),
        )
        win.attendant_button.click()
        settle(app)
        assert win.session.attendant_called and win.attendant_button.text() == "Attendant is coming"
        win.staff_button.click()
        enter_pin(approval(app, win), MANAGER_PIN)
        settle(app, lambda: win.exit_button.isVisible())
        win.cart.selectRow(0)
        win.void_line_button.click()
        win.confirm_dialog.yes_button.click()
        settle(app, lambda: len(win.session.checkout.order.lines) == 1)
        assert win.session.checkout.order.total == Money(750)
    finally:
        win.allow_close = True
        win.close()


def test_restarted_kiosk_voids_a_left_cart_and_the_attendant_voids_a_part_paid_sale(
    app: App, qtbot
) -> None:
    """What a crash left on a kiosk: an unpaid cart (the shopper has gone) is
    voided at start-up; a sale with money taken waits for the attendant, who
    finds it under the staff tools and voids it with a manager's PIN."""
    core = app.runtime.core
    left = CheckoutFlow(KIOSK, core, core, core, mode="kiosk")
    part_paid = cash_in_part(left, [COLA, CHIPS], Money(500))
    gone = CheckoutFlow(KIOSK, core, core, core, mode="kiosk")
    gone.scan(WATER)
    assert gone.order is not None
    abandoned = gone.order.order_id
    win = KioskWindow(app.ctx, KIOSK)
    win.show()
    try:
        win.settle_left_open()
        settle(app, lambda: core.get(abandoned).state == "voided")
        assert win.session.attendant_called and win.attendant_button.text() == "Attendant is coming"
        assert "attendant is on the way" in win.message.text()
        assert core.get(part_paid).state == "open"
        assert not win.left_open_button.isVisible()  # staff only
        win.staff_button.click()
        enter_pin(approval(app, win), MANAGER_PIN)
        settle(app, lambda: win.left_open_button.isVisible())
        win.left_open_button.click()
        settle(app, lambda: win.left_open_dialog is not None)
        dlg = win.left_open_dialog
        assert dlg is not None and dlg.order_ids == [part_paid]
        assert "¥5.00" in dlg.paid.text()
        dlg.void_button.click()
        enter_pin(approval(app, dlg), MANAGER_PIN)
        settle(app, lambda: win.left_open_dialog is None)
        voided = core.get(part_paid)
        assert voided.state == "voided"
        assert app.runtime.terminal.verify().ok
        win.left_open_button.click()
        settle(app, lambda: "No sale is left unfinished" in win.message.text())
    finally:
        win.allow_close = True
        win.close()
