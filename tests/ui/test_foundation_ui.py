"""The pieces under the screens: the keyboard-wedge scanner, operations off the
UI thread, the QR painter, the run-time language switch."""

from __future__ import annotations

import threading

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from pos.clock import FakeClock
from ui.i18n import Language
from ui.ops import Ops, Scope
from ui.qr import qr_image, qr_matrix
from ui.qt import QApplication, QColor, QLineEdit, Qt
from ui.scanner import ScannerFilter


def _pump(cond, limit: int = 2000) -> None:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        if cond():
            return
        QApplication.processEvents()
        threading.Event().wait(0.002)
    raise AssertionError("never happened")


class Wedge:
    """A scanner filter on the app, a text field with the focus, what was scanned."""

    def __init__(self, qapp, qtbot, min_length: int = 6) -> None:  # type: ignore[no-untyped-def]
        self.clock = FakeClock()
        self.scanner = ScannerFilter(qapp, monotonic=self.clock.monotonic, min_length=min_length)
        self.field = QLineEdit()
        qtbot.addWidget(self.field)
        self.got: list[str] = []
        self.scanner.scanned.connect(self.got.append)


@pytest.fixture
def wedge(qapp, qtbot):  # type: ignore[no-untyped-def]
    w = Wedge(qapp, qtbot)
    yield w
    qapp.removeEventFilter(w.scanner)


def test_fast_burst_ending_in_enter_is_a_scan_and_never_reaches_the_field(wedge, qtbot) -> None:
    qtbot.keyClicks(wedge.field, "6901234000016")
    qtbot.keyClick(wedge.field, Qt.Key.Key_Return)
    assert wedge.got == ["6901234000016"] and wedge.field.text() == ""


def test_slow_typing_goes_to_the_focused_field(wedge, qtbot) -> None:
    for ch in "cola milk":
        qtbot.keyClick(wedge.field, ch)
        wedge.clock.advance(0.2)  # a person, not a scanner
    qtbot.keyClick(wedge.field, Qt.Key.Key_Return)
    assert wedge.got == [] and wedge.field.text() == "cola milk"


def test_short_fast_burst_is_typing_not_a_scan(wedge, qtbot) -> None:
    qtbot.keyClicks(wedge.field, "12")
    qtbot.keyClick(wedge.field, Qt.Key.Key_Return)
    assert wedge.got == [] and wedge.field.text() == "12"


def test_result_of_a_scope_that_was_left_is_dropped(qapp) -> None:
    ops = Ops()
    scope = Scope("screen")
    release = threading.Event()
    seen: list[str] = []
    try:
        op = ops.run("slow", lambda op: release.wait(5) and "late", scope, seen.append, lane="io")
        scope.leave()  # the screen moved on
        assert op.cancel.cancelled
        release.set()
        _pump(lambda: ops.idle)
        assert seen == []
        ops.run("fresh", lambda op: "now", scope, seen.append)
        _pump(lambda: seen)
        assert seen == ["now"]
    finally:
        ops.shutdown()


def test_errors_come_back_to_the_ui_thread_and_progress_is_reported(qapp) -> None:
    ops = Ops()
    scope = Scope("screen")
    errors: list[BaseException] = []
    progress: list[tuple[int, int]] = []
    main = threading.get_ident()
    where: list[int] = []

    def work(op):  # type: ignore[no-untyped-def]
        for i in range(3):
            op.progress(i + 1, 3)
        raise ValueError("bad file")

    def failed(exc: BaseException) -> None:
        where.append(threading.get_ident())
        errors.append(exc)

    try:
        ops.run(
            "export", work, scope, on_error=failed, on_progress=lambda d, t: progress.append((d, t))
        )
        _pump(lambda: errors)
        assert str(errors[0]) == "bad file" and where == [main]
        assert progress[-1] == (3, 3)
    finally:
        ops.shutdown()


def test_qr_is_painted_module_for_module_from_the_qrcode_matrix(qapp) -> None:
    payload = "https://qr.alipay.com/bax01234"
    ref = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    ref.add_data(payload)
    ref.make(fit=True)
    matrix = qr_matrix(payload)
    assert matrix == [list(r) for r in ref.get_matrix()]
    n = len(matrix)
    size = n * 8
    image = qr_image(payload, size)
    for r in range(n):
        for c in range(n):
            pixel = QColor(image.pixel(c * 8 + 4, r * 8 + 4))
            assert (pixel.lightness() < 128) == matrix[r][c], (r, c)


def test_language_switches_at_run_time(qapp) -> None:
    """Switching tells every widget (LanguageChange), which redraws its words
    from the catalogue in the new language; there is no Qt translator."""
    from pos.messages import msg
    from ui.qt import QEvent, QLabel

    lang = Language(qapp, "en")

    class Words(QLabel):
        def changeEvent(self, event: QEvent) -> None:
            if event.type() == QEvent.Type.LanguageChange:
                self.setText(msg("counter.cancel").render(lang.locale))
            super().changeEvent(event)

    words = Words(msg("counter.cancel").render(lang.locale))
    words.show()
    try:
        assert words.text() == "Cancel"
        lang.set("zh_CN")
        _pump(lambda: words.text() == "取消")
        assert lang.toggle() == "en"
        _pump(lambda: words.text() == "Cancel")
    finally:
        lang.set("en")
        words.close()


def test_qt_binding_does_not_eat_references_to_none(qapp) -> None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None on every call
    that returns nothing (setText, processEvents ...): a till crashes with
    'deallocating None' after a few thousand such calls. This binding must not."""
    import sys

    from ui.qt import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
    assert sys.getrefcount(None) - before > -100
