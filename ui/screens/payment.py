"""The payment dialog: a large QR (or "shopper confirming" for a payment code,
or the card prompts), amount, channel, countdown, live status, and a cancel
that really cancels (the tender's cancel token makes the router cancel or
close the trade at the gateway)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pos.flows.kiosk import kiosk_failure
from pos.flows.text import Said
from pos.flows.views import Outcome, TenderResult
from pos.messages import msg
from pos.money import Money
from pos.order.tenders import channel_label
from ui.context import UiContext
from ui.qr import QrWidget
from ui.qt import (
    QDialog,
    QEvent,
    QHBoxLayout,
    QObject,
    QProgressBar,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.widgets import button, clear_layout, label

CHANNEL_NAMES = {
    "alipay": msg("counter.alipay"),
    "wechat": msg("counter.wechat_pay"),
    "card": msg("counter.bank_card"),
    "cash": msg("counter.cash"),
}

CARD_PROMPTS = {
    "insert": msg("counter.insert_the_card"),
    "choose_app": msg("counter.choose_the_card_application"),
    "processing": msg("counter.processing_do_not_remove_the"),
    "remove": msg("counter.remove_the_card"),
}


def channel_name(channel: str) -> Said:
    return CHANNEL_NAMES.get(channel) or channel_label(channel)


class QtPaymentEvents(QObject):
    """PaymentEvents for a payment running on a worker: each call becomes a
    queued signal to the dialog. A card's application choice blocks the
    worker until the person has chosen (or the payment is cancelled)."""

    qr_shown = Signal(str, int)
    status_changed = Signal(object)
    prompt = Signal(str, list)

    def __init__(self) -> None:
        super().__init__()
        self._choice = 0
        self._chosen = threading.Event()

    def qr(self, payload: str, expires_in_s: int) -> None:
        self.qr_shown.emit(payload, expires_in_s)

    def status(self, text: Said) -> None:
        self.status_changed.emit(text)

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        self._chosen.clear()
        self.prompt.emit(kind, list(options))
        if kind != "choose_app":
            return 0
        self._chosen.wait(120)
        return self._choice

    def choose(self, index: int) -> None:
        self._choice = index
        self._chosen.set()


class PaymentDialog(QDialog):
    """Shows one running payment; `cancel_requested` fires on Cancel."""

    cancel_requested = Signal()

    def __init__(
        self,
        ctx: UiContext,
        channel: str,
        mode: str,
        amount: Money,
        events: QtPaymentEvents,
        parent: QWidget | None = None,
        kiosk: bool = False,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._kiosk = kiosk
        self._qr_shown = False
        self.channel = channel
        self.mode = mode
        self.amount = amount
        self.events = events
        self.outcome: TenderResult | None = None
        self._status: Said | None = None
        self._deadline_left = 0
        self._prompt: str = "insert" if mode == "card" else ""
        self.setModal(True)
        self.title = label("", "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.amount_label = label("", "total")
        self.amount_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr = QrWidget(minimum=360 if kiosk else 300)
        # No empty frame saying "scan this": the code shows when the platform gave one.
        self.qr.setVisible(False)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # "working" without a known end
        self.busy.setVisible(True)
        self.hint = label("", "muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown = label("", "muted")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = label("", "info")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.apps = QHBoxLayout()
        self.cancel_button = button("", "danger", 64 if kiosk else 48)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button = button("", "primary", 64 if kiosk else 48)
        self.close_button.clicked.connect(self.accept)
        self.close_button.setVisible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.amount_label)
        lay.addWidget(self.qr, 1, Qt.AlignmentFlag.AlignCenter)
        lines: tuple[QWidget, ...] = (self.busy, self.hint, self.countdown, self.status)
        for line in lines:
            lay.addWidget(line)
        lay.addLayout(self.apps)
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        row.addWidget(self.close_button)
        lay.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        events.qr_shown.connect(self.show_qr)
        events.status_changed.connect(self.show_status)
        events.prompt.connect(self.show_prompt)
        self.resize(480, 640)
        self.retranslate()

    def retranslate(self) -> None:
        name = self._ctx.say(channel_name(self.channel))
        self.setWindowTitle(self._ctx.t("counter.payment"))
        self.title.setText(name)
        self.amount_label.setText(self._ctx.money(self.amount))
        if self.mode == "qr" and not self._qr_shown:
            self.hint.setText(self._ctx.t("uncertain.counter.creating_code", app=name))
        elif self.mode == "qr":
            scan = "uncertain.kiosk.scan_to_pay" if self._kiosk else "counter.ask_shopper_to_scan"
            self.hint.setText(self._ctx.t(scan, app=name))
        elif self.mode == "payment_code":
            confirm = (
                "uncertain.kiosk.confirm_on_phone"
                if self._kiosk
                else "counter.the_shopper_is_confirming_the"
            )
            self.hint.setText(self._ctx.t(confirm))
        elif self.mode == "card":
            self.hint.setText(self._ctx.say(CARD_PROMPTS.get(self._prompt, CARD_PROMPTS["insert"])))
        self.cancel_button.setText(self._ctx.t("counter.cancel_payment"))
        self.close_button.setText(self._ctx.t("counter.close"))
        self._show_countdown()
        if self._status is not None:
            self.status.setText(self._ctx.say(self._status))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- live updates from the worker ------------------------------------------------
    def show_qr(self, payload: str, expires_in_s: int) -> None:
        self._qr_shown = True
        self.qr.set_payload(payload)
        self.qr.setVisible(True)
        self.busy.setVisible(False)
        self.retranslate()
        self._deadline_left = expires_in_s
        if expires_in_s > 0:
            self._timer.start()
        self._show_countdown()

    def show_status(self, text: Said) -> None:
        if self._kiosk:
            # The platform's progress lines speak to the cashier; the shopper
            # reads the hint, and the outcome in their words (`finish`).
            return
        self._status = text
        self.status.setText(self._ctx.say(text))

    def show_prompt(self, kind: str, options: list[str]) -> None:
        self._prompt = kind
        clear_layout(self.apps)
        if kind == "choose_app":
            for i, name in enumerate(options):
                b = button(name, "primary")
                b.clicked.connect(lambda _=False, i=i: self._choose(i))
                self.apps.addWidget(b)
        self.retranslate()

    def _choose(self, index: int) -> None:
        self.events.choose(index)
        self.show_prompt("processing", [])

    def _tick(self) -> None:
        self._deadline_left = max(0, self._deadline_left - 1)
        self._show_countdown()
        if self._deadline_left == 0:
            self._timer.stop()

    def _show_countdown(self) -> None:
        if self._deadline_left > 0:
            m, s = divmod(self._deadline_left, 60)
            self.countdown.setText(self._ctx.t("counter.code_valid_for", time=f"{m}:{s:02d}"))
        else:
            self.countdown.setText("")

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.show_status(msg("counter.cancelling"))
        self.events.choose(-1)  # release a worker waiting for an application choice
        self.cancel_requested.emit()

    # -- the end ------------------------------------------------------------------------
    def finish(self, result: TenderResult) -> None:
        """Show the outcome; success closes by itself, others stay to be read."""
        self.outcome = result
        self._timer.stop()
        self._deadline_left = 0
        for w in (self.busy, self.hint, self.countdown):
            w.setVisible(False)
        self.cancel_button.setVisible(False)
        if result.status is Outcome.SUCCEEDED:
            self.accept()
            return
        self.qr.setVisible(False)
        self.status.setProperty("role", "error")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self._status = self.outcome_text(result)
        self.status.setText(self._ctx.say(self._status))
        self.close_button.setVisible(True)

    def outcome_text(self, result: TenderResult) -> Said:
        """What went wrong and what to do: the shopper's words at the kiosk."""
        if self._kiosk:
            failure = kiosk_failure(result)
            return failure.text if failure is not None else msg("uncertain.kiosk.not_paid")
        if result.released:
            # Let go: its own message says what happened and the next step.
            return (
                result.message
                if result.message.render("en")
                else msg("uncertain.counter.no_answer")
            )
        else:
            words = {
                Outcome.FAILED: msg("counter.payment_not_completed"),
                Outcome.CANCELLED: msg("counter.payment_cancelled"),
                Outcome.TIMED_OUT: msg("counter.payment_timed_out_the_code"),
                Outcome.UNKNOWN: msg("counter.payment_outcome_unknown_checking"),
                Outcome.SUCCEEDED: msg("counter.payment_not_completed"),
            }[result.status]
        if result.message.render("en"):
            return msg("counter.outcome_with_reason", outcome=words, reason=result.message)
        return words
