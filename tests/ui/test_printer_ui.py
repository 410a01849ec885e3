"""The receipt printer as the cashier and the manager see it: a receipt is
"printed" only once the loopback printer took it; a printer that cannot print
shows a banner with what to do and a retry; the manager sets the printer up
on the Printer tab and a test page proves it."""

from __future__ import annotations

import socket

from drivers.printer.status import PrinterStatus
from pos.services.receipts import printer_settings
from tests.ui.conftest import COLA, MANAGER_PIN, approval, enter_pin, open_tender, ring_up, settle
from ui.app import App
from ui.screens.cashier import CashierScreen


def _paid_receipt_dialog(app: App, qtbot, cashier: CashierScreen) -> None:  # type: ignore[no-untyped-def]
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    settle(app, lambda: cashier.receipt_dialog is not None)


def test_a_printer_out_of_paper_shows_a_banner_never_success_and_retry_prints(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    emulator = app.runtime.printing.emulator
    emulator.status = PrinterStatus(online=True, paper_out=True)
    _paid_receipt_dialog(app, qtbot, cashier)
    cashier.receipt_dialog.print_button.click()
    banner = cashier.printer_banner
    settle(app, lambda: banner.isVisible(), idle=False)
    assert banner.text.text() == (
        "The printer is not ready: the printer is out of paper; load a new roll."
    )
    assert "printed" not in cashier.message.text().lower()
    assert "printed" not in cashier.receipt_dialog.status.text().lower()
    assert emulator.printouts == []
    emulator.status = PrinterStatus(online=True)  # a new roll
    banner.retry_button.click()
    settle(app, lambda: cashier.message.text() == "The receipt is printed.", idle=False)
    assert not banner.isVisible()
    assert cashier.receipt_dialog.status.text() == "The receipt is printed."
    assert cashier.flow.last_paid.receipt_no in emulator.wait_for(1)[0].text()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_manager_sets_up_the_printer_and_an_unreachable_one_is_said_plainly(
    app: App, qtbot, cashier: CashierScreen
) -> None:
    app.language.set("zh_CN")
    cashier.manager_button.click()
    enter_pin(approval(app, app.counter), MANAGER_PIN)
    manager = app.counter.manager
    settle(app, lambda: app.counter.stack.currentWidget() is manager)
    tab = manager.printer
    manager.tabs.setCurrentWidget(tab)
    assert manager.tabs.tabText(manager.tabs.currentIndex()) == "打印机"
    tab.address.setText("not a printer")
    tab.save_button.click()
    settle(app, lambda: tab.message.text())
    assert tab.message.text().startswith("这不是打印机地址")
    # A printer nobody answers at: said plainly, never "printed".
    tab.address.setText(f"tcp://127.0.0.1:{_closed_port()}")
    tab.save_button.click()
    settle(app, lambda: tab.banner.isVisible(), idle=False)
    assert tab.banner.text.text() == "打印机未就绪：连接不上打印机，请检查电源和网线。"
    assert "已打印" not in tab.message.text()
    # The real printer: the test page prints, and the setting is kept.
    emulator = app.runtime.printing.emulator
    tab.address.setText(emulator.address)
    tab.width_box.setCurrentIndex(tab.width_box.findData(32))
    tab.save_button.click()
    settle(app, lambda: tab.message.text() == "测试页已打印，打印机可用。", idle=False)
    assert not tab.banner.isVisible()
    assert "能看清这一行" in emulator.wait_for(1)[0].text()
    assert tab.current.text() == f"小票打印到 {emulator.address}。"
    kept = printer_settings(app.runtime.terminal.terminal.db)
    assert (kept.url, kept.width) == (emulator.address, 32)
