"""A bar chart painted by Qt: sales by hour, sales by channel. Amounts stay
integer minor units; only the bar heights are scaled to pixels."""

from __future__ import annotations

from collections.abc import Callable

from pos.money import Money
from ui.qt import QColor, QFont, QPainter, QPaintEvent, QRectF, QSize, Qt, QWidget


class BarChart(QWidget):
    def __init__(self, color: str = "#1c7ed6") -> None:
        super().__init__()
        self._bars: list[tuple[str, Money]] = []
        self._title = ""
        self._color = QColor(color)
        self._format: Callable[[Money], str] = Money.amount_text
        self.setMinimumHeight(220)

    def set_bars(
        self,
        title: str,
        bars: list[tuple[str, Money]],
        fmt: Callable[[Money], str] | None = None,
    ) -> None:
        self._title = title
        self._bars = bars
        if fmt is not None:
            self._format = fmt
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, 260)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QColor("white"))
        title_font = QFont(self.font())
        title_font.setBold(True)
        p.setFont(title_font)
        p.drawText(QRectF(8, 4, w - 16, 24), Qt.AlignmentFlag.AlignLeft, self._title)
        p.setFont(self.font())
        top, bottom = 48, h - 28
        if not self._bars:
            p.drawText(QRectF(0, top, w, bottom - top), Qt.AlignmentFlag.AlignCenter, "—")
            p.end()
            return
        peak = max(1, max(m.minor for _, m in self._bars))
        slot = (w - 16) / len(self._bars)
        small = QFont(self.font())
        small.setPointSizeF(max(9.0, self.font().pointSizeF() * 0.85))
        p.setFont(small)
        for i, (name, amount) in enumerate(self._bars):
            x = 8 + i * slot
            bar_h = (bottom - top) * max(0, amount.minor) / peak
            width = min(slot * 0.7, 90.0)
            rect = QRectF(x + (slot - width) / 2, bottom - bar_h, width, bar_h)
            p.fillRect(rect, self._color)
            p.setPen(QColor("#212529"))
            p.drawText(QRectF(x, bottom + 4, slot, 20), Qt.AlignmentFlag.AlignHCenter, name)
            if amount.minor and slot > 40:
                p.drawText(
                    QRectF(x, bottom - bar_h - 18, slot, 16),
                    Qt.AlignmentFlag.AlignHCenter,
                    self._format(amount),
                )
        p.end()
