"""Small dialogs of the cashier screen: quantity, line discount, parked
sales, receipt preview."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pos.flows.ports import Discount
from pos.flows.views import OrderView, ParkedView, TenderView
from pos.money import Money, MoneyError
from ui.context import UiContext
from ui.qt import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.screens.payment import channel_name
from ui.widgets import button, label


class QuantityDialog(QDialog):
    def __init__(self, ctx: UiContext, quantity: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle(self._ctx.t("counter.quantity"))
        self.spin = QSpinBox()
        self.spin.setRange(0, 9999)
        self.spin.setValue(quantity)
        self.spin.setMinimumHeight(48)
        grid = QGridLayout()
        for i, n in enumerate([1, 2, 3, 5, 6, 10, 12, 24]):
            b = button(str(n))
            b.clicked.connect(lambda _=False, n=n: self.spin.setValue(n))
            grid.addWidget(b, i // 4, i % 4)
        ok = button(self._ctx.t("counter.ok"), "primary")
        ok.clicked.connect(self.accept)
        cancel = button(self._ctx.t("counter.cancel"))
        cancel.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(label(self._ctx.t("counter.quantity_0_removes_the_line")))
        lay.addWidget(self.spin)
        lay.addLayout(grid)
        row = QHBoxLayout()
        row.addWidget(cancel)
        row.addWidget(ok)
        lay.addLayout(row)


class DiscountDialog(QDialog):
    """A percent off (one touch) or an amount off the selected line."""

    def __init__(self, ctx: UiContext, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.discount: Discount | None = None
        self._currency = currency
        self.setWindowTitle(self._ctx.t("counter.line_discount"))
        lay = QVBoxLayout(self)
        lay.addWidget(label(self._ctx.t("counter.percent_off"), "title"))
        row = QHBoxLayout()
        for pct in (5, 10, 20, 30, 50):
            b = button(f"{pct}%", "primary")
            b.clicked.connect(lambda _=False, p=pct: self._choose(Discount(basis_points=p * 100)))
            row.addWidget(b)
        lay.addLayout(row)
        lay.addWidget(label(self._ctx.t("counter.or_an_amount_off"), "title"))
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("5.00")
        self.error = label("", "error")
        take = button(self._ctx.t("counter.apply_amount"), "primary")
        take.clicked.connect(self._amount)
        row2 = QHBoxLayout()
        row2.addWidget(self.amount)
        row2.addWidget(take)
        lay.addLayout(row2)
        lay.addWidget(self.error)
        cancel = button(self._ctx.t("counter.cancel"))
        cancel.clicked.connect(self.reject)
        lay.addWidget(cancel)

    def _choose(self, discount: Discount) -> None:
        self.discount = discount
        self.accept()

    def _amount(self) -> None:
        try:
            amount = Money.parse(self.amount.text(), self._currency)
        except MoneyError:
            self.error.setText(self._ctx.t("counter.write_the_amount_like_5"))
            return
        self._choose(Discount(amount=amount))


class ParkedDialog(QDialog):
    def __init__(
        self, ctx: UiContext, parked: list[ParkedView], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.order_id: str | None = None
        self.setWindowTitle(self._ctx.t("counter.parked_sales"))
        self.list = QListWidget()
        for p in parked:
            text = (
                self._ctx.t("counter.one_item_total", total=ctx.money(p.total))
                if p.item_count == 1
                else self._ctx.t(
                    "counter.items_total", count=p.item_count, total=ctx.money(p.total)
                )
            )
            item = QListWidgetItem(f"{p.label or p.order_id[-8:]}  ·  {text}  ·  {p.parked_at}")
            item.setData(Qt.ItemDataRole.UserRole, p.order_id)
            self.list.addItem(item)
        self.list.itemActivated.connect(lambda _: self._take())
        resume = button(self._ctx.t("counter.resume_2"), "primary")
        resume.clicked.connect(self._take)
        cancel = button(self._ctx.t("counter.cancel"))
        cancel.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        if not parked:
            lay.addWidget(label(self._ctx.t("counter.no_sale_is_parked")))
        lay.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(cancel)
        row.addWidget(resume)
        lay.addLayout(row)
        self.resize(520, 420)

    def _take(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.order_id = str(item.data(Qt.ItemDataRole.UserRole))
            self.accept()


class ReceiptDialog(QDialog):
    """The paid sale: change due in large type, the receipt as it prints."""

    def __init__(
        self,
        ctx: UiContext,
        order: OrderView,
        receipt: str,
        print_receipt: Callable[[], None] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle(self._ctx.t("counter.receipt"))
        lay = QVBoxLayout(self)
        title = self._ctx.t("counter.paid_receipt", receipt=order.receipt_no or order.order_id)
        lay.addWidget(label(title, "title"))
        if order.change.minor:
            lay.addWidget(
                label(self._ctx.t("counter.give_change", amount=ctx.money(order.change)), "change")
            )
        text = QPlainTextEdit(receipt)
        text.setReadOnly(True)
        text.setProperty("role", "receipt")  # monospace, CJK two columns wide
        lay.addWidget(text, 1)
        row = QHBoxLayout()
        self.print_button = button(self._ctx.t("counter.print"))
        self.print_button.setEnabled(print_receipt is not None)
        if print_receipt is not None:
            self.print_button.clicked.connect(print_receipt)
        else:
            self.print_button.setToolTip(self._ctx.t("screens.printer.none"))
        # What the printer really did (printing, printed, or what is wrong).
        self.status = label(
            "" if print_receipt is not None else self._ctx.t("screens.printer.none"), "info"
        )
        lay.addWidget(self.status)
        done = button(self._ctx.t("counter.new_sale"), "primary")
        done.clicked.connect(self.accept)
        row.addWidget(self.print_button)
        row.addWidget(done)
        lay.addLayout(row)
        self.resize(640, 720)

    def show_status(self, text: str, problem: bool = False) -> None:
        """What the printer did with this receipt, red when it could not print."""
        self.status.setText(text)
        self.status.setProperty("role", "error" if problem else "info")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)


class ConfirmDialog(QDialog):
    """Asks before something that loses work (a line, a whole sale): the
    safe choice is on the left and is the default."""

    def __init__(
        self, ctx: UiContext, question: str, yes: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setModal(True)
        self.setWindowTitle(question)
        self.question = label(question, "title")
        self.keep_button = button(ctx.t("screens.keep"), "", 64)
        self.keep_button.clicked.connect(self.reject)
        self.yes_button = button(yes, "danger", 64)
        self.yes_button.clicked.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.question)
        row = QHBoxLayout()
        row.addWidget(self.keep_button)
        row.addWidget(self.yes_button)
        lay.addLayout(row)
        self.setMinimumWidth(480)


def money_back_lines(ctx: UiContext, parts: Sequence[TenderView]) -> list[str]:
    """Money going back, as instructions: cash from the drawer, the rest back
    on its own channel. Cash parts are added up into one instruction."""
    cash = sum((p.amount.minor for p in parts if p.channel == "cash"), 0)
    out = []
    if cash:
        currency = parts[0].amount.currency
        out.append(ctx.t("screens.back.cash", amount=ctx.money(Money(cash, currency))))
    for p in parts:
        if p.channel != "cash":
            out.append(
                ctx.t(
                    "screens.back.channel",
                    amount=ctx.money(p.amount),
                    channel=ctx.say(channel_name(p.channel)),
                )
            )
    return out or [ctx.t("screens.back.nothing")]


class MoneyBackDialog(QDialog):
    """After a refund or a void: in large type, what to hand back in cash and
    what went back to which channel."""

    def __init__(
        self, ctx: UiContext, title: str, parts: Sequence[TenderView], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setModal(True)
        self.setWindowTitle(title)
        self.title = label(title, "title")
        self.lines = [label(text, "money_back") for text in money_back_lines(ctx, parts)]
        self.done_button = button(ctx.t("screens.back.done"), "primary", 64)
        self.done_button.clicked.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        for w in self.lines:
            lay.addWidget(w)
        lay.addWidget(self.done_button)
        self.setMinimumWidth(620)

    def text(self) -> str:
        return "\n".join(w.text() for w in self.lines)


def confirm(
    ctx: UiContext,
    parent: QWidget,
    question: str,
    yes: str,
    then: Callable[[], None],
    closed: Callable[[], None] | None = None,
) -> ConfirmDialog:
    """Ask first; `then()` runs only on yes, `closed()` either way."""
    dlg = ConfirmDialog(ctx, question, yes, parent)
    dlg.accepted.connect(then)
    if closed is not None:
        dlg.finished.connect(lambda _code: closed())
    dlg.open()
    return dlg


def show_money_back(
    ctx: UiContext,
    parent: QWidget,
    title: str,
    parts: Sequence[TenderView],
    closed: Callable[[], None] | None = None,
) -> MoneyBackDialog:
    dlg = MoneyBackDialog(ctx, title, parts, parent)
    if closed is not None:
        dlg.finished.connect(lambda _code: closed())
    dlg.open()
    return dlg
