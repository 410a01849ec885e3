"""Login with a PIN. The role comes from the core; the screen only asks."""

from __future__ import annotations

from pos.flows.views import Session
from pos.messages import msg
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import QEvent, QHBoxLayout, QShowEvent, Qt, QVBoxLayout, QWidget, Signal
from ui.widgets import MessageLine, PinPad, button, label


class LoginScreen(QWidget):
    logged_in = Signal(object)  # Session

    def __init__(self, ctx: UiContext, terminal_name: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = Scope("login")
        self._terminal = terminal_name
        self.title = label("", "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt = label("", "muted")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pad = PinPad(button_size=72)
        self.pad.setMaximumWidth(420)
        self.pad.entered.connect(self.try_pin)
        self.badge_button = button("")
        self.badge_button.setMaximumWidth(420)
        self.badge_button.clicked.connect(self.tap_badge)
        self.badge_button.setVisible(ctx.services.badges is not None)
        self.message = MessageLine(ctx)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lang_button = button("")
        self.lang_button.setMaximumWidth(200)
        self.lang_button.clicked.connect(lambda: ctx.language.toggle())
        center = QVBoxLayout()
        center.addStretch(1)
        center.addWidget(self.title)
        center.addWidget(self.prompt)
        center.addWidget(self.pad, 0, Qt.AlignmentFlag.AlignHCenter)
        center.addWidget(self.badge_button, 0, Qt.AlignmentFlag.AlignHCenter)
        center.addWidget(self.message)
        center.addStretch(1)
        center.addWidget(self.lang_button, 0, Qt.AlignmentFlag.AlignRight)
        lay = QHBoxLayout(self)
        lay.addLayout(center)
        self.retranslate()

    def set_store(self, name: str) -> None:
        """The store's name in the title, instead of the terminal's id."""
        self._terminal = name
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(
            self.ctx.t("counter.store_checkout")
            + (f" · {self._terminal}" if self._terminal else "")
        )
        self.prompt.setText(self.ctx.t("counter.enter_your_pin_to_start"))
        self.lang_button.setText(self.ctx.language.switch_label)
        self.badge_button.setText(self.ctx.t("badge.sign_in_button"))
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def try_pin(self, pin: str) -> None:
        auth = self.ctx.services.auth
        self.ctx.ops.run(
            "login", lambda op: auth.login(pin), self.scope, self._done, self.message.show_error
        )

    def tap_badge(self) -> None:
        """Waits for a badge on the reader (off the UI thread: it may take a while)."""
        badges = self.ctx.services.badges
        if badges is None:
            return
        self.message.show_text(msg("badge.tap"))
        self.ctx.ops.run(
            "badge-login",
            lambda op: badges.sign_in(),
            self.scope,
            self._done,
            self.message.show_error,
            lane="io",
        )

    def _done(self, session: Session) -> None:
        self.message.show_text(None)
        self.logged_in.emit(session)

    def showEvent(self, event: QShowEvent) -> None:
        self.pad.setFocus()
        super().showEvent(event)
