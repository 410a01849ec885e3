"""Sales the checkout left open (a crash, a closed window, a kiosk shopper
who walked away after paying part), offered at a cashier's login or to a
kiosk attendant: each with its lines and the money already taken, to resume
or void. `open_left_open` shows the dialog and runs the flow calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pos.flows import ApprovalRequired, CheckoutFlow
from pos.flows.views import Approval, LeftOpenView
from pos.order.tenders import channel_label
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import (
    QAbstractItemView,
    QDialog,
    QEvent,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.cart import CartTable
from ui.widgets import MessageLine, ask_approval, button, label


class LeftOpenDialog(QDialog):
    resume = Signal(str)  # order id
    void = Signal(str)  # order id

    def __init__(
        self, ctx: UiContext, left: list[LeftOpenView], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._left = list(left)
        self.setModal(True)
        self.title = label("", "title")
        self.explain = label("", "muted")
        self.list = QListWidget()
        self.list.setMinimumWidth(300)
        self.list.setSpacing(4)
        self.list.currentRowChanged.connect(self._show)
        self.lines = CartTable(ctx, row_height=36)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.paid = label("", "info")
        self.message = MessageLine(ctx)
        self.void_button = button("", "danger")
        self.void_button.clicked.connect(lambda: self._chosen("void"))
        self.later_button = button("")
        self.later_button.clicked.connect(self.reject)
        self.resume_button = button("", "primary")
        self.resume_button.clicked.connect(lambda: self._chosen("resume"))
        detail = QVBoxLayout()
        detail.addWidget(self.lines, 1)
        detail.addWidget(self.paid)
        body = QHBoxLayout()
        body.addWidget(self.list, 2)
        body.addLayout(detail, 3)
        row = QHBoxLayout()
        for b in (self.void_button, self.later_button, self.resume_button):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.explain)
        lay.addLayout(body, 1)
        lay.addWidget(self.message)
        lay.addLayout(row)
        self.resize(960, 560)
        self.retranslate()
        self.list.setCurrentRow(0)

    @property
    def order_ids(self) -> list[str]:
        return [lo.order.order_id for lo in self._left]

    def retranslate(self) -> None:
        self.setWindowTitle(self._ctx.t("counter.unfinished_sales"))
        self.title.setText(self._ctx.t("counter.sales_left_unfinished"))
        self.explain.setText(self._ctx.t("counter.left_open_explained"))
        self.void_button.setText(self._ctx.t("counter.void_sale"))
        self.later_button.setText(self._ctx.t("counter.later"))
        self.resume_button.setText(self._ctx.t("counter.resume_3"))
        row = self.list.currentRow()
        self.list.clear()
        for lo in self._left:
            self.list.addItem(self._entry(lo))
        self.list.setCurrentRow(row)
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _entry(self, lo: LeftOpenView) -> QListWidgetItem:
        o = lo.order
        text = (
            self._ctx.t("counter.one_item_total", total=self._ctx.money(o.total))
            if o.item_count == 1
            else self._ctx.t(
                "counter.items_total", count=o.item_count, total=self._ctx.money(o.total)
            )
        )
        where = (
            self._ctx.t("counter.kiosk") if lo.mode == "kiosk" else self._ctx.t("counter.counter")
        )
        lines = [f"{lo.left_at}  ·  {where}  ·  {text}"]
        if o.paid.minor:
            lines.append(
                self._ctx.t(
                    "counter.paid_and_due",
                    paid=self._ctx.money(o.paid),
                    due=self._ctx.money(o.remaining),
                )
            )
        item = QListWidgetItem("\n".join(lines))
        item.setData(Qt.ItemDataRole.UserRole, o.order_id)
        return item

    def _show(self, row: int) -> None:
        lo = self._left[row] if 0 <= row < len(self._left) else None
        self.lines.show_order(lo.order if lo is not None else None)
        taken = [
            f"{self._ctx.say(channel_label(t.channel))} {self._ctx.money(t.amount)}"
            for t in (lo.order.tenders if lo is not None else ())
        ]
        self.paid.setText(
            self._ctx.t("counter.already_paid", taken=", ".join(taken))
            if taken
            else self._ctx.t("counter.nothing_paid_yet")
        )
        self.paid.setVisible(lo is not None)
        for b in (self.void_button, self.resume_button):
            b.setEnabled(lo is not None)

    def _chosen(self, action: str) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._left):
            self.message.show_text(None)
            order_id = self._left[row].order.order_id
            (self.void if action == "void" else self.resume).emit(order_id)

    def drop(self, order_id: str) -> None:
        """A sale that was voided leaves the list; the dialog closes when none is left."""
        self._left = [lo for lo in self._left if lo.order.order_id != order_id]
        if not self._left:
            self.accept()
            return
        self.retranslate()
        self.list.setCurrentRow(0)


def open_left_open(
    ctx: UiContext,
    parent: QWidget,
    scope: Scope,
    flow: CheckoutFlow,
    left: list[LeftOpenView],
    taken: Callable[[], None],
) -> LeftOpenDialog:
    """Show the sales left open and run what is chosen: resume takes the sale
    over (then `taken` runs); void asks for a manager once money was taken."""
    dlg = LeftOpenDialog(ctx, left, parent)

    def take_over(order_id: str) -> None:
        def done(_order: Any) -> None:
            dlg.accept()
            taken()

        ctx.ops.run(
            "take over", lambda op: flow.take_over(order_id), scope, done, dlg.message.show_error
        )

    def void(order_id: str, approval: Approval | None = None) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, ApprovalRequired) and approval is None:
                ask_approval(ctx, dlg, exc.action, exc.text, (), lambda appr: void(order_id, appr))
                return
            dlg.message.show_error(exc)

        ctx.ops.run(
            "void left open",
            lambda op: flow.void_left_open(order_id, approval),
            scope,
            lambda _: dlg.drop(order_id),
            failed,
        )

    dlg.resume.connect(take_over)
    dlg.void.connect(void)
    dlg.open()
    return dlg
