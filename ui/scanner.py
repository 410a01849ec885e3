"""Barcode scanners that type like a keyboard (a "keyboard wedge").

A scanner sends a burst of keystrokes far faster than a person types, ending
in Enter. This filter, installed on the application, holds printable keys for
a few milliseconds: a fast burst that ends in Enter goes to the scan handler
wherever the focus is; anything slower is replayed to the focused widget as
the person typed it."""

from __future__ import annotations

import time
from collections.abc import Callable

from ui.qt import QApplication, QEvent, QKeyEvent, QObject, Qt, QTimer, QWidget, Signal


class ScannerFilter(QObject):
    scanned = Signal(str)

    def __init__(
        self,
        app: QApplication,
        max_gap_ms: int = 40,
        min_length: int = 6,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(app)
        self._max_gap = max_gap_ms / 1000
        self._min_length = min_length
        self._now = monotonic
        self._held: list[QKeyEvent] = []
        self._target: QWidget | None = None  # where the held keys were going
        self._last = 0.0
        self._replaying = False
        self.enabled = True
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(max(1, max_gap_ms))
        self._flush_timer.timeout.connect(self.flush)
        app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self._replaying or not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        # Widgets only: Qt first hands the key to the window object, then to the
        # focused widget. A key a widget ignores goes on to its parent; held keys
        # are consumed, so a burst is only ever seen once.
        if not isinstance(event, QKeyEvent) or not isinstance(obj, QWidget):
            return False
        now = self._now()
        fast = bool(self._held) and now - self._last <= self._max_gap
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if fast and len(self._held) >= self._min_length:
                code = "".join(e.text() for e in self._held)
                self._held.clear()
                self._flush_timer.stop()
                self.scanned.emit(code)
                return True
            self.flush()
            return False
        text = event.text()
        if (
            not text
            or not text.isprintable()
            or event.modifiers()
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        ):
            self.flush()
            return False
        if self._held and not fast:
            self.flush()
        if not self._held:
            self._target = obj
        self._held.append(
            QKeyEvent(QEvent.Type.KeyPress, key, event.modifiers(), text, event.isAutoRepeat())
        )
        self._last = now
        self._flush_timer.start()
        return True

    def flush(self) -> None:
        """Hand held keys to the widget they were for: they were typed, not scanned."""
        self._flush_timer.stop()
        held, self._held = self._held, []
        target = self._target
        if not held or target is None:
            return
        self._replaying = True
        try:
            for ev in held:
                QApplication.sendEvent(target, ev)
        finally:
            self._replaying = False
