"""The kiosk speaks to the shopper: second person, what to do next, no
promise of a receipt it cannot print; shoppers take items off themselves."""

from __future__ import annotations

from pos.barcode import with_check_digit
from pos.messages import msg
from pos.money import Money
from tests.ui.conftest import CHIPS, COLA, KIOSK, scan, settle
from ui.app import App
from ui.screens.kiosk import KioskWindow
from ui.shopper_words import for_shopper


def test_cashier_instructions_become_the_shoppers_own_words() -> None:
    said = for_shopper(msg("payments.wechat.NOTENOUGH"))
    assert said.render("zh_CN") == "这笔付款没有成功，未扣款。请您换一种方式付款，或按“呼叫店员”。"
    assert for_shopper(msg("payments.pos.cashier_cancelled")).render("zh_CN") == (
        "您已取消付款，未扣款。"
    )
    assert "刷新付款码" in for_shopper(msg("payments.wechat.AUTHCODEEXPIRE")).render("zh_CN")
    assert "稍后再试" in for_shopper(msg("card.91")).render("zh_CN")
    assert "换一张卡" in for_shopper(msg("card.51")).render("zh_CN")
    for code in ("payments.alipay.ACQ.PAYMENT_FAIL", "card.05", "payments.pos.timeout"):
        zh = for_shopper(msg(code)).render("zh_CN")
        assert "请顾客" not in zh and "收银台" not in zh, code
    kept = msg("kiosk.an_attendant_is_on_the")
    assert for_shopper(kept) is kept


def test_an_unknown_item_asks_the_shopper_to_call_staff_not_to_key_it_in(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK)
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        scan(qtbot, win, with_check_digit("690123499999"))
        settle(app, lambda: win.message.text())
        assert win.message.text() == (
            "This item did not scan. Put it aside and press Call attendant, and we will help you."
        )
        assert "by name" not in win.message.text()
        assert win.thanks.text() == "Thank you! Please take your items."
    finally:
        win.allow_close = True
        win.close()


def test_shoppers_take_one_off_and_remove_an_item_without_staff(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK)
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.show()
    try:
        scan(qtbot, win, COLA)
        scan(qtbot, win, CHIPS)
        scan(qtbot, win, COLA)
        settle(
            app,
            lambda: (
                win.session.checkout.order is not None
                and [ln.quantity for ln in win.session.checkout.order.lines] == [2, 1]
            ),
        )
        assert not win.session.overridden
        # The cola line, just scanned again, is the selected one.
        settle(app, lambda: win.cart.selected_line() == "L1" and win.minus_button.isEnabled())
        win.minus_button.click()
        settle(app, lambda: win.session.checkout.order.lines[0].quantity == 1)
        win.cart.selectRow(1)
        win.void_line_button.click()
        assert "Remove Lay's" in win.confirm_dialog.question.text()
        win.confirm_dialog.yes_button.click()
        settle(app, lambda: len(win.session.checkout.order.lines) == 1)
        assert win.session.checkout.order.total == Money(350)
        # The staff button is not beside the shopper's call button.
        gap = abs(
            win.staff_button.mapTo(win, win.staff_button.rect().center()).y()
            - win.attendant_button.mapTo(win, win.attendant_button.rect().center()).y()
        )
        assert gap > 200
    finally:
        win.allow_close = True
        win.close()
