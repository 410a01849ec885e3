"""The customer display: a window for the second screen facing the shopper,
with the cart, the total, and the QR while a QR payment runs."""

from __future__ import annotations

from pos.flows.views import OrderView
from pos.money import Money
from ui.context import UiContext
from ui.qr import QrWidget
from ui.qt import QAbstractItemView, QEvent, QHBoxLayout, Qt, QVBoxLayout, QWidget
from ui.screens.cart import CartTable
from ui.screens.payment import channel_name
from ui.widgets import label


class CustomerDisplay(QWidget):
    def __init__(self, ctx: UiContext, store_name: str = "") -> None:
        super().__init__()
        self._ctx = ctx
        self._store = store_name
        self._order: OrderView | None = None
        self._paid: OrderView | None = None
        self.setWindowTitle(ctx.t("counter.shopper.window_title"))
        self.welcome = label("", "title")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cart = CartTable(ctx, row_height=48)
        self.cart.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.total_name = label("", "muted")
        self.total = label("", "total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
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
        main.addWidget(self.cart, 1)
        main.addWidget(self.total_name)
        main.addWidget(self.total)
        lay = QHBoxLayout(self)
        lay.addLayout(main, 3)
        lay.addWidget(self.side, 2)
        self.resize(1024, 600)
        self.retranslate()

    def retranslate(self) -> None:
        if self._paid is not None:
            self.welcome.setText(self._ctx.t("counter.shopper.thank_you"))
        else:
            self.welcome.setText(
                self._ctx.t("counter.shopper.welcome")
                + (f" · {self._store}" if self._store else "")
            )
        self.total_name.setText(self._ctx.t("counter.shopper.total"))
        self._show_total()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _show_total(self) -> None:
        order = self._paid or self._order
        self.total.setText(self._ctx.money(order.total if order else Money(0)))

    def show_order(self, order: OrderView | None) -> None:
        self._order = order
        self._paid = None
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
        self.side.setVisible(False)
        self.cart.show_order(order)
        self.retranslate()
