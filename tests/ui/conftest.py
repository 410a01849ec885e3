"""The Qt app over a real demo terminal: encrypted store, the sandbox Alipay and
WeChat Pay gateways on loopback (real HTTP, real signatures), the router with
short poll and payment timeouts. Screens are driven by clicks and keystrokes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pos.flows.views import Role, Session
from ui.app import App
from ui.demo import CASHIER, MANAGER, demo_runtime
from ui.qt import QApplication, Qt, QWidget
from ui.screens.cashier import CashierScreen
from ui.widgets import ApprovalDialog

COLA, WATER, CHIPS, NOODLES = "6901234000016", "6901234000023", "6901234001013", "6901234001068"
ALIPAY_CODE = "286543210987654321"
WECHAT_CODE = "134567890123456789"
PAYMENT_TIMEOUT = 4.0


@pytest.fixture
def with_card() -> bool:
    """Whether the app gets the card tender (pcscd, virtual reader, acquirer)."""
    return False


def open_app(data_dir: Path, with_card: bool = False) -> App:
    """The counter app on the demo terminal in `data_dir` (provisioned when new)."""
    runtime = demo_runtime(
        data_dir,
        with_card=with_card,
        with_sync=False,
        poll_interval=0.2,
        payment_timeout=PAYMENT_TIMEOUT,
        timeout=2.0,
    )
    the_app = App(runtime, "en", customer_display=True, terminal_name="T-TEST")
    the_app.show()
    return the_app


@pytest.fixture
def app(qapp: QApplication, tmp_path: Path, with_card: bool) -> Iterator[App]:
    the_app = open_app(tmp_path / "term", with_card)
    try:
        yield the_app
    finally:
        the_app.close()


def settle(
    app: App, cond: Callable[[], object] = lambda: True, timeout: float = 15.0, idle: bool = True
) -> None:
    """Run the event loop until `cond` holds and (with `idle`) no operation runs."""
    end = time.monotonic() + timeout
    while not (cond() and (app.ops.idle or not idle)):
        if time.monotonic() > end:
            raise AssertionError("the screen did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)
    QApplication.processEvents()


def scan(qtbot, widget: QWidget, code: str) -> None:  # type: ignore[no-untyped-def]
    """A scanner's burst: keystrokes back to back, then Enter."""
    qtbot.keyClicks(widget, code)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def enter_pin(dlg: ApprovalDialog, pin: str) -> None:
    for d in pin:
        dlg.pad.press(d)
    dlg.pad.press("OK")


def approval(app: App, parent: QWidget) -> ApprovalDialog:
    settle(app, lambda: [d for d in parent.findChildren(ApprovalDialog) if d.isVisible()])
    return [d for d in parent.findChildren(ApprovalDialog) if d.isVisible()][-1]


def log_in(app: App, pin: str = CASHIER.pin) -> CashierScreen:
    counter = app.counter
    assert counter is not None
    for d in pin:
        counter.login.pad.press(d)
    counter.login.pad.press("OK")
    settle(app, lambda: counter.cashier is not None)
    assert counter.cashier is not None
    return counter.cashier


@pytest.fixture
def cashier(app: App, qtbot) -> CashierScreen:  # type: ignore[no-untyped-def]
    return log_in(app)


def ring_up(app: App, qtbot, cashier: CashierScreen, *codes: str) -> None:  # type: ignore[no-untyped-def]
    for c in codes:
        scan(qtbot, cashier.search, c)
        settle(app)
    settle(
        app, lambda: cashier.flow.order is not None and len(cashier.flow.order.lines) == len(codes)
    )


def qr_on_screen(app: App, cashier: CashierScreen) -> None:
    settle(
        app,
        lambda: cashier.payer.dialog is not None and cashier.payer.dialog.qr.payload,
        idle=False,
    )


def show_qr(app: App, cashier: CashierScreen, channel: str) -> None:
    """From the tender screen: the till's QR for `channel`, which the sandbox
    pays only when told to (`scan_now`)."""
    app.runtime.sandbox.state.set_scenario({"next": True, "outcome": "never"})
    cashier.tender_panel.channel_buttons[(channel, "qr")].click()
    qr_on_screen(app, cashier)


def sell_by_qr(app: App, qtbot, cashier: CashierScreen, code: str, channel: str) -> str:  # type: ignore[no-untyped-def]
    """Ring up `code`, pay it by `channel`'s QR, and return the receipt number."""
    ring_up(app, qtbot, cashier, code)
    open_tender(app, cashier)
    show_qr(app, cashier, channel)
    app.runtime.sandbox.state.scan_now(None, None)
    return close_receipt(app, cashier)


def open_tender(app: App, cashier: CashierScreen) -> None:
    cashier.pay_button.click()
    settle(app, lambda: cashier.pages.currentIndex() == 1 and cashier.tender_panel.channel_buttons)


def close_receipt(app: App, cashier: CashierScreen) -> str:
    settle(app, lambda: cashier.receipt_dialog is not None)
    assert cashier.flow.last_paid is not None
    receipt = cashier.flow.last_paid.receipt_no
    assert cashier.receipt_dialog is not None
    cashier.receipt_dialog.accept()
    settle(app)
    return receipt


KIOSK = Session("kiosk", "Kiosk", Role.CASHIER)
MANAGER_PIN = MANAGER.pin
