"""The Qt front end's one error boundary for what no operation caught: an
exception raised in a slot on the UI thread reaches `sys.excepthook`; this
hook writes the traceback to the log, shows a catalogue message in the
screen's language (storage and OS problems with their remedy, anything else
naming who to call), and returns to the event loop so the till stays usable.
Operations' own failures go to their screen (`message_of` in pos.flows.text,
the same mapping as the command line's)."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from pos.failures import describe
from pos.messages import env_lang, msg
from ui.qt import QApplication, QMessageBox

log = logging.getLogger(__name__)

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class ErrorBoundary:
    def __init__(self, log_path: Path, locale: Callable[[], str] | None = None) -> None:
        self.log_path = log_path
        self._locale = locale
        self._previous: Hook | None = None
        self.shown: list[str] = []  # what people were told, newest last
        self.box: QMessageBox | None = None

    def __enter__(self) -> ErrorBoundary:
        self._previous = sys.excepthook
        sys.excepthook = self._hook
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            self._previous = None

    def _hook(
        self, etype: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(etype, KeyboardInterrupt) and self._previous is not None:
            self._previous(etype, exc, tb)
            return
        where = self._write_log(exc)
        failure = describe(exc, where)
        text = failure.render(self.locale())
        self.shown.append(text)
        self._show(text)

    def locale(self) -> str:
        if self._locale is not None:
            return self._locale()
        app = QApplication.instance()
        value = app.property("pos_locale") if app is not None else None
        return str(value) if value else env_lang()

    def _write_log(self, exc: BaseException) -> str:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as fh:
                stamp = datetime.now(UTC).isoformat(timespec="seconds")
                fh.write(f"{stamp}\n{''.join(traceback.format_exception(exc))}\n")
        except OSError:
            log.exception("could not write the fault log %s", self.log_path)
            return ""
        return str(self.log_path)

    def _show(self, text: str) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        # Not exec(): the event loop keeps running and the till stays usable.
        box = QMessageBox(app.activeWindow())
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(msg("common.problem_title").render(self.locale()))
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.open()
        self.box = box
