"""The customer display: a window for the second screen facing the shopper,
with the store's name, the cart, 应收 / 实收 / 找零, and the QR while a QR
payment runs. After payment it holds 支付成功 with the figures a few seconds
(HOLD_MS), so the shopper can read them, before it clears."""

from __future__ import annotations

from pos.flows.views import OrderView
from pos.money import Money
from ui.context import UiContext
from ui.qr import QrWidget
from ui.qt import (
    QAbstractItemView,
    QEvent,
    QFormLayout,
    QHBoxLayout,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from ui.screens.cart import CartTable
from ui.screens.payment import channel_name
from ui.widgets import label

HOLD_MS = 6000  # long enough to read the change and 支付成功


class CustomerDisplay(QWidget):
    def __init__(self, ctx: UiContext, store_name: str = "") -> None:
        super().__init__()
        self._ctx = ctx
        self._store = store_name
        self._order: OrderView | None = None
        self._paid: OrderView | None = None
        self._waiting: OrderView | None = None  # what to show once the hold ends
        self.hold = QTimer(self)
        self.hold.setSingleShot(True)
        self.hold.setInterval(HOLD_MS)
        self.hold.timeout.connect(self._hold_over)
        self.setWindowTitle(ctx.t("counter.shopper.window_title"))
        self.welcome = label("", "title")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.success = label("", "change")
        self.success.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.success.setVisible(False)
        self.cart = CartTable(ctx, row_height=48)
        self.cart.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.names = {k: label("", "title") for k in ("due", "paid", "change")}
        self.values = {k: label("", "total") for k in self.names}
        self.form = QFormLayout()
        for k in self.names:
            self.values[k].setAlignment(Qt.AlignmentFlag.AlignRight)
            self.form.addRow(self.names[k], self.values[k])
        self.qr = QrWidget(minimum=300)
        self.qr_caption = label("", "info")
        self.qr_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        side = QVBoxLayout()
        side.addWidget(self.qr, 1)
        side.addWidget(self.qr_caption)
        self.side = QWidget()
        self.side.setLayout(side)
        self.side.setVisible(False)
        main = QVBoxLayout()
        main.addWidget(self.welcome)
        main.addWidget(self.success)
        main.addWidget(self.cart, 1)
        main.addLayout(self.form)
        lay = QHBoxLayout(self)
        lay.addLayout(main, 3)
        lay.addWidget(self.side, 2)
        self.resize(1024, 600)
        self.retranslate()

    def set_store(self, name: str) -> None:
        self._store = name
        self.retranslate()

    def retranslate(self) -> None:
        t = self._ctx.t
        if self._paid is not None:
            thanks = t("counter.shopper.thank_you")
            self.welcome.setText(f"{thanks} · {self._store}" if self._store else thanks)
        elif self._store:
            self.welcome.setText(t("screens.shopper.welcome_to", store=self._store))
        else:
            self.welcome.setText(t("counter.shopper.welcome"))
        self.success.setText(t("screens.shopper.success"))
        self.names["due"].setText(t("screens.shopper.due"))
        self.names["paid"].setText(t("screens.shopper.paid"))
        self.names["change"].setText(t("screens.shopper.change"))
        self._show_figures()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _show_figures(self) -> None:
        """应收 always; 实收 once money is taken; 找零 when there is change."""
        order = self._paid or self._order
        money = self._ctx.money
        total = order.total if order is not None else Money(0)
        # 实收 is what the shopper handed over (cash before change).
        paid = Money(
            sum((t.tendered or t.amount).minor for t in order.tenders) if order else 0,
            total.currency,
        )
        change = order.change if order is not None else Money(0)
        shown = {
            "due": money(total),
            "paid": money(paid) if paid.minor else "",
            "change": money(change) if change.minor else "",
        }
        for k, text in shown.items():
            self.values[k].setText(text)
            self.form.setRowVisible(self.names[k], bool(text))

    @property
    def holding(self) -> bool:
        return self.hold.isActive()

    def show_order(self, order: OrderView | None) -> None:
        if self.holding:
            # The paid sale stays up until the hold ends or the next sale's
            # first item is scanned.
            if order is None or not order.lines:
                self._waiting = order
                return
            self.hold.stop()
        self._order = order
        self._paid = None
        self.success.setVisible(False)
        self.side.setVisible(False)
        self.cart.show_order(order)
        self.retranslate()

    def show_qr(self, payload: str, amount: Money, channel: str) -> None:
        self.qr.set_payload(payload)
        self.qr_caption.setText(
            self._ctx.t(
                "counter.shopper.scan_to_pay",
                app=self._ctx.say(channel_name(channel)),
                amount=self._ctx.money(amount),
            )
        )
        self.side.setVisible(True)

    def show_paid(self, order: OrderView) -> None:
        self._paid = order
        self._waiting = None
        self.side.setVisible(False)
        self.success.setVisible(True)
        self.cart.show_order(order)
        self.retranslate()
        self.hold.start()

    def _hold_over(self) -> None:
        self.hold.stop()
        self.show_order(self._waiting)
