"""ESC/POS bytes for what the terminal prints: receipts, the test page, the
drawer kick. Built with python-escpos into memory, so a job is one byte string
the print queue can send, and send again, as a whole.

Chinese text goes out in GB18030 with the printer in Chinese (Kanji) mode
(FS &), the way printers sold in China expect it; ASCII is the same bytes in
both modes.
"""

from __future__ import annotations

import unicodedata
from datetime import tzinfo

from pos.receipt import QrRow, Receipt, TextRow, layout, pad

ENTER_CHINESE = b"\x1c\x26"  # FS &
CHINESE_DOUBLE = b"\x1c\x21\x0c"  # FS ! n: double width and height for GB18030 text
CHINESE_NORMAL = b"\x1c\x21\x00"
ENCODING = "gb18030"


def _printable(text: str) -> str:
    """Text as text only: a control character in a product name, a user's name
    or a gateway's reference (ESC p opens the drawer, GS V cuts) must not reach
    the printer as a command."""
    return "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in text)


class _Job:
    """One printout being assembled."""

    def __init__(self) -> None:
        from escpos.printer import Dummy  # escpos loads its capability database: ~0.2 s

        self._p = Dummy()
        self._p.hw("INIT")
        self._p._raw(ENTER_CHINESE)

    def line(self, row: TextRow, width: int) -> None:
        p = self._p
        p.set_with_default(align=row.align)
        if row.double:
            p.set(double_width=True, double_height=True)
            p._raw(CHINESE_DOUBLE)
            text = pad(row.text, width // 2, "left").rstrip()
        else:
            p._raw(CHINESE_NORMAL)
            text = row.text if row.align == "left" else row.text.strip()
        # After the size: the size command (ESC !) also clears emphasis.
        p.set(bold=row.bold)
        p._raw(_printable(text).encode(ENCODING, errors="replace") + b"\n")

    def qr(self, payload: str) -> None:
        self._p.set_with_default(align="center")
        self._p.qr(payload, native=True, size=6)
        self._p._raw(b"\n")

    def raw(self, data: bytes) -> None:
        self._p._raw(data)

    def finish(self, cut: bool = True) -> bytes:
        self._p.set_with_default()
        if cut:
            self._p.cut()
        return bytes(self._p.output)


def receipt_job(
    receipt: Receipt, width: int = 42, locale: str = "zh", tz: tzinfo | None = None
) -> bytes:
    job = _Job()
    for row in layout(receipt, width, locale, tz):
        if isinstance(row, QrRow):
            job.qr(row.payload)
        else:
            job.line(row, width)
    return job.finish()


def text_job(lines: list[str], width: int = 42, qr: str = "") -> bytes:
    """A plain printout (test page, report slip)."""
    job = _Job()
    for text in lines:
        job.line(TextRow(text), width)
    if qr:
        job.qr(qr)
    return job.finish()


def drawer_job(pin: int = 2) -> bytes:
    """The cash drawer kick (ESC p) on connector pin 2 or 5."""
    from escpos.printer import Dummy

    p = Dummy()
    p.cashdraw(pin)
    return bytes(p.output)
