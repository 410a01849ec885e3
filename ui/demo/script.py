"""The headless demo: a scripted day at the counter through every tender, a
refund, the kiosk reset after idle, a day closed and exported, with a
screenshot of each screen in zh_CN and en. Drives the real widgets the way a
person and a scanner would (clicks, keystrokes), offscreen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pos.flows.kiosk import KioskConfig
from pos.flows.views import Role, Session
from ui.app import App
from ui.demo.accounts import CASHIER, MANAGER
from ui.demo.screens_tour import counter_tour, kiosk_words, refund_money_back
from ui.qt import QApplication, QPushButton, Qt, QWidget
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow
from ui.screens.payment import PaymentDialog
from ui.widgets import ApprovalDialog

COLA, WATER, CHIPS, NOODLES = "6901234000016", "6901234000023", "6901234001013", "6901234001068"
WECHAT_CODE = "134567890123456789"


class DemoFailed(RuntimeError):
    pass


class DemoScript:
    def __init__(self, app: App, out: Path, say: Callable[[str], None]) -> None:
        self.app = app
        self.out = out
        self.say = say
        self.shots: list[str] = []
        self.screen: QWidget | None = app.counter
        self.receipts: list[str] = []

    # -- driving ------------------------------------------------------------------------
    def wait(self, cond: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise DemoFailed(f"timed out waiting for: {what}")
            QApplication.processEvents()
            time.sleep(0.01)
        self.settle()

    def settle(self) -> None:
        for _ in range(5):
            QApplication.processEvents()
            if self.app.ops.idle:
                break
            time.sleep(0.02)
        QApplication.processEvents()

    def shot(self, widget: QWidget | None, name: str) -> None:
        if widget is None:
            raise DemoFailed(f"nothing on screen for {name}")
        self.settle()
        path = self.out / f"{name}_{self.app.language.locale}.png"
        widget.grab().save(str(path))
        self.shots.append(path.name)

    def scan(self, code: str) -> None:
        """Keystrokes as fast as a scanner types them, ending in Enter."""
        from PySide6.QtTest import QTest  # tests' key simulation, used for the scripted demo

        target = QApplication.focusWidget() or QApplication.activeWindow() or self.screen
        if target is None:
            raise DemoFailed("nothing to scan into")
        QTest.keyClicks(target, code)
        QTest.keyClick(target, Qt.Key.Key_Return)
        self.settle()

    def pin(self, dlg: ApprovalDialog, pin: str) -> None:
        for d in pin:
            dlg.pad.press(d)
        dlg.pad.press("OK")

    def approval_dialog(self, parent: QWidget) -> ApprovalDialog:
        self.wait(lambda: parent.findChildren(ApprovalDialog), "the approval dialog")
        dlgs = [d for d in parent.findChildren(ApprovalDialog) if d.isVisible()]
        if not dlgs:
            raise DemoFailed("no approval dialog on screen")
        return dlgs[-1]

    # -- the script ------------------------------------------------------------------------
    def run(self) -> str:
        app = self.app
        if app.kiosk is not None:
            app.show()
            self.kiosk(app.kiosk)
            return "headless kiosk demo done: " + ", ".join(self.shots)
        counter = app.counter
        assert counter is not None
        app.show()
        counter.activateWindow()
        self.shot(counter, "01_login")
        for d in CASHIER.pin:
            counter.login.pad.press(d)
        counter.login.pad.press("OK")
        self.wait(lambda: counter.cashier is not None, "the cashier screen")
        cashier = counter.cashier
        assert cashier is not None
        cashier.search.setFocus()

        self.cash_sale(cashier)
        self.qr_sale(cashier, "alipay")
        self.payment_code_sale(cashier)
        self.card_sale(cashier)
        self.split_sale(cashier)
        self.cancelled_qr(cashier)
        self.refund(cashier)
        for line, locale in enumerate(("zh_CN", "en")):
            self.app.language.set(locale)
            counter_tour(self, cashier)
            refund_money_back(self, cashier, self.receipts[1], line)
        self.app.language.set("zh_CN")
        self.english_tour(cashier)
        self.day_close(cashier)
        cfg = KioskConfig(idle_timeout_s=8, warning_s=5, thanks_s=3)
        win = KioskWindow(app.ctx, Session("kiosk", "Kiosk", Role.CASHIER), cfg)
        win.resize(1080, 800)
        win.show()
        self.kiosk(win)
        win.allow_close = True
        win.close()
        return "headless demo done: " + ", ".join(self.shots)

    def ring_up(self, cashier: CashierScreen, *codes: str) -> None:
        for c in codes:
            self.scan(c)
        n = len(codes)
        self.wait(
            lambda: (
                cashier.flow.order is not None
                and len(cashier.flow.order.lines) >= 1
                and sum(ln.quantity for ln in cashier.flow.order.lines) >= n
            ),
            "items in the cart",
        )

    def open_tender(self, cashier: CashierScreen) -> None:
        cashier.pay_button.click()
        self.wait(
            lambda: cashier.pages.currentIndex() == 1 and cashier.tender_panel.channel_buttons,
            "the tender panel",
        )

    def finish_receipt(self, cashier: CashierScreen, name: str | None = None) -> None:
        self.wait(lambda: cashier.receipt_dialog is not None, "the receipt")
        dlg = cashier.receipt_dialog
        assert dlg is not None
        if name:
            self.shot(dlg, name)
        self.receipts.append(cashier.flow.last_paid.receipt_no if cashier.flow.last_paid else "")
        dlg.accept()
        self.settle()
        cashier.search.setFocus()

    def cash_sale(self, cashier: CashierScreen) -> None:
        self.ring_up(cashier, COLA, CHIPS, CHIPS)
        word = self.app.ctx.t("demo.search_word")
        cashier.product_search.search_for(word)
        self.wait(lambda: cashier.hits.count() > 0, "search hits")
        self.shot(self.app.counter, "02_cashier_search")
        cashier.hits.setVisible(False)
        cashier.search.clear()
        self.open_tender(cashier)
        self.shot(self.app.counter, "03_tender")
        cashier.tender_panel.suggest_buttons[-1].click()
        self.print_receipt(cashier)
        self.finish_receipt(cashier, "04_receipt_cash")

    def print_receipt(self, cashier: CashierScreen) -> None:
        """Print, and keep what the (loopback) printer decoded from the ESC/POS bytes."""
        printing = self.app.runtime.printing
        if printing is None or printing.emulator is None:
            return
        self.wait(lambda: cashier.receipt_dialog is not None, "the receipt")
        assert cashier.receipt_dialog is not None
        cashier.receipt_dialog.print_button.click()
        printed = printing.emulator.wait_for(1, timeout=15)
        (self.out / "printed_receipt.txt").write_text(printed[0].text(), "utf-8")

    def qr_sale(self, cashier: CashierScreen, channel: str) -> None:
        self.ring_up(cashier, WATER, NOODLES)
        self.open_tender(cashier)
        sandbox = self.app.runtime.sandbox
        sandbox.state.set_scenario(
            {"next": True, "outcome": "never"}
        )  # the script scans, not a timer
        cashier.tender_panel.channel_buttons[(channel, "qr")].click()
        self.wait(
            lambda: cashier.payer.dialog is not None and cashier.payer.dialog.qr.payload,
            "the QR on screen",
        )
        dlg = cashier.payer.dialog
        self.shot(dlg, f"05_payment_qr_{channel}")
        if self.app.customer is not None:
            self.shot(self.app.customer, "06_customer_display_qr")
        sandbox.state.scan_now(None, None)
        self.finish_receipt(cashier, f"07_receipt_{channel}")

    def payment_code_sale(self, cashier: CashierScreen) -> None:
        self.ring_up(cashier, COLA, WATER)
        self.scan(WECHAT_CODE)  # the shopper's code: pays with no further touch
        self.finish_receipt(cashier)

    def card_sale(self, cashier: CashierScreen) -> None:
        card = self.app.runtime.card
        if card is None or card.channel is None:
            why = card.why_not.render("en") if card is not None and card.why_not else "not set up"
            self.say(f"card tender unavailable: {why}")
            return
        self.ring_up(cashier, CHIPS, COLA)
        self.open_tender(cashier)
        cashier.tender_panel.channel_buttons[("card", "card")].click()
        self.wait(lambda: cashier.payer.dialog is not None, "the card dialog")
        dlg = cashier.payer.dialog
        assert dlg is not None
        self.wait(
            lambda: dlg.apps.count() > 0 or dlg.outcome is not None, "the card's applications"
        )
        if dlg.apps.count():
            self.shot(dlg, "08_card_choose_application")
            self.choose_first(dlg)
        self.finish_receipt(cashier, "08_receipt_card")

    def choose_first(self, dlg: PaymentDialog) -> None:
        """The cardholder picks the first application the card offers."""
        item = dlg.apps.itemAt(0)
        choice = item.widget() if item is not None else None
        if not isinstance(choice, QPushButton):
            raise DemoFailed("the card offered no application to choose")
        choice.click()

    def split_sale(self, cashier: CashierScreen) -> None:
        self.ring_up(cashier, CHIPS, NOODLES, COLA)
        self.open_tender(cashier)
        panel = cashier.tender_panel
        for k in "5":
            panel._key(k)
        panel.take_cash.click()
        self.wait(
            lambda: cashier.flow.tender is not None and cashier.flow.tender.order.paid.minor == 500,
            "the cash part",
        )
        self.shot(self.app.counter, "08_split_after_cash")
        self.app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
        panel.channel_buttons[("wechat", "qr")].click()
        self.wait(
            lambda: cashier.payer.dialog is not None and cashier.payer.dialog.qr.payload,
            "the WeChat QR",
        )
        self.app.runtime.sandbox.state.scan_now(None, None)
        self.finish_receipt(cashier)

    def cancelled_qr(self, cashier: CashierScreen) -> None:
        self.ring_up(cashier, NOODLES)
        self.open_tender(cashier)
        self.app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
        cashier.tender_panel.channel_buttons[("alipay", "qr")].click()
        self.wait(
            lambda: cashier.payer.dialog is not None and cashier.payer.dialog.qr.payload, "the QR"
        )
        dlg = cashier.payer.dialog
        assert dlg is not None
        dlg.cancel_button.click()
        self.wait(lambda: dlg.outcome is not None, "the cancel to reach the gateway")
        self.shot(dlg, "09_payment_cancelled")
        dlg.accept()
        self.shot(self.app.counter, "10_tender_after_cancel")
        cashier.tender_panel.suggest_buttons[0].click()
        self.finish_receipt(cashier)

    def refund(self, cashier: CashierScreen) -> None:
        counter = self.app.counter
        assert counter is not None
        cashier.refund_button.click()
        screen = counter.refund
        screen.receipt.setText(self.receipts[0])
        screen.find_button.click()
        self.wait(lambda: screen.checks, "the sale's lines")
        screen.checks[-1].setChecked(True)
        screen.reason.setText(self.app.ctx.t("demo.refund_reason"))
        self.shot(counter, "11_refund")
        screen.refund_button.click()
        dlg = self.approval_dialog(screen)
        self.shot(dlg, "12_manager_approval")
        self.pin(dlg, MANAGER.pin)
        self.wait(lambda: screen.flow.state.value == "done", "the refund")
        self.shot(counter, "13_refund_done")
        screen.back_button.click()
        self.settle()

    def day_close(self, cashier: CashierScreen) -> None:
        counter = self.app.counter
        assert counter is not None
        cashier.manager_button.click()
        dlg = self.approval_dialog(counter)
        self.pin(dlg, MANAGER.pin)
        manager = counter.manager
        tab = manager.day_close
        self.wait(lambda: tab.flow is not None and tab.spins, "the drawer count")
        flow = tab.flow
        assert flow is not None
        expected = flow.expected.minor
        for d in sorted(tab.spins, reverse=True):
            n, expected = divmod(expected, d)
            tab.spins[d].setValue(n)
        tab.spins[min(tab.spins)].setValue(tab.spins[min(tab.spins)].value() + 3)  # 0.30 over
        tab.reason.setText(self.app.ctx.t("demo.over_reason"))
        self.shot(counter, "14_day_close_count")
        tab.close_button.click()
        dlg = self.approval_dialog(tab)
        self.pin(dlg, MANAGER.pin)
        self.wait(
            lambda: manager.z.view is not None and manager.z.view.z_number is not None,
            "the Z report",
        )
        self.shot(counter, "15_z_report")
        manager.tabs.setCurrentWidget(tab)
        tab.out_dir = self.out
        for fmt in ("csv", "xlsx", "pdf"):
            tab._export(fmt)
            self.wait(lambda: tab.export_op is None, f"the {fmt} export", 60)
            if not (self.out / f"z-{flow.business_date}.{fmt}").exists():
                raise DemoFailed(f"the {fmt} export is missing")
        self.shot(counter, "16_exported")
        if "sync" in self.app.runtime.till.running:
            self.app.runtime.till.nudge()
            self.wait(lambda: self._backlog() == 0, "the journal to reach the central server", 30)
            manager.load()
            self.settle()
        for i in range(2, manager.tabs.count()):
            manager.tabs.setCurrentIndex(i)
            self.shot(counter, f"17_manager_tab{i}")
        manager.back_button.click()
        self.settle()

    def _backlog(self) -> int:
        from pos.store import outbox

        with self.app.runtime.terminal.terminal.db.read() as conn:
            return outbox.backlog(conn)

    def english_tour(self, cashier: CashierScreen) -> None:
        counter = self.app.counter
        assert counter is not None
        self.app.language.set("en")
        cashier.search.setFocus()
        self.ring_up(cashier, COLA, CHIPS)
        self.shot(counter, "02_cashier")
        self.open_tender(cashier)
        self.shot(counter, "03_tender")
        self.app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
        cashier.tender_panel.channel_buttons[("wechat", "qr")].click()
        self.wait(
            lambda: cashier.payer.dialog is not None and cashier.payer.dialog.qr.payload, "the QR"
        )
        self.shot(cashier.payer.dialog, "05_payment_qr_wechat")
        self.app.runtime.sandbox.state.scan_now(None, None)
        self.finish_receipt(cashier, "04_receipt")
        cashier.manager_button.click()
        self.pin(self.approval_dialog(counter), MANAGER.pin)
        self.wait(
            lambda: (
                counter.stack.currentWidget() is counter.manager
                and counter.manager.z.view is not None
            ),
            "the manager screen",
        )
        counter.manager.tabs.setCurrentWidget(counter.manager.z)
        self.shot(counter, "15_z_report")
        counter.manager.tabs.setCurrentWidget(counter.manager.day_close)
        self.shot(counter, "14_day_close")
        counter.manager.back_button.click()
        cashier.logout_button.click()
        self.shot(counter, "01_login")
        self.app.language.set("zh_CN")

    def kiosk(self, win: KioskWindow) -> None:
        """A shopper scans two items and walks away: warning, then reset."""
        app = self.app
        win.activateWindow()
        app.scanner.scanned.disconnect()
        app.scanner.scanned.connect(win.on_scan)
        win.setFocus()
        self.screen = win
        for locale in ("zh_CN", "en"):
            app.language.set(locale)
            self.shot(win, "20_kiosk_attract")
        app.language.set("zh_CN")
        win.start_button.click()
        self.scan(COLA)
        self.scan(CHIPS)
        self.wait(
            lambda: (
                win.session.checkout.order is not None
                and len(win.session.checkout.order.lines) == 2
            ),
            "the kiosk cart",
        )
        self.shot(win, "21_kiosk_shopping")
        kiosk_words(self, win)
        app.language.set("en")
        self.shot(win, "21_kiosk_shopping")
        kiosk_words(self, win)
        order = win.session.checkout.order
        assert order is not None
        order_id = order.order_id
        self.wait(lambda: win.warning.isVisible(), "the idle warning", 15)
        self.shot(win, "22_kiosk_idle_warning")
        app.language.set("zh_CN")
        self.shot(win, "22_kiosk_idle_warning")
        self.wait(
            lambda: win.session.state.value == "attract" and app.ops.idle, "the idle reset", 15
        )
        state = app.runtime.core.get(order_id).state
        if state != "voided":
            raise DemoFailed(f"the idle kiosk left its cart {state}")
        self.shot(win, "23_kiosk_after_reset")
        self.say(f"kiosk idle reset: cart {order_id} voided")
