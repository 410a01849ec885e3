"""Small building blocks the screens share: large touch buttons, a PIN pad,
a message line, the manager-approval dialog."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pos.digits import is_digits
from pos.flows.text import Said, message_of
from pos.flows.views import Approval
from pos.messages import msg
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import GAVE_UP, NOT_READY, PRINTED, JobStatus, Printing
from ui.qt import (
    QDialog,
    QEvent,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QObject,
    QPushButton,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.shopper_words import for_shopper
from ui.style import TOUCH_MIN


def button(text: str, role: str = "", min_height: int = TOUCH_MIN) -> QPushButton:
    b = QPushButton(text)
    if role:
        b.setProperty("role", role)
    b.setMinimumHeight(min_height)
    if min_height != TOUCH_MIN:
        # The app's style sheet sets every button's minimum; this one is taller.
        b.setStyleSheet(f"min-height: {min_height}px;")
    b.setMinimumWidth(max(min_height, 48))
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b


def clear_layout(layout: QLayout) -> None:
    """Take every widget out of a layout that is redrawn from a new snapshot."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()  # gone now, not when the deferred delete runs
            widget.deleteLater()


def label(text: str = "", role: str = "") -> QLabel:
    lb = QLabel(text)
    if role:
        lb.setProperty("role", role)
    lb.setWordWrap(True)
    return lb


class MessageLine(QLabel):
    """One line that says what happened and what to do next."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__("")
        self._ctx = ctx
        self._text: Said | None = None
        self.setWordWrap(True)

    def show_text(self, text: Said | None, error: bool = False) -> None:
        self._text = text
        self.setProperty("role", "error" if error else "info")
        self.style().unpolish(self)
        self.style().polish(self)
        self.refresh()

    def show_error(self, exc: BaseException) -> None:
        self.show_text(message_of(exc), error=True)

    def refresh(self) -> None:
        self.setText(self._ctx.say(self._text) if self._text else "")


class PinPad(QWidget):
    """Digits for a PIN, shown masked; `entered` carries the PIN on OK."""

    entered = Signal(str)

    def __init__(self, button_size: int = 64) -> None:
        super().__init__()
        self._pin = ""
        self.display = QLineEdit()
        self.display.setEchoMode(QLineEdit.EchoMode.Password)
        self.display.setReadOnly(True)
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "OK"]
        self.buttons: dict[str, QPushButton] = {}
        for i, k in enumerate(keys):
            b = button(k, "primary" if k == "OK" else "", button_size)
            b.clicked.connect(lambda _=False, k=k: self.press(k))
            grid.addWidget(b, i // 3, i % 3)
            self.buttons[k] = b
        lay = QVBoxLayout(self)
        lay.addWidget(self.display)
        lay.addLayout(grid)

    def press(self, key: str) -> None:
        if key == "C":
            self._pin = ""
        elif key == "OK":
            pin, self._pin = self._pin, ""
            self.display.setText("")
            if pin:
                self.entered.emit(pin)
            return
        elif len(self._pin) < 8:
            self._pin += key
        self.display.setText("•" * len(self._pin))

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        text = event.text()
        if is_digits(text):
            self.press(text)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.press("OK")
        elif event.key() == Qt.Key.Key_Backspace:
            self.press("C")
        else:
            super().keyPressEvent(event)


class ApprovalDialog(QDialog):
    """A manager approves `action` with their PIN; the reasons are shown. With
    `badge` (above the store's badge limit) the manager also taps their badge,
    awaited off the UI thread after the PIN."""

    def __init__(
        self,
        ctx: UiContext,
        action: str,
        title: Said,
        reasons: Sequence[Said] = (),
        reason: str = "",
        parent: QWidget | None = None,
        badge: bool = False,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.badge = badge and ctx.services.badges is not None
        self._action = action
        self._reason = reason
        self._title = title
        self._reasons = tuple(reasons)
        self.approval: Approval | None = None
        self.scope = Scope("approval")
        self.setModal(True)
        self.title = label("", "title")
        self.reasons = label()
        self.prompt = label("", "muted")
        self.message = MessageLine(ctx)
        self.pad = PinPad()
        self.pad.entered.connect(self._check)
        self.cancel_button = button("")
        self.cancel_button.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.title, self.reasons, self.prompt, self.pad, self.message):
            lay.addWidget(w)
        self.setMinimumWidth(400)  # the reasons wrap readably, the pad stays square
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self._ctx.t("counter.manager_approval"))
        self.title.setText(self._ctx.say(self._title))
        self.reasons.setText("\n".join("• " + self._ctx.say(r) for r in self._reasons))
        self.reasons.setVisible(bool(self._reasons))
        self.prompt.setText(
            self._ctx.t(
                "badge.approval_prompt" if self.badge else "counter.a_manager_enters_their_pin"
            )
        )
        self.cancel_button.setText(self._ctx.t("counter.cancel"))
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _check(self, pin: str) -> None:
        desk = self._ctx.services.badges
        approve: Callable[[str, str, str], Approval] = self._ctx.services.auth.approve
        lane = "store"
        if self.badge and desk is not None:
            # The tap may take a while: waited for on an I/O worker.
            self.message.show_text(msg("badge.approval_tap"))
            approve, lane = desk.approve, "io"
        self._ctx.ops.run(
            "approve",
            lambda op: approve(pin, self._action, self._reason),
            self.scope,
            on_done=self._approved,
            on_error=self.message.show_error,
            lane=lane,
        )

    def _approved(self, approval: Approval) -> None:
        self.approval = approval
        self.accept()

    def done(self, result: int) -> None:
        self.scope.leave()
        super().done(result)


class IdCheckDialog(QDialog):
    """The risk rules ask for the shopper's ID: the reasons, then the cashier's
    own confirmation that they checked it (no PIN stands in for looking)."""

    def __init__(
        self, ctx: UiContext, reasons: Sequence[Said], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._reasons = tuple(reasons)
        self.setModal(True)
        self.title = label("", "title")
        self.reasons = label()
        self.prompt = label("", "muted")
        self.confirm_button = button("", "primary", 64)
        self.confirm_button.clicked.connect(self.accept)
        self.cancel_button = button("")
        self.cancel_button.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.title, self.reasons, self.prompt, self.confirm_button, self.cancel_button):
            lay.addWidget(w)
        self.setMinimumWidth(520)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self._ctx.t("counter.id_check"))
        self.title.setText(self._ctx.t("counter.check_the_shoppers_id"))
        self.reasons.setText("\n".join("• " + self._ctx.say(r) for r in self._reasons))
        self.reasons.setVisible(bool(self._reasons))
        self.prompt.setText(self._ctx.t("counter.look_at_the_shoppers_id"))
        self.confirm_button.setText(self._ctx.t("counter.i_have_checked_the_shoppers"))
        self.cancel_button.setText(self._ctx.t("counter.cancel"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def ask_approval(
    ctx: UiContext,
    parent: QWidget,
    action: str,
    title: Said,
    reasons: Sequence[Said],
    then: Callable[[Approval], None],
    reason: str = "",
    badge: bool = False,
) -> ApprovalDialog:
    """Open the approval dialog; `then(approval)` runs when a manager approved
    (by badge and PIN with `badge`)."""
    dlg = ApprovalDialog(ctx, action, title, reasons, reason, parent, badge)
    dlg.accepted.connect(lambda: then(dlg.approval) if dlg.approval else None)
    dlg.open()
    return dlg


class PrintWatch(QObject):
    """Follows one print job to its end on the UI thread (the queue's state is
    in memory, so a look costs no I/O): `changed` carries each new state."""

    changed = Signal(object)  # ui.printing.JobStatus

    def __init__(self, printing: Printing, job_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.printing = printing
        self.job_id = job_id
        self.status: JobStatus | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.look)
        self._timer.start()

    def look(self) -> None:
        status = self.printing.job(self.job_id)
        if status != self.status:
            self.status = status
            self.changed.emit(status)
        if status.state in (PRINTED, GAVE_UP):
            self._timer.stop()

    def retry(self) -> None:
        self.printing.retry(self.job_id)
        self.status = None
        self._timer.start()


class PrinterBanner(QWidget):
    """A red line across the screen while the printer is not ready, with what
    to do and a retry; hidden while printing goes well."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._watch: PrintWatch | None = None
        self._text: Said | None = None
        self.text = label("", "banner")
        self.retry_button = button("", "primary")
        self.retry_button.clicked.connect(self._retry)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text, 4)
        lay.addWidget(self.retry_button, 1)
        self.setVisible(False)
        self.retranslate()

    def retranslate(self) -> None:
        self.retry_button.setText(self._ctx.t("screens.printer.retry"))
        self.text.setText(self._ctx.say(self._text) if self._text is not None else "")

    def follow(self, watch: PrintWatch) -> None:
        self._watch = watch
        watch.changed.connect(lambda s, w=watch: self._show(w, s))

    def _show(self, watch: PrintWatch, status: JobStatus) -> None:
        if watch is not self._watch:
            return  # a newer job speaks for the printer now
        if status.state == NOT_READY and status.why is not None:
            self._text = msg("screens.printer.not_ready", why=status.why)
        elif status.state == GAVE_UP and status.why is not None:
            self._text = msg("screens.printer.gave_up", why=status.why)
        else:
            self._text = None
        self.retranslate()
        self.setVisible(self._text is not None)

    def _retry(self) -> None:
        if self._watch is not None:
            self._watch.retry()


def watch_print(
    printing: Printing,
    job_id: str,
    parent: QObject,
    banner: PrinterBanner,
    say: Callable[[Said | None], None],
    done_code: str,
    printing_code: str,
) -> PrintWatch:
    """Follow a print job: `say` gets "printing…" then "printed" (never
    before the printer took it); a printer problem goes to the banner."""
    watch = PrintWatch(printing, job_id, parent)
    banner.follow(watch)

    def said(status: JobStatus) -> None:
        if status.state == PRINTED:
            say(msg(done_code))
        elif status.why is None:
            say(msg(printing_code))
        else:
            say(None)  # the banner says what is wrong, with the retry

    watch.changed.connect(said)
    watch.look()
    return watch


class StaffNeededDialog(QDialog):
    """At the kiosk, a step-up that needs staff: the shopper is told staff are
    called and to wait; no PIN pad shows until a member of staff asks for it."""

    def __init__(
        self,
        ctx: UiContext,
        action: str,
        title: Said,
        reasons: Sequence[Said],
        then: Callable[[Approval], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setModal(True)
        self.approval_dialog: ApprovalDialog | None = None
        self.text = label(ctx.t("screens.shopper.staff_needed"), "title")
        self.back_button = button(ctx.t("screens.shopper.back_to_basket"), "", 72)
        self.back_button.clicked.connect(self.reject)
        self.staff_button = button(ctx.t("screens.shopper.staff_here"), "", 48)
        self.staff_button.clicked.connect(lambda: self._staff(action, title, reasons, then))
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.back_button)
        row = QHBoxLayout()
        row.addStretch(3)  # the staff button away from the shopper's choices
        row.addWidget(self.staff_button, 1)
        lay.addLayout(row)
        self.setMinimumWidth(560)

    def _staff(
        self,
        action: str,
        title: Said,
        reasons: Sequence[Said],
        then: Callable[[Approval], None],
    ) -> None:
        def approved(appr: Approval) -> None:
            self.accept()
            then(appr)

        self.approval_dialog = ask_approval(self._ctx, self, action, title, reasons, approved)


def ask_staff(
    ctx: UiContext,
    parent: QWidget,
    action: str,
    title: Said,
    reasons: Sequence[Said],
    then: Callable[[Approval], None],
    call_staff: Callable[[], None] | None,
) -> StaffNeededDialog:
    """The kiosk's step-up: call staff, tell the shopper to wait."""
    if call_staff is not None:
        call_staff()
    dlg = StaffNeededDialog(ctx, action, title, reasons, then, parent)
    dlg.open()
    return dlg


class ShopperMessageLine(MessageLine):
    """The kiosk's message line: what the till says, in the shopper's words."""

    def show_text(self, text: Said | None, error: bool = False) -> None:
        super().show_text(for_shopper(text) if text is not None else None, error)
