"""Self-service kiosk: attract screen, scan your items, pay by QR, payment code
or card, thanks. Large touch targets (>= 48 px, most 72+), a zh/en switch,
call-attendant, an attendant override with PIN, an idle warning that clears
the cart and cancels an open payment at the gateway. Keys that would leave
the app are swallowed; the OS session is locked as docs/ui.md says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pos.flows import CheckoutFlow, CheckoutState, FlowError, KioskSession, KioskState, TickAction
from pos.flows.checkout import payment_code_channel
from pos.flows.kiosk import KioskConfig, kiosk_failure
from pos.flows.ports import AttendantPort
from pos.flows.tender import TenderState
from pos.flows.text import said_or_none
from pos.flows.views import (
    Approval,
    ChannelInfo,
    LineView,
    OrderView,
    Outcome,
    Session,
    TenderResult,
)
from pos.messages import msg
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import Printing
from ui.qt import (
    QApplication,
    QCloseEvent,
    QEvent,
    QHBoxLayout,
    QKeyEvent,
    QObject,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from ui.screens.cart import CartTable
from ui.screens.dialogs import ConfirmDialog, confirm
from ui.screens.kiosk_receipt import KioskReceipt
from ui.screens.left_open import LeftOpenDialog, open_left_open
from ui.screens.paying import PaymentDriver
from ui.style import KIOSK_STYLE
from ui.widgets import ShopperMessageLine, ask_approval, button, label

KIOSK_TARGET = 72  # px: shoppers' fingers, often gloved or hurried

# Keys that would leave a kiosk app; the compositor/Shell Launcher blocks the rest.
_BLOCKED = {
    (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier),
}


class KioskWindow(QWidget):
    def __init__(
        self,
        ctx: UiContext,
        session: Session,
        config: KioskConfig | None = None,
        on_exit: Callable[[], None] | None = None,
        printing: Printing | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = Scope("kiosk")
        s = ctx.services
        flow = CheckoutFlow(session, s.checkout, s.catalog, s.payments, mode="kiosk")
        attendant = s.payments if isinstance(s.payments, AttendantPort) else None
        self.session = KioskSession(flow, s.clock, config, attendant)
        self._on_exit = on_exit
        self.allow_close = False
        self.setStyleSheet(KIOSK_STYLE)
        self._offered: dict[str, ChannelInfo] = {}
        self.payer = PaymentDriver(ctx, self, self.scope, kiosk=True)
        self.payer.finished.connect(self._payment_done)
        self.payer.failed.connect(self._failed)
        self.payer.call_staff = self._call_attendant  # a step-up calls staff, no PIN pad

        # attract
        self.attract_title = label("", "total")
        self.attract_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.attract_hint = label("", "title")
        self.attract_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.start_button = button("", "primary", 120)
        self.start_button.clicked.connect(self._start)
        attract = QWidget()
        al = QVBoxLayout(attract)
        al.addStretch(1)
        al.addWidget(self.attract_title)
        al.addWidget(self.attract_hint)
        al.addWidget(self.start_button)
        al.addStretch(1)

        # shopping
        self.cart = CartTable(ctx, row_height=56)
        self.scan_hint = label("", "title")
        self.total = label("", "total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.pay_buttons: dict[str, Any] = {}
        pay_row = QHBoxLayout()
        for channel, role in (("alipay", "alipay"), ("wechat", "wechat"), ("card", "card")):
            b = button("", role, KIOSK_TARGET + 24)
            b.clicked.connect(lambda _=False, c=channel: self._pay(c))
            pay_row.addWidget(b)
            self.pay_buttons[channel] = b
        self.void_line_button = button("", "", KIOSK_TARGET)
        self.void_line_button.clicked.connect(self._void_line)
        self.minus_button = button("", "", KIOSK_TARGET)
        self.minus_button.clicked.connect(self._one_less)
        self.confirm_dialog: ConfirmDialog | None = None
        self.clear_button = button("", "danger", KIOSK_TARGET)
        self.clear_button.clicked.connect(self._clear)
        self.exit_button = button("", "", KIOSK_TARGET)
        self.exit_button.clicked.connect(self._exit)
        tools = QHBoxLayout()
        for b in (self.minus_button, self.void_line_button, self.clear_button, self.exit_button):
            tools.addWidget(b)
        shopping = QWidget()
        sl = QVBoxLayout(shopping)
        sl.addWidget(self.scan_hint)
        sl.addWidget(self.cart, 1)
        sl.addWidget(self.total)
        sl.addLayout(pay_row)
        self.unavailable = label("", "muted")
        sl.addWidget(self.unavailable)
        sl.addLayout(tools)

        # thanks
        self.thanks = label("", "total")
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.receipt = KioskReceipt(ctx, printing)
        thanks = QWidget()
        thanks_lay = QVBoxLayout(thanks)
        thanks_lay.addWidget(self.thanks)
        thanks_lay.addWidget(self.receipt)

        self.pages = QStackedWidget()
        for page in (attract, shopping, thanks):
            self.pages.addWidget(page)

        # always there: language, attendant, warning, messages
        self.lang_button = button("", "", KIOSK_TARGET)
        self.lang_button.clicked.connect(self._toggle_language)
        self.attendant_button = button("", "", KIOSK_TARGET)
        self.attendant_button.clicked.connect(self._call_attendant)
        self.staff_button = button("", "", KIOSK_TARGET)
        self.staff_button.clicked.connect(self._override)
        self.left_open_button = button("", "", KIOSK_TARGET)  # staff only
        self.left_open_button.clicked.connect(self.show_left_open)
        self.left_open_dialog: LeftOpenDialog | None = None
        self.warning = button("", "danger", KIOSK_TARGET + 24)
        self.warning.clicked.connect(self._still_here)
        self.warning.setVisible(False)
        self.message = ShopperMessageLine(ctx)
        bar = QHBoxLayout()
        bar.addWidget(self.lang_button)
        bar.addStretch(1)
        bar.addWidget(self.attendant_button)
        # Staff's own buttons sit bottom left, away from the shopper's call button.
        staff_row = QHBoxLayout()
        staff_row.addWidget(self.staff_button)
        staff_row.addWidget(self.left_open_button)
        staff_row.addStretch(3)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.warning)
        lay.addWidget(self.pages, 1)
        lay.addWidget(self.message)
        lay.addLayout(staff_row)

        self._warn_left = 0
        self._held_ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.retranslate()
        self._redraw()
        ctx.ops.run(
            "channels",
            lambda op: s.payments.channels("kiosk"),
            self.scope,
            self._channels,
            self._failed,
        )

    def _channels(self, channels: list[ChannelInfo]) -> None:
        self._offered = {c.channel: c for c in channels}
        self._redraw()

    # -- words ----------------------------------------------------------------------
    def retranslate(self) -> None:
        self.attract_title.setText(self.ctx.t("kiosk.welcome"))
        self.attract_hint.setText(self.ctx.t("kiosk.scan_your_first_item_or"))
        self.start_button.setText(self.ctx.t("kiosk.start"))
        self.scan_hint.setText(self.ctx.t("kiosk.scan_each_items_barcode_scan"))
        self.pay_buttons["alipay"].setText(self.ctx.t("kiosk.pay_with_alipay"))
        self.pay_buttons["wechat"].setText(self.ctx.t("kiosk.pay_with_wechat"))
        self.pay_buttons["card"].setText(self.ctx.t("kiosk.pay_by_card"))
        self.void_line_button.setText(self.ctx.t("screens.shopper.remove_item"))
        self.minus_button.setText(self.ctx.t("screens.shopper.one_less"))
        self.clear_button.setText(self.ctx.t("kiosk.cancel_my_shopping"))
        self.exit_button.setText(self.ctx.t("kiosk.close_kiosk_staff"))
        self.thanks.setText(self.ctx.t("screens.shopper.thanks"))
        self.lang_button.setText(self.ctx.language.switch_label)
        self.attendant_button.setText(
            self.ctx.t("kiosk.attendant_is_coming")
            if self.session.attendant_called
            else self.ctx.t("kiosk.call_attendant")
        )
        self.staff_button.setText(self.ctx.t("kiosk.staff"))
        self.left_open_button.setText(self.ctx.t("kiosk.unfinished_sales_staff"))
        self.warning.setText(self.ctx.t("kiosk.still_there", seconds=self._warn_left))
        self.message.refresh()
        self._show_total()
        self._redraw()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- keeping the shopper in --------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        t = event.type()
        touched = t in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress)
        if touched and self.session.state is not KioskState.ATTRACT:
            self.session.touch()
            self.warning.setVisible(False)
        if t == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            for key, mod in _BLOCKED:
                if event.key() == key and mods == mod:
                    return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.allow_close:
            self.scope.leave()
            self.timer.stop()
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            event.accept()
        else:
            event.ignore()

    # -- flow calls ---------------------------------------------------------------------
    def _run(
        self, name: str, fn: Callable[[], Any], then: Callable[[Any], None] | None = None
    ) -> None:
        def done(result: Any) -> None:
            self.message.show_text(None)
            if then is not None:
                then(result)
            self._redraw(result if isinstance(result, OrderView) else None)

        self.ctx.ops.run(name, lambda op: fn(), self.scope, done, self._failed)

    def _failed(self, exc: BaseException) -> None:
        tender = self.session.checkout.tender
        if tender is not None and tender.state is TenderState.UNRESOLVED and not self.session.held:
            # The payment broke part-way: money is uncertain. Tell the shopper,
            # call the attendant, and keep the cart for them.
            self.message.show_text(msg("uncertain.kiosk.checking"), error=True)
            self._background("payment broke", self.session.payment_broke)
            self._redraw()
            return
        self.message.show_error(exc)
        self._redraw()

    def _background(self, name: str, fn: Callable[[], Any]) -> None:
        """A worker call whose end leaves the message on screen as it is."""
        self.ctx.ops.run(
            name, lambda op: fn(), self.scope, lambda _: self._redraw(), self.message.show_error
        )

    def _redraw(self, drawn: OrderView | None = None) -> None:
        """`drawn`: the order as the operation that just ended left it. Scans
        queue up, so the flow may already be a scan ahead; drawing each result
        in turn keeps the line each scan touched the selected one."""
        state = self.session.state
        self.pages.setCurrentIndex({KioskState.ATTRACT: 0, KioskState.THANKS: 2}.get(state, 1))
        flow = self.session.checkout
        order = flow.order if flow.state is not CheckoutState.DONE else None
        if drawn is not None and order is not None and drawn.order_id == order.order_id:
            order = drawn
        self.cart.show_order(order)
        has_items = order is not None and bool(order.lines)
        why = []
        for channel, b in self.pay_buttons.items():
            info = self._offered.get(channel)
            up = info is not None and info.available
            # While money is uncertain the shopper is asked not to pay again.
            b.setEnabled(has_items and up and not self.payer.busy and not self.session.held)
            if info is not None and not up and info.why_unavailable is not None:
                why.append(self.ctx.say(info.why_unavailable))
        self.unavailable.setText("  ".join(why))
        self.clear_button.setEnabled(has_items and not self.session.held)
        staff = self.session.overridden
        # Shoppers remove items and lower quantities themselves.
        self.void_line_button.setEnabled(has_items and not self.payer.busy)
        line = self._selected_line()
        self.minus_button.setEnabled(line is not None and line.quantity > 1 and line.grams is None)
        self.exit_button.setVisible(staff)
        self.left_open_button.setVisible(staff)
        self._show_total()
        self.retranslate_attendant()

    def retranslate_attendant(self) -> None:
        self.attendant_button.setText(
            self.ctx.t("kiosk.attendant_is_coming")
            if self.session.attendant_called
            else self.ctx.t("kiosk.call_attendant")
        )

    def _show_total(self) -> None:
        order = self.session.checkout.order
        total = order.total if order is not None else None
        self.total.setText(
            self.ctx.t("kiosk.total_amount", total=self.ctx.money(total)) if total else ""
        )

    def _toggle_language(self) -> None:
        self.session.set_locale(self.ctx.language.toggle())

    def _start(self) -> None:
        self.session.touch()
        self._redraw()

    def on_scan(self, code: str) -> None:
        if self.payer.busy:
            return
        self.session.touch()
        flow = self.session.checkout
        channel = payment_code_channel(code)
        if channel is not None:
            if flow.order is not None and flow.order.lines:
                self._pay(channel, code)
            return
        if self.session.state is KioskState.THANKS:
            return
        if flow.state is CheckoutState.TENDERING:
            self._run(
                "back", flow.back_from_tender, lambda _: self._run("scan", lambda: flow.scan(code))
            )
            return
        self._run("scan", lambda: flow.scan(code))

    def _pay(self, channel: str, code: str = "") -> None:
        flow = self.session.checkout
        mode = "payment_code" if code else ("card" if channel == "card" else "qr")

        def go(_: Any) -> None:
            assert flow.tender is not None
            self.session.paying()
            self.payer.start(flow.tender, channel, mode, code=code)

        if flow.state is CheckoutState.TENDERING:
            go(None)
        else:
            self._run("tender", flow.start_tender, go)

    def _payment_done(self, result: TenderResult) -> None:
        flow = self.session.checkout
        if self.session.reset_pending:
            # The idle reset cancelled this payment; now the cart can go, unless
            # its money is uncertain: then it waits for the attendant.
            failure = kiosk_failure(result) if result.status is Outcome.UNKNOWN else None
            if failure is not None:
                self.message.show_text(failure.text, error=True)
            self._background("clear", lambda: self.session.after_cancelled_payment(result))
            return
        if flow.finish_if_paid():
            self.session.paid()
            if flow.last_paid is not None:
                self.receipt.show_sale(flow.last_paid)
        else:
            self.session.shopping()
            failure = kiosk_failure(result)
            if failure is not None:
                # In the shopper's words at once; the attendant call (journal,
                # lamp, server) and holding the cart happen on a worker.
                self.message.show_text(failure.text, error=True)
                self._background("payment failed", lambda: self.session.payment_failed(result))
            elif result.status is not Outcome.SUCCEEDED:
                self.message.show_text(said_or_none(result.message), error=True)
        self._redraw()

    def _selected_line(self) -> LineView | None:
        order = self.session.checkout.order
        line_id = self.cart.selected_line()
        if order is None or line_id is None:
            return None
        return next((ln for ln in order.lines if ln.line_id == line_id), None)

    def _in_cart(self, name: str, change: Callable[[], Any]) -> None:
        """A change to the cart, back from the pay step first if need be."""
        flow = self.session.checkout
        if flow.state is CheckoutState.TENDERING:
            self._run("back", flow.back_from_tender, lambda _: self._run(name, change))
        else:
            self._run(name, change)

    def _one_less(self) -> None:
        line = self._selected_line()
        if line is not None and line.quantity > 1:
            flow = self.session.checkout
            self._in_cart("one less", lambda: flow.set_quantity(line.line_id, line.quantity - 1))

    def _void_line(self) -> None:
        line = self._selected_line()
        if line is None:
            return
        flow = self.session.checkout
        self.confirm_dialog = confirm(
            self.ctx,
            self,
            self.ctx.t("screens.shopper.remove_question", name=line.name(self.ctx.language.locale)),
            self.ctx.t("screens.shopper.remove_item"),
            lambda: self._in_cart("void", lambda: flow.void_line(line.line_id)),
        )

    def _clear(self) -> None:
        self._run("clear", self.session.reset)

    def _still_here(self) -> None:
        self.session.touch()
        self.warning.setVisible(False)

    def _call_attendant(self) -> None:
        self.message.show_text(msg("kiosk.an_attendant_is_on_the"))
        self._background("call attendant", self.session.call_attendant)
        self._redraw()

    def _override(self) -> None:
        ask_approval(
            self.ctx,
            self,
            "kiosk_override",
            msg("kiosk.attendant_override"),
            (),
            self._overridden,
        )

    def _overridden(self, approval: Approval) -> None:
        self.session.override(approval)
        self._redraw()

    # -- sales left open (a crash, a shopper gone after paying part) -----------------
    def settle_left_open(self) -> None:
        """After start-up recovery: void the carts shoppers left; a sale with
        money taken waits for the attendant, who is called."""

        def done(waiting: int) -> None:
            if waiting:
                self.message.show_text(msg("kiosk.a_sale_was_left_unfinished"))

        self._run("settle left open", self.session.settle_left_open, done)

    def show_left_open(self) -> None:
        """The attendant's list of unfinished sales: resume one for the shopper
        still here, or void it (a manager's PIN; the money goes back)."""

        def taken() -> None:
            self.session.shopping()
            self.session.attendant_called = False
            self._redraw()

        def offer(left: list[Any]) -> None:
            if not left:
                self.message.show_text(msg("kiosk.no_sale_is_left_unfinished"))
                return
            self.session.attendant_called = False
            dlg = open_left_open(self.ctx, self, self.scope, self.session.checkout, left, taken)
            self.left_open_dialog = dlg
            dlg.finished.connect(lambda _code: setattr(self, "left_open_dialog", None))

        try:
            self.session.require_override()
        except FlowError as exc:
            self._failed(exc)
            return
        self._run("left open", self.session.checkout.left_open, offer)

    def _exit(self) -> None:
        try:
            self.session.require_override()
        except FlowError as exc:  # the exit needs an attendant
            self._failed(exc)
            return
        self.allow_close = True
        if self._on_exit is not None:
            self._on_exit()
        self.close()

    # -- timers ---------------------------------------------------------------------------
    def tick(self) -> None:
        if self.session.held:
            self._held_ticks += 1
            if self._held_ticks % 5 == 0:  # is the money settled in the background yet?
                self._background("held", self.session.refresh_held)
        t = self.session.tick()
        if t.action is TickAction.WARN:
            self._warn_left = t.seconds_left
            self.warning.setVisible(True)
            self.retranslate()
        elif t.action is TickAction.RESET:
            if self.payer.starting:
                return  # its risk check is running: the payment it starts is cancelled next tick
            step_up = self.payer.step_up_dialog
            if step_up is not None and step_up.isVisible():
                step_up.reject()  # nobody is there to meet it; the tender goes back
            self.warning.setVisible(False)
            if self.payer.busy:
                self.payer.cancel()  # the gateway closes the trade; the cart goes after
            self._run("reset", self.session.reset)
        else:
            self.warning.setVisible(False)
