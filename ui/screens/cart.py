"""The cart table and the totals panel, drawn from an OrderView."""

from __future__ import annotations

from pos.flows.views import OrderView
from pos.money import Money
from ui.context import UiContext
from ui.qt import (
    QAbstractItemView,
    QEvent,
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from ui.widgets import label


class CartTable(QTableWidget):
    def __init__(self, ctx: UiContext, row_height: int = 44) -> None:
        super().__init__(0, 5)
        self._ctx = ctx
        self._order: OrderView | None = None
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(row_height)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        head = self.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.retranslate()

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels(
            [
                self._ctx.t("counter.item"),
                self._ctx.t("counter.qty"),
                self._ctx.t("counter.price"),
                self._ctx.t("counter.discount"),
                self._ctx.t("counter.total"),
            ]
        )
        if self._order is not None:
            self.show_order(self._order)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_order(self, order: OrderView | None) -> None:
        """Redraw; the line just scanned (new, or its quantity went up) is the
        selected one, so −1, +1, Qty, Discount and Delete act on it."""
        keep = self.selected_line()
        before = self._order
        self._order = order
        lines = order.lines if order else ()
        self.setRowCount(len(lines))
        money = self._ctx.money
        for r, ln in enumerate(lines):
            qty = f"{ln.grams} g" if ln.grams is not None else str(ln.quantity)
            cells = [
                ln.name(self._ctx.language.locale),
                qty,
                money(ln.unit_price),
                money(ln.discount) if ln.discount.minor else "",
                money(ln.total),
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, ln.line_id)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(r, c, item)
        ids = [ln.line_id for ln in lines]
        grown = _grown(before, order)
        if grown is not None:
            self.selectRow(ids.index(grown))
        elif keep in ids:
            self.selectRow(ids.index(keep))
        elif ids:
            self.selectRow(len(ids) - 1)

    def selected_line(self) -> str | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows or self._order is None:
            return None
        r = rows[0].row()
        return self._order.lines[r].line_id if r < len(self._order.lines) else None


def _grown(before: OrderView | None, after: OrderView | None) -> str | None:
    """The last line of `after` that is new or holds more than in `before`."""
    if after is None:
        return None
    had = (
        {ln.line_id: ln.quantity for ln in before.lines}
        if before is not None and before.order_id == after.order_id
        else {}
    )
    grown = [ln.line_id for ln in after.lines if ln.quantity > had.get(ln.line_id, 0)]
    return grown[-1] if grown else None


class TotalsPanel(QFrame):
    """Subtotal, discount, tax, the total large, and what is paid and due."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._order: OrderView | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.values = {k: QLabel("") for k in ("subtotal", "discount", "tax", "total", "paid")}
        for v in self.values.values():
            v.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.names = {k: QLabel("") for k in self.values}
        self.total_name = label("", "muted")
        self.total = label("", "total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.form = QFormLayout()
        for k in self.values:
            self.form.addRow(self.names[k], self.values[k])
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.total_name)
        lay.addWidget(self.total)
        self.retranslate()

    def retranslate(self) -> None:
        titles = {
            "subtotal": self._ctx.t("counter.subtotal"),
            "discount": self._ctx.t("counter.discount"),
            "tax": self._ctx.t("counter.tax_included"),
            "total": self._ctx.t("counter.total"),
            "paid": self._ctx.t("counter.paid"),
        }
        for k, t in titles.items():
            self.names[k].setText(t)
        self.show_order(self._order)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_order(self, order: OrderView | None) -> None:
        """A row shows only when it has something to say (no empty discount
        or paid rows before money is taken). The large figure is what is
        still due: the total until money is taken, then what is left, with
        the total moving to a small row."""
        self._order = order
        money = self._ctx.money
        shown = dict.fromkeys(self.values, "")
        if order is not None:
            shown["subtotal"] = money(order.subtotal)
            shown["discount"] = money(-order.discount) if order.discount.minor else ""
            shown["tax"] = money(order.tax)
            shown["paid"] = money(order.paid) if order.paid.minor else ""
            shown["total"] = money(order.total) if order.paid.minor else ""
        for k, text in shown.items():
            self.values[k].setText(text)
            self.form.setRowVisible(self.names[k], bool(text))
        part_paid = order is not None and bool(order.paid.minor)
        self.total_name.setText(self._ctx.t("counter.due" if part_paid else "counter.total"))
        big = order.remaining if part_paid and order is not None else None
        self.total.setText(money(big if big is not None else (order.total if order else Money(0))))


def hline() -> QWidget:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    return line
