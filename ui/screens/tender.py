"""The tender panel: the amount still due is the biggest figure, then the
tenders already taken and the order total small; one touch to a QR channel or
the card; a cash keypad with suggested notes and the change in large type; an
amount for split tender. A scanned payment code needs no touch here: the
cashier screen takes it."""

from __future__ import annotations

from collections.abc import Callable

from pos.flows.tender import Background, suggest_cash
from pos.flows.views import ChannelInfo, OrderView
from pos.messages import msg
from pos.money import Money, MoneyError
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import (
    QEvent,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.payment import channel_name
from ui.widgets import MessageLine, button, clear_layout, label

_ROLE = {"alipay": "alipay", "wechat": "wechat", "card": "card", "cash": "cash"}


class TenderPanel(QWidget):
    pay = Signal(str, str, object)  # channel, mode, amount (Money | None for all due)
    cash = Signal(object)  # tendered Money
    back = Signal()

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._due = Money(0)
        self._channels: list[ChannelInfo] = []
        self._cash_ok = True
        self._order: OrderView | None = None
        self.title = label("", "title")
        self.due = label("", "due")
        self.summary = label("", "small_total")
        self.taken = label("", "muted")
        self.scan_hint = label("", "info")
        self.amount_name = label("", "muted")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("")
        self.channel_row = QGridLayout()  # three a row: a name is never clipped
        self.channel_buttons: dict[tuple[str, str], QPushButton] = {}
        self.unavailable = label("", "muted")
        # The network in words (not colour alone), and attempts let go of that
        # the till still checks in the background.
        self._background: Background | None = None
        self.network = label("", "info")
        self.network.setVisible(False)
        self.checking = label("", "info")
        self.checking.setVisible(False)
        self._source: Callable[[], Background] | None = None
        self._scope = Scope("tender-background")
        self._timer = QTimer(self)
        self._timer.setInterval(3000)  # an attempt settles in the background meanwhile
        self._timer.timeout.connect(self.poll)
        # cash
        self.cash_title = label("", "title")
        self.tendered = QLineEdit()
        self.tendered.setReadOnly(True)
        self.tendered.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.change = label("", "change")
        self.change.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.change.setVisible(False)
        self.suggest_row = QGridLayout()
        self.suggest_buttons: list[QPushButton] = []
        keys = QGridLayout()
        for i, k in enumerate(["7", "8", "9", "4", "5", "6", "1", "2", "3", "00", "0", "."]):
            b = button(k, "", 56)
            b.clicked.connect(lambda _=False, k=k: self._key(k))
            keys.addWidget(b, i // 3, i % 3)
        self.clear_button = button("C", "", 56)
        self.clear_button.clicked.connect(lambda: self._set_tendered(""))
        keys.addWidget(self.clear_button, 0, 3)
        self.take_cash = button("", "cash", 56)
        self.take_cash.clicked.connect(self._take_cash)
        keys.addWidget(self.take_cash, 1, 3, 3, 1)
        self.back_button = button("")
        self.back_button.clicked.connect(self.back.emit)
        self.message = MessageLine(ctx)

        left = QVBoxLayout()
        for w in (self.title, self.due, self.summary, self.taken, self.scan_hint):
            left.addWidget(w)
        left.addWidget(self.network)
        left.addLayout(self.channel_row)
        left.addWidget(self.unavailable)
        left.addWidget(self.checking)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount_name)
        amount_row.addWidget(self.amount)
        left.addLayout(amount_row)
        left.addStretch(1)
        left.addWidget(self.message)
        left.addWidget(self.back_button)
        right = QVBoxLayout()
        right.addWidget(self.cash_title)
        right.addWidget(self.tendered)
        right.addLayout(self.suggest_row)
        right.addLayout(keys)
        right.addWidget(self.change)
        right.addStretch(1)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 3)
        lay.addLayout(right, 2)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self._ctx.t("screens.still_due"))
        self.scan_hint.setText(self._ctx.t("counter.scan_the_shoppers_payment_code"))
        self.amount_name.setText(self._ctx.t("counter.pay_part_split_tender"))
        self.amount.setPlaceholderText(self._ctx.t("counter.all_that_is_due"))
        self.cash_title.setText(self._ctx.t("counter.cash_received"))
        self.take_cash.setText(self._ctx.t("counter.take_cash"))
        self.back_button.setText(self._ctx.t("counter.back_to_the_cart"))
        self.show_channels(self._channels)
        self.show_order(self._order)
        self.show_due(self._due)
        self.show_background(self._background)
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_channels(self, channels: list[ChannelInfo]) -> None:
        self._channels = channels
        clear_layout(self.channel_row)
        self.channel_buttons.clear()
        why: list[str] = []
        for ch in channels:
            for mode in ch.modes:
                if mode in ("payment_code", "cash"):
                    continue  # a payment code is scanned; cash has its keypad
                text = self._ctx.say(ch.label)
                if mode == "qr":
                    text = self._ctx.t("counter.channel_qr", channel=text)
                b = button(text, _ROLE.get(ch.channel, "primary"), 72)
                b.setEnabled(ch.available)
                b.clicked.connect(lambda _=False, c=ch.channel, m=mode: self._pay(c, m))
                n = len(self.channel_buttons)
                self.channel_row.addWidget(b, n // 3, n % 3)
                self.channel_buttons[(ch.channel, mode)] = b
            if not ch.available and ch.why_unavailable is not None:
                why.append(f"{self._ctx.say(ch.label)}: {self._ctx.say(ch.why_unavailable)}")
        self.unavailable.setText("\n".join(why))
        self.unavailable.setVisible(bool(why))
        self._cash_ok = any(ch.channel == "cash" and ch.available for ch in channels)
        self._enable_cash()

    def watch(self, source: Callable[[], Background] | None) -> None:
        """Keep the network state and the attempts being checked up to date
        from `source` (a flow call, run on a worker) while tendering; None stops."""
        if source is None and self._source is None:
            return
        self._source = source
        if source is None:
            self._timer.stop()
            self._scope.leave()
            self.show_background(None)
            return
        self.poll()
        self._timer.start()

    def poll(self) -> None:
        source = self._source
        if source is not None:
            self._ctx.ops.run("background", lambda op: source(), self._scope, self.show_background)

    def show_background(self, background: Background | None) -> None:
        self._background = background
        online = background.online if background is not None else None
        self.network.setVisible(online is not None)
        if online is not None:
            self.network.setText(
                self._ctx.t("gaps.network.online" if online else "gaps.network.offline")
            )
            self.network.setProperty("role", "info" if online else "error")
            self.network.style().unpolish(self.network)
            self.network.style().polish(self.network)
        checking = background.checking if background is not None else ()
        self.checking.setText("\n".join(self._ctx.say(c) for c in checking))
        self.checking.setVisible(bool(checking))

    def _enable_cash(self) -> None:
        for b in [self.take_cash, *self.suggest_buttons]:
            b.setEnabled(self._cash_ok)

    def show_order(self, order: OrderView | None) -> None:
        """The order total (small) and the tenders already taken."""
        self._order = order
        if order is None:
            self.summary.setText("")
            self.taken.setText("")
            return
        money = self._ctx.money
        self.summary.setText(self._ctx.t("screens.order_total", total=money(order.total)))
        self.taken.setText(
            "\n".join(
                self._ctx.t(
                    "screens.tender_taken",
                    channel=self._ctx.say(channel_name(t.channel)),
                    amount=money(t.amount),
                )
                for t in order.tenders
            )
        )
        self.taken.setVisible(bool(order.tenders))

    def show_due(self, due: Money) -> None:
        self._due = due
        self.due.setText(self._ctx.money(due))
        for b in self.suggest_buttons:
            self.suggest_row.removeWidget(b)
            b.hide()  # gone now, not when the deferred delete runs
            b.deleteLater()
        self.suggest_buttons = []
        for i, m in enumerate(suggest_cash(due)):
            b = button(self._ctx.money(m), "", 56)
            b.clicked.connect(lambda _=False, m=m: self.cash.emit(m))
            self.suggest_row.addWidget(b, i // 3, i % 3)
            self.suggest_buttons.append(b)
        self._enable_cash()
        self._set_tendered("")

    def part_amount(self) -> Money | None:
        """The split-tender amount typed, or None for all that is due."""
        text = self.amount.text().strip()
        try:
            return Money.parse(text, self._due.currency) if text else None
        except MoneyError:
            return None

    def _pay(self, channel: str, mode: str) -> None:
        amount = self.part_amount()
        if amount is None and self.amount.text().strip():
            self.message.show_text(msg("counter.that_is_not_an_amount"), error=True)
            return
        self.message.show_text(None)
        self.pay.emit(channel, mode, amount)

    def _key(self, key: str) -> None:
        self._set_tendered(self.tendered.text() + key)

    def _set_tendered(self, text: str) -> None:
        self.tendered.setText(text)
        got = self._tendered()
        if got is not None and got >= self._due and self._due.minor:
            self.change.setText(
                self._ctx.t("screens.change", amount=self._ctx.money(got - self._due))
            )
            self.change.setVisible(True)
        else:
            self.change.setText("")
            self.change.setVisible(False)

    def _tendered(self) -> Money | None:
        try:
            return (
                Money.parse(self.tendered.text(), self._due.currency)
                if self.tendered.text()
                else None
            )
        except MoneyError:
            return None

    def _take_cash(self) -> None:
        got = self._tendered()
        if got is None:
            self.tendered.setText("")
            return
        self.cash.emit(got)


class WalletButton(QPushButton):
    """One touch from the cart to the QR of the store's default wallet: the
    first QR channel the till offers (the order of its channel settings)."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__("")
        self._ctx = ctx
        self.wallet: ChannelInfo | None = None
        self._due: Money | None = None
        self.setMinimumHeight(72)
        self.setStyleSheet("min-height: 72px;")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVisible(False)

    def choose(self, channels: list[ChannelInfo]) -> None:
        qr = [ch for ch in channels if "qr" in ch.modes and ch.available]
        self.wallet = qr[0] if qr else None
        if self.wallet is not None:
            self.setProperty("role", _ROLE.get(self.wallet.channel, "primary"))
            self.style().unpolish(self)
            self.style().polish(self)
        self.setVisible(self.wallet is not None)
        self.show_due(self._due)

    def show_due(self, due: Money | None) -> None:
        self._due = due
        if self.wallet is None:
            return
        self.setText(
            self._ctx.t(
                "screens.quick_qr",
                channel=self._ctx.say(self.wallet.label),
                amount=self._ctx.money(due) if due is not None else "",
            ).strip()
        )
