"""The cashier's counter screen: search as you type, the cart, totals always
in view, park/resume, void, and the tender. Every touch is one flow call run
as an operation; the screen redraws from what the call returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pos.flows import ApprovalRequired, CheckoutFlow, CheckoutState, OnlineOnly, TenderState
from pos.flows.checkout import payment_code_channel
from pos.flows.text import Said, said_or_none
from pos.flows.views import (
    Approval,
    ChannelInfo,
    OrderView,
    Outcome,
    Session,
    TenderResult,
)
from pos.messages import msg
from pos.money import Money
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import Printing, set_up
from ui.qt import (
    QEvent,
    QHBoxLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.cart import CartTable, TotalsPanel
from ui.screens.customer import CustomerDisplay
from ui.screens.dialogs import (
    ConfirmDialog,
    DiscountDialog,
    MoneyBackDialog,
    ParkedDialog,
    QuantityDialog,
    ReceiptDialog,
    confirm,
    show_money_back,
)
from ui.screens.left_open import LeftOpenDialog, open_left_open
from ui.screens.paying import PaymentDriver
from ui.screens.product_search import ProductSearch
from ui.screens.tender import TenderPanel, WalletButton
from ui.widgets import (
    MessageLine,
    PrinterBanner,
    PrintWatch,
    ask_approval,
    button,
    label,
    watch_print,
)


class CashierScreen(QWidget):
    logout = Signal()
    open_manager = Signal()
    open_refund = Signal()
    sale_done = Signal(object)  # the paid OrderView

    def __init__(
        self,
        ctx: UiContext,
        session: Session,
        customer: CustomerDisplay | None = None,
        printing: Printing | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.session = session
        self.customer = customer
        self._printing = printing  # set up later from the manager's Printer tab, maybe
        self.print_watch: PrintWatch | None = None
        self.printer_banner = PrinterBanner(ctx)
        self.money_back_dialog: MoneyBackDialog | None = None
        self.confirm_dialog: ConfirmDialog | None = None
        s = ctx.services
        self.flow = CheckoutFlow(session, s.checkout, s.catalog, s.payments)
        self.scope = Scope("cashier")
        self.payer = PaymentDriver(ctx, self, self.scope)
        self.payer.finished.connect(self._payment_done)
        self.payer.failed.connect(self._payment_failed)
        if customer is not None:
            self.payer.qr_shown.connect(customer.show_qr)
        self.receipt_dialog: ReceiptDialog | None = None
        self.left_open_dialog: LeftOpenDialog | None = None

        # top bar
        self.who = label("", "muted")
        self.lang_button = button("")
        self.lang_button.clicked.connect(self._toggle_language)
        self.refund_button = button("")
        self.refund_button.clicked.connect(self.open_refund.emit)
        self.manager_button = button("")
        self.manager_button.clicked.connect(self.open_manager.emit)
        self.logout_button = button("")
        self.logout_button.clicked.connect(self.logout.emit)
        top = QHBoxLayout()
        top.addWidget(self.who, 3)
        for b in (self.lang_button, self.refund_button, self.manager_button, self.logout_button):
            top.addWidget(b, 1)

        # cart page: search, results, cart, line actions
        self.product_search = ProductSearch(
            ctx, self.flow.search, lambda exc: self.message.show_error(exc)
        )
        self.product_search.chosen.connect(self._add)
        self.search, self.hits = self.product_search.line, self.product_search.hits
        self.cart = CartTable(ctx)
        self.qty_button = button("")
        self.qty_button.clicked.connect(self._quantity)
        self.plus_button = button("+1")
        self.plus_button.clicked.connect(lambda: self._step_quantity(1))
        self.minus_button = button("−1")
        self.minus_button.clicked.connect(lambda: self._step_quantity(-1))
        self.discount_button = button("")
        self.discount_button.clicked.connect(self._discount)
        self.void_line_button = button("", "danger")
        self.void_line_button.clicked.connect(self._void_line)
        line_row = QHBoxLayout()
        for b in (
            self.minus_button,
            self.plus_button,
            self.qty_button,
            self.discount_button,
            self.void_line_button,
        ):
            line_row.addWidget(b)
        cart_page = QWidget()
        cl = QVBoxLayout(cart_page)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.product_search)
        cl.addWidget(self.cart, 1)
        cl.addLayout(line_row)

        self.tender_panel = TenderPanel(ctx)
        self.tender_panel.pay.connect(self._pay)
        self.tender_panel.cash.connect(self._cash)
        self.tender_panel.back.connect(self._back_from_tender)
        self.check_button = button("", "primary")
        self.check_button.clicked.connect(self._resolve)
        self.check_button.setVisible(False)
        self.pages = QStackedWidget()
        self.pages.addWidget(cart_page)
        self.pages.addWidget(self.tender_panel)

        # right: totals and sale actions
        self.totals = TotalsPanel(ctx)
        self.pay_button = button("", "primary", 96)
        self.pay_button.clicked.connect(lambda: self._tender())
        self.wallet_button = WalletButton(ctx)
        self.wallet_button.clicked.connect(self._wallet_qr)
        self.park_button = button("")
        self.park_button.clicked.connect(self._park)
        self.resume_button = button("")
        self.resume_button.clicked.connect(self._resume)
        self.void_button = button("", "danger")
        self.void_button.clicked.connect(self._void_sale)
        right = QVBoxLayout()
        right.addWidget(self.totals)
        right.addWidget(self.pay_button)
        right.addWidget(self.wallet_button)
        row = QHBoxLayout()
        row.addWidget(self.park_button)
        row.addWidget(self.resume_button)
        right.addLayout(row)
        right.addWidget(self.void_button)
        right.addWidget(self.check_button)
        # What happened sits under the buttons, where the cashier just touched.
        self.message = MessageLine(ctx)
        right.addWidget(self.message)
        right.addStretch(1)

        body = QHBoxLayout()
        body.addWidget(self.pages, 3)
        body.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.printer_banner)
        lay.addLayout(body, 1)
        self.retranslate()
        self._redraw()
        ctx.ops.run(
            "wallet", lambda op: s.payments.channels("cashier"), self.scope, self._wallet_found
        )

    # -- words ----------------------------------------------------------------------
    def retranslate(self) -> None:
        self.who.setText(
            self.ctx.t("counter.cashier_named", name=self.session.name)
            + ("  ·  " + self.ctx.t("counter.manager") if self.session.role == "manager" else "")
        )
        self.lang_button.setText(self.ctx.language.switch_label)
        self.refund_button.setText(self.ctx.t("counter.refund_button"))
        self.manager_button.setText(self.ctx.t("counter.manager"))
        self.logout_button.setText(self.ctx.t("counter.log_out"))
        self.product_search.retranslate()
        self.qty_button.setText(self.ctx.t("counter.qty_2"))
        self.discount_button.setText(self.ctx.t("counter.discount_2"))
        self.void_line_button.setText(self.ctx.t("counter.void_line"))
        self.park_button.setText(self.ctx.t("counter.park"))
        self.resume_button.setText(self.ctx.t("counter.resume"))
        self.void_button.setText(self.ctx.t("counter.void_sale"))
        self.check_button.setText(self.ctx.t("counter.check_the_payment_again"))
        self.printer_banner.retranslate()
        self.message.refresh()
        self._amount_buttons(self.flow.order)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _toggle_language(self) -> None:
        self.ctx.language.toggle()

    # -- running flow calls ------------------------------------------------------------
    def _run(
        self,
        name: str,
        fn: Callable[[], Any],
        then: Callable[[Any], None] | None = None,
        lane: str = "store",
        retry_with: Callable[[Approval], Callable[[], Any]] | None = None,
    ) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, ApprovalRequired) and retry_with is not None:
                ask_approval(
                    self.ctx,
                    self,
                    exc.action,
                    exc.text,
                    (),
                    lambda appr: self._run(name, retry_with(appr), then, lane),
                )
                return
            self.message.show_error(exc)
            self._redraw()

        def done(result: Any) -> None:
            self.message.show_text(None)
            if then is not None:
                then(result)
            self._redraw(result if isinstance(result, OrderView) else None)

        self.ctx.ops.run(name, lambda op: fn(), self.scope, done, failed, lane=lane)

    def _redraw(self, drawn: OrderView | None = None) -> None:
        """`drawn`: the order as the operation that just ended left it (scans
        queue up, so the flow may already be a scan ahead); the cart then
        selects the line that scan touched."""
        flow = self.flow
        order = flow.tender.order if flow.tender is not None else flow.order
        if flow.state is CheckoutState.DONE:
            order = None
        elif (
            drawn is not None
            and flow.tender is None
            and order is not None
            and drawn.order_id == order.order_id
        ):
            order = drawn
        self.cart.show_order(order)
        self.totals.show_order(order)
        self._amount_buttons(order)
        tendering = flow.state is CheckoutState.TENDERING
        self.pages.setCurrentIndex(1 if tendering else 0)
        ringing = flow.state is CheckoutState.RINGING and order is not None and bool(order.lines)
        for b in (
            self.qty_button,
            self.plus_button,
            self.minus_button,
            self.discount_button,
            self.void_line_button,
            self.pay_button,
            self.wallet_button,
            self.park_button,
        ):
            b.setEnabled(ringing)
        self.void_button.setEnabled(
            order is not None and flow.state in (CheckoutState.RINGING, CheckoutState.TENDERING)
        )
        self.resume_button.setEnabled(not ringing and not tendering)
        # While tendering the tender panel takes the money; no second pay button.
        self.pay_button.setVisible(not tendering)
        self.wallet_button.setVisible(not tendering and self.wallet_button.wallet is not None)
        unresolved = (
            tendering and flow.tender is not None and (flow.tender.state is TenderState.UNRESOLVED)
        )
        self.check_button.setVisible(unresolved)
        if tendering and flow.tender is not None:
            self.tender_panel.show_order(flow.tender.order)
            self.tender_panel.show_due(flow.tender.remaining)
            self.tender_panel.poll()
        else:
            self.tender_panel.watch(None)
        if self.customer is not None:
            self.customer.show_order(order)

    # -- scanning and searching ---------------------------------------------------------
    def on_scan(self, code: str) -> None:
        """A scanner burst, wherever the focus was."""
        if self.payer.busy:
            return  # a payment is on screen; a stray scan must not start another
        channel = payment_code_channel(code)
        if channel is not None:
            self._payment_code(channel, code)
            return
        if self.flow.state is CheckoutState.TENDERING:
            self.message.show_text(
                msg("counter.taking_payment_go_back_to"),
                error=True,
            )
            return
        if self.receipt_dialog is not None:
            self.receipt_dialog.accept()
        self._run("scan", lambda: self.flow.scan(code), self._scanned)

    def _scanned(self, order: OrderView) -> None:
        self.product_search.clear()

    def _add(self, sku: str) -> None:
        self._run("add", lambda: self.flow.add(sku), self._scanned)

    # -- lines --------------------------------------------------------------------------
    def _selected(self) -> str | None:
        line = self.cart.selected_line()
        if line is None:
            self.message.show_text(msg("counter.choose_a_line_first"), error=True)
        return line

    def _quantity(self) -> None:
        line = self._selected()
        if line is None or self.flow.order is None:
            return
        dlg = QuantityDialog(self.ctx, self.flow.order.line(line).quantity, self)
        if dlg.exec():
            qty = dlg.spin.value()
            self._run("quantity", lambda: self.flow.set_quantity(line, qty))

    def _step_quantity(self, step: int) -> None:
        line = self._selected()
        if line is None or self.flow.order is None:
            return
        qty = self.flow.order.line(line).quantity + step
        if qty <= 0:
            self._void_line()  # the last one off is a delete: asked first
            return
        self._run("quantity", lambda: self.flow.set_quantity(line, qty))

    def _discount(self) -> None:
        line = self._selected()
        if line is None or self.flow.order is None:
            return
        dlg = DiscountDialog(self.ctx, self.flow.order.currency, self)
        if dlg.exec() and dlg.discount is not None:
            d = dlg.discount
            self._run(
                "discount",
                lambda: self.flow.discount_line(line, d),
                retry_with=lambda appr: lambda: self.flow.discount_line(line, d, appr),
            )

    def _confirm(self, question: str, yes: str, then: Callable[[], None]) -> None:
        self.confirm_dialog = confirm(self.ctx, self, question, yes, then, self.search.setFocus)

    def _void_line(self) -> None:
        line = self._selected()
        if line is None or self.flow.order is None:
            return
        name = self.flow.order.line(line).name(self.ctx.language.locale)
        self._confirm(
            self.ctx.t("screens.confirm_void_line", name=name),
            self.ctx.t("screens.confirm_void_line_yes"),
            lambda: self._run("void line", lambda: self.flow.void_line(line)),
        )

    # -- sale actions -----------------------------------------------------------------------
    def _park(self) -> None:
        self._run("park", self.flow.park)

    def _resume(self) -> None:
        def choose(parked: list[Any]) -> None:
            dlg = ParkedDialog(self.ctx, parked, self)
            if dlg.exec() and dlg.order_id:
                order_id = dlg.order_id
                self._run("resume", lambda: self.flow.resume(order_id))

        self._run("parked", self.flow.parked, choose)

    def offer_left_open(self) -> None:
        """Offer the sales a crash or a closed window left open, if any."""

        def taken() -> None:
            self._redraw()
            self.search.setFocus()

        def offer(left: list[Any]) -> None:
            if not left:
                return
            dlg = open_left_open(self.ctx, self, self.scope, self.flow, left, taken)
            self.left_open_dialog = dlg
            dlg.finished.connect(lambda _code: setattr(self, "left_open_dialog", None))

        self._run("left open", self.flow.left_open, offer)

    def _void_sale(self) -> None:
        flow = self.flow
        order = flow.tender.order if flow.tender is not None else flow.order
        if order is None:
            return
        count = sum(ln.quantity if ln.grams is None else 1 for ln in order.lines)

        def void() -> None:
            self._run(
                "void",
                flow.void_order,
                lambda _: self._money_back(order.tenders),
                retry_with=lambda appr: lambda: flow.void_order(appr),
            )

        self._confirm(
            self.ctx.t("screens.confirm_void_sale", count=count, total=self.ctx.money(order.total)),
            self.ctx.t("screens.confirm_void_sale_yes"),
            void,
        )

    def _money_back(self, parts: Any) -> None:
        """What goes back where, in large type, once money had been taken."""
        if parts:
            title, focus = self.ctx.t("screens.back.voided"), self.search.setFocus
            self.money_back_dialog = show_money_back(self.ctx, self, title, parts, focus)

    # -- tender ---------------------------------------------------------------------------
    def _tender(self, then: Callable[[], None] | None = None) -> None:
        def started(_: Any) -> None:
            tender = self.flow.tender
            assert tender is not None
            self._run("channels", tender.channels, self.tender_panel.show_channels)
            self.tender_panel.watch(tender.background)
            if then is not None:
                then()

        self._run("tender", self.flow.start_tender, started)

    def _amount_buttons(self, order: OrderView | None) -> None:
        """The pay button says what it will take; the wallet button too."""
        has = order is not None and order.total.minor > 0
        due = order.remaining if order is not None else Money(0)
        self.pay_button.setText(
            self.ctx.t("screens.pay_amount", amount=self.ctx.money(due))
            if has
            else self.ctx.t("counter.pay")
        )
        self.wallet_button.show_due(due if has else None)

    def _wallet_found(self, channels: list[ChannelInfo]) -> None:
        self.wallet_button.choose(channels)
        self._amount_buttons(self.flow.order)

    def _wallet_qr(self) -> None:
        """One touch from the cart to the QR of the store's default wallet."""
        wallet = self.wallet_button.wallet
        if wallet is not None:
            self._tender(lambda: self._pay(wallet.channel, "qr", None))

    def _back_from_tender(self) -> None:
        self._run("back", self.flow.back_from_tender)

    def _payment_code(self, channel: str, code: str) -> None:
        state = self.flow.state
        if state is CheckoutState.TENDERING:
            self._pay(channel, "payment_code", self.tender_panel.part_amount(), code)
        elif state is CheckoutState.RINGING and self.flow.order and self.flow.order.lines:
            self._tender(lambda: self._pay(channel, "payment_code", None, code))
        else:
            self.message.show_text(
                msg("counter.scan_the_items_before_the"),
                error=True,
            )

    def _cash(self, tendered: Money) -> None:
        if self.flow.tender is not None:
            self.payer.start(self.flow.tender, "cash", "cash", tendered=tendered)

    def _pay(self, channel: str, mode: str, amount: Money | None, code: str = "") -> None:
        if self.flow.tender is not None:
            self.payer.start(self.flow.tender, channel, mode, amount, code=code)

    def _payment_failed(self, exc: BaseException) -> None:
        self.message.show_error(exc)
        tender = self.flow.tender
        if isinstance(exc, OnlineOnly) and tender is not None:
            # Cash is greyed out with the reasons; the online tenders stay.
            self.ctx.ops.run(
                "channels",
                lambda op: tender.channels(),
                self.scope,
                self.tender_panel.show_channels,
                self.message.show_error,
            )
        self._redraw()

    def _payment_done(self, result: TenderResult) -> None:
        if result.status is not Outcome.SUCCEEDED:
            self.message.show_text(said_or_none(result.message), error=True)
        else:
            self.message.show_text(None)
        if self.flow.finish_if_paid():
            paid = self.flow.last_paid
            assert paid is not None
            if self.customer is not None:
                self.customer.show_paid(paid)
            self.sale_done.emit(paid)
            self._run("receipt", self.flow.receipt_text, lambda t: self._show_receipt(paid, t))
        self._redraw()

    def _resolve(self) -> None:
        if self.flow.tender is not None:
            self.payer.resolve(self.flow.tender)

    def _show_receipt(self, order: OrderView, text: str) -> None:
        printer = set_up(self._printing)

        def said(status: Said | None) -> None:
            self.message.show_text(status)
            if self.receipt_dialog is not None:
                # The dialog covers the banner: it says the problem too.
                problem = not self.printer_banner.isHidden()
                shown = self.printer_banner.text if problem else self.message
                self.receipt_dialog.show_status(shown.text(), problem)

        def follow(job_id: str) -> None:
            """Say the print's real state: printing, printed, or what is wrong
            with the printer (the banner, with a retry)."""
            assert printer is not None
            self.print_watch = watch_print(
                printer,
                job_id,
                self,
                self.printer_banner,
                said,
                "screens.printer.printed",
                "screens.printer.printing",
            )

        def send() -> None:
            assert printer is not None
            self._run("print", lambda: printer.print_receipt(order.order_id), follow, lane="io")

        dlg = ReceiptDialog(self.ctx, order, text, send if printer else None, self)
        self.receipt_dialog = dlg
        dlg.finished.connect(self._receipt_closed)
        dlg.open()

    def _receipt_closed(self, _code: int) -> None:
        self.receipt_dialog = None
        if self.customer is not None:
            self.customer.show_order(None)
        self.search.setFocus()

    def leave(self) -> None:
        self.scope.leave()
        self.product_search.scope.leave()
