"""A receipt printer on the loopback network, for the demo and the tests.

It listens like a network printer (raw TCP, port 9100 style), answers the
real-time status queries (DLE EOT n) from a status the demo or a test sets
(cover open, paper out, offline), and decodes the ESC/POS it receives back into
printouts: lines of text (GB18030 in Chinese mode) with their alignment and
emphasis, QR codes, cuts and drawer kicks. A command it does not know is kept
in `unknown`, so a test sees exactly what a real printer would have been sent.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.printer.status import PrinterStatus, encode_status

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09

# Commands with a fixed number of argument bytes after the command letter.
_ESC_ARGS = {
    ord("@"): 0, ord("!"): 1, ord("E"): 1, ord("-"): 1, ord("a"): 1, ord("M"): 1,
    ord("G"): 1, ord("{"): 1, ord("t"): 1, ord("3"): 1, ord("2"): 0, ord("d"): 1,
    ord("J"): 1, ord("p"): 3, ord("r"): 1, ord("V"): 1, ord("="): 1, ord("A"): 1,
    ord("+"): 1, ord("B"): 2, ord("i"): 0, ord("m"): 0, ord("?"): 2, ord("R"): 1,
    ord(" "): 1, ord("$"): 2, ord("c"): 2,
}  # fmt: skip
_GS_ARGS = {
    ord("!"): 1, ord("B"): 1, ord("b"): 1, ord("|"): 1, ord("H"): 1, ord("f"): 1,
    ord("h"): 1, ord("w"): 1, ord("a"): 1, ord("r"): 1, ord("L"): 2, ord("W"): 2,
}  # fmt: skip
_FS_ARGS = {ord("&"): 0, ord("."): 0, ord("!"): 1, ord("C"): 1, ord("p"): 2}
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass
class PrintedLine:
    text: str
    align: str = "left"
    bold: bool = False
    double: bool = False


@dataclass
class Printout:
    lines: list[PrintedLine] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    cut: bool = False

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class _Incomplete(Exception):
    """The command continues in bytes not yet received."""


class EscPosDecoder:
    """Decodes an ESC/POS byte stream fed in pieces of any size."""

    def __init__(self, status: Callable[[], PrinterStatus] = lambda: PrinterStatus(True)) -> None:
        self._status = status
        self._buf = bytearray()
        self._line = bytearray()
        self.printouts: list[Printout] = []
        self.current = Printout()
        self.drawer_kicks: list[int] = []
        self.unknown: list[bytes] = []
        self._reset_style()
        self._qr_data = ""

    def _reset_style(self) -> None:
        self.align, self.bold, self.double, self.chinese = "left", False, False, False
        self._line_style: tuple[str, bool, bool] | None = None

    def feed(self, data: bytes) -> bytes:
        """Take more bytes; returns what the printer answers (status bytes)."""
        self._buf += data
        answers = bytearray()
        pos = 0
        try:
            while pos < len(self._buf):
                pos = self._step(pos, answers)
        except _Incomplete:
            pass
        del self._buf[:pos]
        return bytes(answers)

    def _need(self, pos: int, n: int) -> bytes:
        if pos + n > len(self._buf):
            raise _Incomplete
        return bytes(self._buf[pos : pos + n])

    def _step(self, pos: int, answers: bytearray) -> int:
        b = self._buf[pos]
        if b == LF:
            self._end_line()
            return pos + 1
        if b == CR:
            return pos + 1
        if b == ESC:
            return self._esc(pos)
        if b == GS:
            return self._gs(pos)
        if b == FS:
            return self._fs(pos)
        if b == DLE:
            head = self._need(pos, 3)
            if head[1] == 0x04:
                answers += encode_status(self._status()).get(head[2], b"\x12")
                return pos + 3
            self.unknown.append(head)
            return pos + 3
        if b < 0x20 and b != HT:
            self.unknown.append(bytes([b]))
            return pos + 1
        if self._line_style is None:
            self._line_style = (self.align, self.bold, self.double)
        self._line.append(b)
        return pos + 1

    def _end_line(self) -> None:
        text = bytes(self._line).decode("gb18030" if self.chinese else "cp437", errors="replace")
        align, bold, double = self._line_style or (self.align, self.bold, self.double)
        self.current.lines.append(PrintedLine(text, align, bold, double))
        self._line.clear()
        self._line_style = None

    def _esc(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd not in _ESC_ARGS:
            self.unknown.append(bytes(self._buf[pos : pos + 2]))
            return pos + 2
        n = _ESC_ARGS[cmd]
        args = self._need(pos + 2, n)
        if cmd == ord("@"):
            self._reset_style()
        elif cmd == ord("!"):
            self.bold = bool(args[0] & 0x08)
            self.double = bool(args[0] & 0x30)
        elif cmd == ord("E"):
            self.bold = bool(args[0] & 1)
        elif cmd == ord("a"):
            self.align = _ALIGN.get(args[0], "left")
        elif cmd == ord("p"):
            self.drawer_kicks.append(5 if args[0] in (1, 49) else 2)
        elif cmd in (ord("i"), ord("m")):
            self._cut()
        return pos + 2 + n

    def _gs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == ord("V"):
            m = self._need(pos + 2, 1)[0]
            self._cut()
            return pos + (4 if m in (65, 66, 97, 98, 103, 104) else 3)
        if cmd == ord("("):
            head = self._need(pos, 5)
            size = head[3] | head[4] << 8
            body = self._need(pos + 5, size)
            if head[2] == ord("k"):
                self._qr(body)
            return pos + 5 + size
        if cmd == ord("v"):
            head = self._need(pos, 8)
            size = (head[4] | head[5] << 8) * (head[6] | head[7] << 8)
            self._need(pos + 8, size)
            return pos + 8 + size
        if cmd == ord("k"):
            m = self._need(pos + 2, 1)[0]
            if m >= 65:
                n = self._need(pos + 3, 1)[0]
                self._need(pos + 4, n)
                return pos + 4 + n
            end = self._buf.find(b"\x00", pos + 3)
            if end < 0:
                raise _Incomplete
            return end + 1
        if cmd not in _GS_ARGS:
            self.unknown.append(bytes(self._buf[pos : pos + 2]))
            return pos + 2
        n = _GS_ARGS[cmd]
        args = self._need(pos + 2, n)
        if cmd == ord("!"):
            self.double = bool(args[0] & 0x77)
        return pos + 2 + n

    def _fs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        n = _FS_ARGS.get(cmd)
        if n is None:
            self.unknown.append(bytes(self._buf[pos : pos + 2]))
            return pos + 2
        args = self._need(pos + 2, n)
        if cmd == ord("&"):
            self.chinese = True
        elif cmd == ord("."):
            self.chinese = False
        elif cmd == ord("!"):
            self.double = self.double or bool(args[0] & 0x0C)
        return pos + 2 + n

    def _qr(self, body: bytes) -> None:
        # body: cn fn [m] data. cn '1' is QR; fn 'P' stores the data, 'Q' prints it.
        if len(body) < 2 or body[0] != ord("1"):
            return
        if body[1] == ord("P"):
            self._qr_data = body[3:].decode("utf-8", errors="replace")
        elif body[1] == ord("Q"):
            self.current.qr_codes.append(self._qr_data)

    def _cut(self) -> None:
        if self._line:
            self._end_line()
        self.current.cut = True
        self.printouts.append(self.current)
        self.current = Printout()


class EmulatedPrinter:
    """The loopback printer. `status` may be changed at any time."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.status = PrinterStatus(online=True)
        self.printouts: list[Printout] = []
        self.drawer_kicks: list[int] = []
        self.unknown: list[bytes] = []
        self.refused_lines = 0  # sent while the printer could not print
        self._cond = threading.Condition()
        self.on_printout: Callable[[Printout], None] | None = None
        emulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                emulator._serve(self.request)

        self._server = socketserver.ThreadingTCPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"tcp://{host!s}:{port}"

    def start(self) -> EmulatedPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> EmulatedPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Printout]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.printouts) >= count, timeout)
            return list(self.printouts)

    def _serve(self, sock: socket.socket) -> None:
        decoder = EscPosDecoder(lambda: self.status)
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            answer = decoder.feed(data)
            if answer:
                sock.sendall(answer)
            with self._cond:
                status = self.status
                if status.ready:
                    self.printouts += decoder.printouts
                    if self.on_printout is not None:
                        for p in decoder.printouts:
                            self.on_printout(p)
                else:
                    # Nothing reaches paper; a drawer still opens on a printer
                    # that is on but out of paper or open.
                    lost = [*decoder.printouts, decoder.current]
                    self.refused_lines += sum(len(p.lines) for p in lost)
                    decoder.current = Printout()
                    if not (status.online and not status.error):
                        decoder.drawer_kicks.clear()
                decoder.printouts.clear()
                self.drawer_kicks += decoder.drawer_kicks
                decoder.drawer_kicks.clear()
                self.unknown += decoder.unknown
                decoder.unknown.clear()
                self._cond.notify_all()
