"""A QR code painted by Qt from qrcode's module matrix: crisp at any size, no
image files, the quiet zone kept so phones read it off a screen."""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from ui.qt import QColor, QImage, QPainter, QPaintEvent, QRectF, QSize, Qt, QWidget


def qr_matrix(payload: str, border: int = 4) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(payload)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def paint_matrix(painter: QPainter, matrix: list[list[bool]], rect: QRectF) -> None:
    n = len(matrix)
    side = min(rect.width(), rect.height())
    # Whole pixels per module: fractional modules blur and some readers fail.
    module = max(1, int(side // n))
    size = module * n
    x0 = rect.x() + (rect.width() - size) / 2
    y0 = rect.y() + (rect.height() - size) / 2
    painter.fillRect(QRectF(x0, y0, size, size), QColor("white"))
    dark = QColor("black")
    for r, row in enumerate(matrix):
        for c, on in enumerate(row):
            if on:
                painter.fillRect(QRectF(x0 + c * module, y0 + r * module, module, module), dark)


class QrWidget(QWidget):
    def __init__(self, parent: QWidget | None = None, minimum: int = 240) -> None:
        super().__init__(parent)
        self._matrix: list[list[bool]] = []
        self.payload = ""
        self.setMinimumSize(minimum, minimum)

    def set_payload(self, payload: str) -> None:
        self.payload = payload
        self._matrix = qr_matrix(payload) if payload else []
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._matrix:
            paint_matrix(painter, self._matrix, QRectF(self.rect()))
        else:
            painter.fillRect(self.rect(), QColor("#eeeeee"))
        painter.end()


def qr_image(payload: str, size: int = 330) -> QImage:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    paint_matrix(painter, qr_matrix(payload), QRectF(0, 0, size, size))
    painter.end()
    return image
