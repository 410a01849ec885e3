"""Barcode scanners on a serial port (RS-232, or USB in CDC/serial mode) through
pyserial. Keyboard-wedge scanners need no driver: the UI takes them (ui/scanner).

The scanner sends each code followed by CR, LF or CR LF. A reader thread owns
the port, turns the bytes into codes and hands each one to `on_scan`; a line
that is not a clean code goes to `on_error`, and a port that goes away (cable
pulled) is reported through `on_status` and opened again with a growing pause,
so scanning resumes by itself when the cable is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import serial
from serial.tools import list_ports

from pos.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_CODE = 512  # longer than any barcode or QR code a shopper shows; noise otherwise


@dataclass(frozen=True, slots=True)
class ScannerPort:
    device: str
    description: str


def available_ports() -> list[ScannerPort]:
    """Serial ports a scanner may be on."""
    return [ScannerPort(p.device, p.description) for p in list_ports.comports()]


class LineSplitter:
    """Bytes in pieces of any size to codes, one per CR / LF / CR LF."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, rest = bytes(self._buf).split(b"\n")
        self._buf = bytearray(rest)
        if len(self._buf) > MAX_CODE:
            lines.append(bytes(self._buf))  # never ends: hand it on as a bad read
            self._buf.clear()
        return [bytes(line) for line in lines if line.strip()]


def decode_code(raw: bytes) -> str:
    """The scanned text; InvalidInput for a line that is not a clean code."""
    if len(raw) > MAX_CODE:
        raise InvalidInput("the scanner sent an overlong line", "Scan the code again.")
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidInput(
            "the scanner sent unreadable bytes",
            "Scan again; if it keeps happening, check the scanner's baud rate.",
        ) from None
    if not text.isprintable():
        raise InvalidInput("the scanner sent control characters", "Scan the code again.")
    return text


class SerialScanner:
    def __init__(
        self,
        port: str,
        on_scan: Callable[[str], None],
        *,
        baudrate: int = 9600,
        on_error: Callable[[InvalidInput], None] | None = None,
        on_status: Callable[[str], None] | None = None,
        retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self._on_scan = on_scan
        self._on_error = on_error or (lambda exc: log.warning("scanner: %s", exc.message))
        self._on_status = on_status or (lambda status: log.info("scanner %s: %s", port, status))
        self._delays = retry_delays
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SerialScanner:
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> SerialScanner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baudrate, timeout=0.1) as dev:
                    failures = 0
                    self._on_status("connected")
                    self._read(dev)
            except (serial.SerialException, OSError) as exc:
                if self._stop.is_set():
                    break
                self._on_status(f"disconnected: {exc}")
                delay = self._delays[min(failures, len(self._delays) - 1)]
                failures += 1
                self._stop.wait(delay)

    def _read(self, dev: serial.Serial) -> None:
        lines = LineSplitter()
        while not self._stop.is_set():
            data = dev.read(dev.in_waiting or 1)
            for raw in lines.feed(data):
                try:
                    code = decode_code(raw)
                except InvalidInput as exc:
                    self._on_error(exc)
                    continue
                self._on_scan(code)
