"""What a receipt printer says about itself (ESC/POS real-time status, DLE EOT n),
and the errors a cashier can act on."""

from __future__ import annotations

from dataclasses import dataclass

from pos.errors import PosError

DLE_EOT = b"\x10\x04"
# DLE EOT n: 1 printer status, 2 offline cause, 4 roll paper sensor.
QUERY_PRINTER = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"
QUERY_PAPER = DLE_EOT + b"\x04"

# Bits of the status bytes (ESC/POS application programming guide).
_OFFLINE = 0x08  # n=1 bit 3
_COVER_OPEN = 0x04  # n=2 bit 2
_PAPER_STOP = 0x20  # n=2 bit 5: printing stopped because the paper ran out
_ERROR = 0x40  # n=2 bit 6
_NEAR_END = 0x0C  # n=4 bits 2-3
_PAPER_END = 0x60  # n=4 bits 5-6
# Every status byte has bit 1 and bit 4 set and bit 0 and bit 7 clear; anything
# else is not a status answer (a printer that echoes, or noise).
_FIXED_MASK = 0x93
_FIXED_BITS = 0x12


class PrinterError(PosError):
    """A printer problem, with the words for the cashier in both languages."""

    code = "printer_error"
    zh = "打印机故障，请检查打印机后重试。"

    def __init__(self, message: str, remedy: str, zh: str | None = None) -> None:
        super().__init__(message, remedy)
        if zh is not None:
            self.zh = zh


class PrinterUnreachable(PrinterError):
    code = "printer_unreachable"


class PrinterOffline(PrinterError):
    code = "printer_offline"


class PaperOut(PrinterError):
    code = "paper_out"


class CoverOpen(PrinterError):
    code = "cover_open"


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    online: bool
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False

    @property
    def ready(self) -> bool:
        return self.online and not (self.cover_open or self.paper_out or self.error)

    def problem(self) -> PrinterError | None:
        """The most specific thing the cashier must fix, or None when ready."""
        if self.cover_open:
            return CoverOpen(
                "the printer cover is open",
                "Close the printer cover; the receipt prints by itself.",
                "打印机盖未关好，请合上打印机盖，小票会自动打印。",
            )
        if self.paper_out:
            return PaperOut(
                "the printer is out of paper",
                "Load a new paper roll; the receipt prints by itself.",
                "打印纸用完了，请装入新纸卷，小票会自动打印。",
            )
        if self.error:
            return PrinterOffline(
                "the printer reports an error",
                "Switch the printer off and on again, then retry the print.",
                "打印机报错，请重启打印机后重试。",
            )
        if not self.online:
            return PrinterOffline(
                "the printer is offline",
                "Check that the printer is switched on and ready.",
                "打印机离线，请确认打印机已开机并就绪。",
            )
        return None


def _check(byte: bytes, what: str) -> int:
    if len(byte) < 1 or byte[0] & _FIXED_MASK != _FIXED_BITS:
        raise PrinterOffline(
            f"the printer gave no valid {what} status ({byte[:4].hex() or 'nothing'})",
            "Check the printer connection and that it speaks ESC/POS.",
            "打印机状态无法读取，请检查连接。",
        )
    return byte[0]


def decode_status(printer: bytes, offline_cause: bytes, paper: bytes) -> PrinterStatus:
    """Status from the answers to DLE EOT 1, 2 and 4."""
    p = _check(printer, "printer")
    o = _check(offline_cause, "offline-cause")
    r = _check(paper, "paper")
    return PrinterStatus(
        online=not p & _OFFLINE,
        cover_open=bool(o & _COVER_OPEN),
        paper_out=bool(o & _PAPER_STOP) or bool(r & _PAPER_END),
        paper_near_end=bool(r & _NEAR_END),
        error=bool(o & _ERROR),
    )


def encode_status(status: PrinterStatus) -> dict[int, bytes]:
    """The answer bytes a printer in `status` gives to DLE EOT 1, 2 and 4."""
    p = _FIXED_BITS | (0 if status.online else _OFFLINE)
    o = _FIXED_BITS
    o |= _COVER_OPEN if status.cover_open else 0
    o |= _PAPER_STOP if status.paper_out else 0
    o |= _ERROR if status.error else 0
    r = _FIXED_BITS
    r |= _NEAR_END if status.paper_near_end else 0
    r |= _PAPER_END if status.paper_out else 0
    return {1: bytes([p]), 2: bytes([o]), 4: bytes([r])}
