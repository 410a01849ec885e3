"""The demo's tour of the counter screens issue 12 changed, in the screen's
language: the merged and selected line, delete asked first, the tender
screen after part cash, the customer display holding 支付成功, money back
after a void and a refund, the printer banner and the manager's Printer tab,
and the kiosk's own words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos.barcode import with_check_digit
from pos.flows.views import Approval
from pos.messages import msg
from ui.demo.accounts import MANAGER
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow
from ui.widgets import StaffNeededDialog

if TYPE_CHECKING:
    from ui.demo.script import DemoScript

COLA, CHIPS, NOODLES = "6901234000016", "6901234001013", "6901234001068"


def counter_tour(demo: DemoScript, cashier: CashierScreen) -> None:
    counter = demo.app.counter
    assert counter is not None
    demo.ring_up(cashier, COLA, CHIPS, NOODLES, COLA)  # the second cola merges
    demo.shot(counter, "30_cart_merged_selected")
    cashier.void_line_button.click()
    demo.wait(lambda: cashier.confirm_dialog is not None, "the delete question")
    assert cashier.confirm_dialog is not None
    demo.shot(cashier.confirm_dialog, "31_confirm_delete")
    cashier.confirm_dialog.keep_button.click()
    demo.settle()
    demo.open_tender(cashier)
    panel = cashier.tender_panel
    panel._key("5")
    panel.take_cash.click()
    demo.wait(
        lambda: cashier.flow.tender is not None and cashier.flow.tender.order.paid.minor == 500,
        "the cash part",
    )
    for k in "20":
        panel._key(k)
    demo.shot(counter, "32_tender_due_after_cash")
    panel._set_tendered("")
    # Void it: asked first, a manager's PIN, then what to hand back.
    cashier.void_button.click()
    demo.wait(lambda: cashier.confirm_dialog is not None, "the void question")
    assert cashier.confirm_dialog is not None
    demo.shot(cashier.confirm_dialog, "33_confirm_void")
    cashier.confirm_dialog.yes_button.click()
    demo.pin(demo.approval_dialog(cashier), MANAGER.pin)
    demo.wait(lambda: cashier.money_back_dialog is not None, "what to hand back")
    assert cashier.money_back_dialog is not None
    demo.shot(cashier.money_back_dialog, "34_void_money_back")
    cashier.money_back_dialog.accept()
    demo.settle()
    # A cash sale with change, the paper out: the banner, then the display held.
    printing = demo.app.runtime.printing
    demo.ring_up(cashier, CHIPS)
    demo.open_tender(cashier)
    panel.suggest_buttons[-1].click()
    demo.wait(lambda: cashier.receipt_dialog is not None, "the receipt")
    if printing is not None and printing.emulator is not None:
        from drivers.printer.status import PrinterStatus

        printing.emulator.status = PrinterStatus(online=True, paper_out=True)
        assert cashier.receipt_dialog is not None
        cashier.receipt_dialog.print_button.click()
        demo.wait(lambda: cashier.printer_banner.isVisible(), "the printer banner", 15)
        demo.shot(counter, "35_printer_banner")
        demo.shot(cashier.receipt_dialog, "35_receipt_not_printed")
        printing.emulator.status = PrinterStatus(online=True)
        cashier.printer_banner.retry_button.click()
        demo.wait(lambda: not cashier.printer_banner.isVisible(), "the reprint", 15)
    customer = demo.app.customer
    receipt_dialog = cashier.receipt_dialog
    assert receipt_dialog is not None
    receipt_dialog.accept()
    demo.settle()
    if customer is not None:
        demo.shot(customer, "36_customer_display_paid")
        customer.hold.timeout.emit()
    # The manager's Printer tab.
    cashier.manager_button.click()
    demo.pin(demo.approval_dialog(counter), MANAGER.pin)
    manager = counter.manager
    demo.wait(lambda: counter.stack.currentWidget() is manager, "the manager screen")
    manager.tabs.setCurrentWidget(manager.printer)
    demo.shot(counter, "37_manager_printer_tab")
    manager.back_button.click()
    demo.settle()


def refund_money_back(demo: DemoScript, cashier: CashierScreen, receipt: str, line: int) -> None:
    counter = demo.app.counter
    assert counter is not None
    cashier.refund_button.click()
    screen = counter.refund
    screen.receipt.setText(receipt)
    screen.find_button.click()
    demo.wait(lambda: screen.checks, "the sale's lines")
    screen.checks[line].setChecked(True)
    screen.refund_button.click()
    demo.pin(demo.approval_dialog(screen), MANAGER.pin)
    demo.wait(lambda: screen.money_back_dialog is not None, "the money back", 30)
    assert screen.money_back_dialog is not None
    demo.shot(counter, "38_refund_done")
    demo.shot(screen.money_back_dialog, "38_refund_money_back")
    screen.money_back_dialog.accept()
    screen.back_button.click()
    demo.settle()


def kiosk_words(demo: DemoScript, win: KioskWindow) -> None:
    """An item that does not scan: the shopper is told what to do."""
    demo.scan(with_check_digit("690123499999"))
    demo.wait(lambda: win.message.text(), "the kiosk's message")
    demo.shot(win, "24_kiosk_unknown_item")
    # Taking an item off: the shopper is asked first, no staff needed.
    win.void_line_button.click()
    demo.wait(lambda: win.confirm_dialog is not None, "the remove question")
    assert win.confirm_dialog is not None
    demo.shot(win.confirm_dialog, "25_kiosk_confirm_remove")
    win.confirm_dialog.reject()
    # What a shopper sees when a payment needs staff: no PIN pad, staff called.
    staff = StaffNeededDialog(
        demo.app.ctx, "risk_review", msg("kiosk.this_payment_needs_a_managers"), (), _no, win
    )
    staff.open()
    demo.shot(staff, "26_kiosk_staff_needed")
    staff.reject()
    demo.settle()


def _no(_approval: Approval) -> None:
    """The demo's staff dialog is only looked at."""
