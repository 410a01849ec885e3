"""The composition root of the Qt app: one QApplication, the language, the
scanner, the windows (counter or kiosk, and the customer display), wired to
the services a `Runtime` opened."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from pos.flows.kiosk import KioskConfig
from pos.flows.text import Said
from pos.flows.views import Approval, Role, Session
from pos.messages import msg
from pos.services.receipts import store_header
from ui.context import UiContext
from ui.i18n import Language
from ui.ops import Ops, Scope
from ui.printing import Printing
from ui.qt import QApplication, QCloseEvent, QFont, QMainWindow, QStackedWidget, Qt, QWidget
from ui.scanner import ScannerFilter
from ui.screens.cashier import CashierScreen
from ui.screens.customer import CustomerDisplay
from ui.screens.kiosk import KioskWindow
from ui.screens.login import LoginScreen
from ui.screens.manager import ManagerScreen
from ui.screens.refund import RefundScreen
from ui.style import STYLE
from ui.widgets import ask_approval
from ui.wiring import Runtime

log = logging.getLogger(__name__)


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("store-checkout")
    font = QFont("Noto Sans CJK SC")
    font.setPointSize(11)
    app.setFont(font)
    app.setStyleSheet(STYLE)
    return app


class CounterWindow(QMainWindow):
    """The cashier's window: login, then the counter, refunds and manager screens."""

    def __init__(
        self,
        ctx: UiContext,
        terminal_name: str,
        customer: CustomerDisplay | None,
        printing: Printing | None = None,
    ) -> None:
        super().__init__()
        self.printing = printing
        self.ctx = ctx
        self.customer = customer
        self.setWindowTitle(ctx.t("counter.store_checkout"))
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.login = LoginScreen(ctx, terminal_name)
        self.login.logged_in.connect(self.start_session)
        self.refund = RefundScreen(ctx, printing)
        self.refund.back.connect(self.show_counter)
        self.manager = ManagerScreen(ctx, printing)
        self.manager.back.connect(self.show_counter)
        self.cashier: CashierScreen | None = None
        # Sales left open are offered once start-up recovery has added what the
        # gateways took to them, so a resumed sale never asks for money twice.
        self.recovering = False
        for w in (self.login, self.refund, self.manager):
            self.stack.addWidget(w)
        self.stack.setCurrentWidget(self.login)
        self.resize(1280, 800)

    def current(self) -> QWidget:
        w = self.stack.currentWidget()
        assert w is not None  # the login screen is added before the window is shown
        return w

    def on_scan(self, code: str) -> None:
        """The scanner's burst goes to whatever screen is showing."""
        target = self.current()
        handler = getattr(target, "on_scan", None)
        if handler is not None:
            handler(code)

    def start_session(self, session: Session) -> None:
        if self.cashier is not None:
            self.cashier.leave()
            self.stack.removeWidget(self.cashier)
            self.cashier.deleteLater()
        self.cashier = CashierScreen(self.ctx, session, self.customer, self.printing)
        self.cashier.logout.connect(self.logout)
        self.cashier.open_refund.connect(lambda: self.stack.setCurrentWidget(self.refund))
        self.cashier.open_manager.connect(self.open_manager)
        self.stack.addWidget(self.cashier)
        self.stack.setCurrentWidget(self.cashier)
        self.cashier.search.setFocus()
        if not self.recovering:
            self.cashier.offer_left_open()

    def recovery_finished(self) -> None:
        self.recovering = False
        if self.cashier is not None:
            self.cashier.offer_left_open()

    def show_counter(self) -> None:
        if self.cashier is not None:
            self.stack.setCurrentWidget(self.cashier)

    def open_manager(self) -> None:
        def show(_: Approval | None = None) -> None:
            self.stack.setCurrentWidget(self.manager)
            self.manager.load()

        if self.cashier is not None and self.cashier.session.role is Role.MANAGER:
            show()
        else:
            ask_approval(
                self.ctx, self, "manager_screens", msg("counter.manager_functions"), (), show
            )

    def logout(self) -> None:
        if self.cashier is not None:
            self.cashier.leave()
        self.stack.setCurrentWidget(self.login)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.customer is not None:
            self.customer.close()
        event.accept()


class App:
    """Everything the running app holds, so tests and the demo can drive it."""

    def __init__(
        self,
        runtime: Runtime,
        locale: str = "zh_CN",
        kiosk: bool = False,
        customer_display: bool = True,
        terminal_name: str = "",
        kiosk_session: Session | None = None,
        kiosk_config: KioskConfig | None = None,
    ) -> None:
        self.runtime = runtime
        self.qapp = make_application()
        self.language = Language(self.qapp, locale)
        self.ops = Ops()
        self.ctx = UiContext(runtime.services, self.ops, self.language)
        self.scanner = ScannerFilter(self.qapp)
        self.recovery_scope = Scope("recovery")
        self.customer: CustomerDisplay | None = None
        self.counter: CounterWindow | None = None
        self.kiosk: KioskWindow | None = None
        if kiosk:
            session = kiosk_session or Session("kiosk", "Kiosk", Role.CASHIER)
            self.kiosk = KioskWindow(
                self.ctx, session, kiosk_config, on_exit=self.qapp.quit, printing=runtime.printing
            )
            self.kiosk.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            self.scanner.scanned.connect(self.kiosk.on_scan)
        else:
            if customer_display:
                self.customer = CustomerDisplay(self.ctx)
            self.counter = CounterWindow(self.ctx, terminal_name, self.customer, runtime.printing)
            self.ops.run(
                "store name",
                lambda op: store_header(runtime.terminal).name,
                self.recovery_scope,
                self._store_named,
            )
            self.scanner.scanned.connect(self.counter.on_scan)

    def _store_named(self, name: str) -> None:
        """People read the store's name, not the terminal's id."""
        if self.customer is not None:
            self.customer.set_store(name)
        if self.counter is not None:
            self.counter.login.set_store(name)

    def recover(self) -> None:
        """Settle what a crash left open, off the UI thread; say what was found."""
        core = self.runtime.core

        counter = self.counter
        if counter is not None:
            counter.recovering = True

        kiosk = self.kiosk

        def finished() -> None:
            if counter is not None:
                counter.recovery_finished()
            if kiosk is not None:
                kiosk.settle_left_open()

        def said(notes: list[Said]) -> None:
            for note in notes:
                log.warning("start-up recovery: %s", note.render("en"))
            if notes and counter is not None:
                counter.login.message.show_text(msg("till.flow.recovery_notes", notes=notes))
            finished()

        def failed(exc: BaseException) -> None:
            log.warning("start-up recovery failed: %s", exc)
            finished()

        self.ops.run(
            "recover", lambda op: core.recover(), self.recovery_scope, said, failed, lane="io"
        )

    def show(self, full_screen: bool = False) -> None:
        if self.kiosk is not None:
            self.kiosk.showFullScreen()
            return
        assert self.counter is not None
        if full_screen:
            self.counter.showFullScreen()
        else:
            self.counter.show()
        if self.customer is not None:
            # The shopper's display goes on the second screen only: on a single
            # screen it would cover the cashier's (the login PIN pad first).
            screens = self.qapp.screens()
            if len(screens) > 1:
                self.customer.setGeometry(screens[1].geometry())
                self.customer.showFullScreen()

    def run(self) -> int:
        self.show()
        self.recover()
        try:
            return int(self.qapp.exec())
        finally:
            self.close()

    def close(self) -> None:
        if self.kiosk is not None:
            self.kiosk.allow_close = True
            self.kiosk.close()
        if self.counter is not None:
            self.counter.close()
        self.qapp.removeEventFilter(self.scanner)
        self.ops.shutdown()
        self.runtime.close()


def run_terminal(data_dir: Path, locale: str, kiosk: bool) -> int:
    from ui.wiring import open_runtime

    runtime = open_runtime(data_dir)
    return App(runtime, locale, kiosk, terminal_name=runtime.terminal.terminal.terminal_id).run()
