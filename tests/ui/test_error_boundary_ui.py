"""The Qt front end's error boundary: an exception no operation caught, raised
in a slot on the UI thread, becomes a catalogue message in the screen's
language with its remedy; the traceback goes to the log only, and the till
keeps working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ui.boundary import ErrorBoundary
from ui.i18n import Language
from ui.qt import QApplication, QPushButton, Qt


def _click_raising(qtbot, exc: BaseException) -> QPushButton:  # type: ignore[no-untyped-def]
    def fail() -> None:
        raise exc

    button = QPushButton("go")
    qtbot.addWidget(button)
    button.clicked.connect(fail)
    button.show()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return button


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh_CN", "请联系技术支持"), ("en", "Call support")],
)
def test_an_unexpected_fault_names_who_to_call_and_the_log(
    qapp: QApplication, qtbot, tmp_path: Path, lang: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    language = Language(qapp, lang)
    log = tmp_path / "logs" / "pos-app.log"
    with ErrorBoundary(log) as boundary:
        _click_raising(qtbot, RuntimeError("the inside story"))
    assert len(boundary.shown) == 1
    said = boundary.shown[0]
    assert words in said and str(log) in said and "the inside story" not in said
    assert "Traceback" in log.read_text() and "the inside story" in log.read_text()
    assert boundary.box is not None and boundary.box.isVisible()
    assert boundary.box.text() == said
    boundary.box.close()
    language.set("en")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh_CN", "磁盘已满"), ("en", "The disk is full")],
)
def test_a_full_disk_is_said_with_its_remedy_and_the_till_stays_usable(
    qapp: QApplication, qtbot, tmp_path: Path, lang: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    language = Language(qapp, lang)
    with ErrorBoundary(tmp_path / "pos-app.log") as boundary:
        button = _click_raising(qtbot, sqlite3.OperationalError("database or disk is full"))
        assert boundary.shown and words in boundary.shown[-1]
        # The event loop goes on: the next touch is handled.
        clicks: list[bool] = []
        button.clicked.disconnect()
        button.clicked.connect(lambda: clicks.append(True))
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert clicks == [True]
    assert boundary.box is not None
    boundary.box.close()
    language.set("en")
