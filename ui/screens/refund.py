"""Refund from a receipt lookup: find the sale, tick lines or type an amount,
a manager approves with their PIN, the money goes back to the original
tenders (through the original channel). Then the screen says in large type
what to hand back in cash and what went back to which channel, and the
refund slip prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pos.flows import FlowError, RefundFlow, RefundState
from pos.flows.text import message_of
from pos.flows.views import Approval, OrderView, Outcome, TenderResult
from pos.messages import Message, msg
from pos.money import Money, MoneyError
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import Printing, set_up
from ui.qt import (
    QCheckBox,
    QEvent,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.dialogs import MoneyBackDialog, show_money_back
from ui.widgets import (
    MessageLine,
    PrinterBanner,
    PrintWatch,
    ask_approval,
    button,
    label,
    watch_print,
)

NEEDS_BADGE = "badge.approval_needs_badge"


class RefundScreen(QWidget):
    back = Signal()

    def __init__(self, ctx: UiContext, printing: Printing | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self._printing = printing  # set up later from the manager's Printer tab, maybe
        self.printer_banner = PrinterBanner(ctx)
        self.print_watch: PrintWatch | None = None
        self.money_back_dialog: MoneyBackDialog | None = None
        self.scope = Scope("refund")
        self.flow = RefundFlow(ctx.services.checkout, ctx.services.refunds)
        self.title = label("", "title")
        self.receipt = QLineEdit()
        self.receipt.returnPressed.connect(self._lookup)
        self.find_button = button("", "primary")
        self.find_button.clicked.connect(self._lookup)
        self.sale = label("", "muted")
        self.lines_box = QVBoxLayout()
        self.checks: list[QCheckBox] = []
        self.amount = QLineEdit()
        self.amount.textEdited.connect(self._amount_changed)
        self.reason = QLineEdit()
        self.preview = label("", "total")
        self.refund_button = button("", "danger", 64)
        self.refund_button.clicked.connect(self._refund)
        self.back_button = button("")
        self.back_button.clicked.connect(self._back)
        self.message = MessageLine(ctx)
        find = QHBoxLayout()
        find.addWidget(self.receipt, 3)
        find.addWidget(self.find_button, 1)
        self.amount_name = label("", "muted")
        self.reason_name = label("", "muted")
        lay = QVBoxLayout(self)
        lay.addWidget(self.printer_banner)
        lay.addWidget(self.title)
        lay.addLayout(find)
        lay.addWidget(self.sale)
        lay.addLayout(self.lines_box)
        for w in (self.amount_name, self.amount, self.reason_name, self.reason, self.preview):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.refund_button)
        lay.addLayout(row)
        self.retranslate()
        self._redraw()

    def retranslate(self) -> None:
        self.title.setText(self.ctx.t("counter.refund_from_a_receipt"))
        self.receipt.setPlaceholderText(self.ctx.t("counter.scan_or_type_the_receipt"))
        self.find_button.setText(self.ctx.t("counter.find_sale"))
        self.amount_name.setText(self.ctx.t("counter.or_refund_an_amount"))
        self.reason_name.setText(self.ctx.t("counter.reason"))
        self.refund_button.setText(self.ctx.t("counter.refund_manager_pin"))
        self.back_button.setText(self.ctx.t("counter.back"))
        self.printer_banner.retranslate()
        self.message.refresh()
        self._redraw()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _run(
        self, name: str, fn: Callable[[], Any], then: Callable[[Any], None], lane: str = "store"
    ) -> None:
        def failed(exc: BaseException) -> None:
            self.message.show_error(exc)
            self._redraw()

        self.ctx.ops.run(name, lambda op: fn(), self.scope, then, failed, lane=lane)

    def on_scan(self, code: str) -> None:
        self.receipt.setText(code)
        self._lookup()

    def _lookup(self) -> None:
        self.flow = RefundFlow(self.ctx.services.checkout, self.ctx.services.refunds)
        text = self.receipt.text()
        self._run("find receipt", lambda: self.flow.lookup(text), self._found)

    def _found(self, order: OrderView) -> None:
        self.message.show_text(None)
        self._redraw()

    def _redraw(self) -> None:
        for c in self.checks:
            # Out of the layout now: a deferred delete would leave the last
            # sale's lines on screen until the event loop gets to it.
            self.lines_box.removeWidget(c)
            c.hide()
            c.deleteLater()
        self.checks = []
        order = self.flow.order
        selecting = self.flow.state is RefundState.SELECTING
        if order is not None and self.flow.refundable is not None:
            self.sale.setText(
                self.ctx.t(
                    "counter.refund_sale_line",
                    receipt=order.receipt_no,
                    paid=self.ctx.money(order.total),
                    refundable=self.ctx.money(self.flow.refundable),
                )
            )
            for ln in order.lines:
                c = QCheckBox(
                    f"{ln.name(self.ctx.language.locale)} × {ln.quantity}   "
                    f"{self.ctx.money(ln.total)}"
                )
                c.setMinimumHeight(44)
                c.setChecked(ln.line_id in self.flow.selected)
                c.setEnabled(selecting)
                c.toggled.connect(lambda _on, lid=ln.line_id: self._toggle(lid))
                self.lines_box.addWidget(c)
                self.checks.append(c)
            self._show_preview()
        else:
            self.sale.setText("")
            self.preview.setText("")
        self.amount.setEnabled(selecting)
        self.reason.setEnabled(selecting)
        self.refund_button.setEnabled(selecting)

    def _show_preview(self) -> None:
        if self.flow.state is RefundState.DONE and self.flow.refunded is not None:
            self.preview.setText(
                self.ctx.t("counter.refunded_amount", amount=self.ctx.money(self.flow.refunded))
            )
            return
        self.preview.setText(
            self.ctx.t("counter.refund_amount", amount=self.ctx.money(self.flow.preview()))
        )

    def _toggle(self, line_id: str) -> None:
        self.flow.toggle_line(line_id)
        self.amount.clear()
        self._show_preview()

    def _amount_changed(self, text: str) -> None:
        try:
            amount = Money.parse(text) if text.strip() else None
            self.flow.set_amount(amount)
        except MoneyError:
            return
        except FlowError as exc:  # the flow's limits, shown where the person typed
            self.message.show_error(exc)
            return
        self.message.show_text(None)
        for c in self.checks:
            c.blockSignals(True)
            c.setChecked(False)
            c.blockSignals(False)
        self._show_preview()

    def _refund(self) -> None:
        self._ask_approval(None)

    def _ask_approval(self, badge: Message | None) -> None:
        """`badge`: why the manager's badge is needed too (above the badge limit)."""
        try:
            request = self.flow.request_approval(self.reason.text())
        except FlowError as exc:  # nothing chosen: said on screen
            self.message.show_error(exc)
            return
        reasons: tuple[Message, ...] = (msg("counter.refund_of", amount=self.flow.preview()),)
        self.approval_dialog = ask_approval(
            self.ctx,
            self,
            "refund",
            msg("counter.a_refund_needs_a_managers"),
            reasons + ((badge,) if badge is not None else ()),
            self._approved,
            reason=request.reason,
            badge=badge is not None,
        )
        self.approval_dialog.rejected.connect(self.flow.back)

    def _approved(self, approval: Approval) -> None:
        def failed(exc: BaseException) -> None:
            said = message_of(exc)
            if isinstance(said, Message) and said.code == NEEDS_BADGE and self.ctx.services.badges:
                # Above the badge limit a PIN alone is refused: ask again, for badge and PIN.
                self.message.show_error(exc)
                self._ask_approval(msg("badge.approval_above_limit", limit=said.params["limit"]))
                return
            self.message.show_error(exc)
            self._redraw()

        self.ctx.ops.run(
            "refund", lambda op: self.flow.run(approval), self.scope, self._done, failed, lane="io"
        )

    def _done(self, result: TenderResult) -> None:
        if result.status is Outcome.SUCCEEDED:
            self.message.show_text(msg("counter.refunded"))
            refunded = self.flow.refunded
            title = self.ctx.t(
                "screens.back.refunded",
                amount=self.ctx.money(refunded if refunded is not None else result.order.paid),
            )
            self.money_back_dialog = show_money_back(self.ctx, self, title, result.given_back)
            self._print_slip(result.order.order_id, result.reference)
        else:
            self.message.show_text(result.message, error=True)
        self._redraw()

    def _print_slip(self, order_id: str, refund_id: str) -> None:
        printer = set_up(self._printing)
        if printer is None or not refund_id:
            return

        def follow(job_id: str) -> None:
            self.print_watch = watch_print(
                printer,
                job_id,
                self,
                self.printer_banner,
                self.message.show_text,
                "screens.printer.slip_printed",
                "screens.printer.slip_printing",
            )

        self.ctx.ops.run(
            "refund slip",
            lambda op: printer.print_refund_slip(order_id, refund_id),
            self.scope,
            follow,
            self.message.show_error,
            lane="io",
        )

    def _back(self) -> None:
        self.scope.leave()
        self.flow = RefundFlow(self.ctx.services.checkout, self.ctx.services.refunds)
        self.receipt.clear()
        self.message.show_text(None)
        self._redraw()
        self.back.emit()
