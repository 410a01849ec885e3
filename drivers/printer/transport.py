"""Where the printer is and how bytes reach it: network (raw port 9100), USB,
serial, or a device file (/dev/usb/lp0), each through python-escpos.

A printer is named by a URL so it fits in one setting:

    tcp://192.168.1.50:9100
    usb://04b8:0202            (vendor:product, hex; needs pyusb)
    serial:///dev/ttyUSB0?baudrate=19200
    file:///dev/usb/lp0        (write-only: no status)
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from escpos import printer as escpos_printer
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError

from drivers.printer.status import (
    QUERY_OFFLINE_CAUSE,
    QUERY_PAPER,
    QUERY_PRINTER,
    PrinterStatus,
    PrinterUnreachable,
    decode_status,
)
from pos.errors import InvalidInput

DEFAULT_PORT = 9100


@dataclass(frozen=True, slots=True)
class PrinterAddress:
    kind: str  # tcp | usb | serial | file
    target: str  # host, vendor:product, device path
    port: int = DEFAULT_PORT
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.kind == "tcp":
            return f"tcp://{self.target}:{self.port}"
        return f"{self.kind}://{self.target}"


def parse_address(url: str) -> PrinterAddress:
    parts = urlsplit(url.strip())
    opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    remedy = (
        "Name the printer as tcp://HOST:9100, usb://VID:PID, "
        "serial:///dev/ttyUSB0?baudrate=19200 or file:///dev/usb/lp0."
    )
    try:
        if parts.scheme == "tcp" and parts.hostname:
            return PrinterAddress("tcp", parts.hostname, parts.port or DEFAULT_PORT, opts)
        if parts.scheme == "usb" and parts.netloc:
            vid, pid = parts.netloc.split(":")
            int(vid, 16), int(pid, 16)
            return PrinterAddress("usb", f"{vid}:{pid}", 0, opts)
        if parts.scheme in ("serial", "file") and parts.path:
            if "baudrate" in opts:
                int(opts["baudrate"])
            return PrinterAddress(parts.scheme, parts.path, 0, opts)
    except ValueError:
        pass
    raise InvalidInput(f"not a printer address: {url!r}", remedy)


def _open(addr: PrinterAddress, timeout: float) -> Escpos:
    if addr.kind == "tcp":
        return escpos_printer.Network(addr.target, port=addr.port, timeout=timeout)
    if addr.kind == "usb":
        vid, pid = (int(x, 16) for x in addr.target.split(":"))
        return escpos_printer.Usb(vid, pid, timeout=int(timeout * 1000))
    if addr.kind == "serial":
        return escpos_printer.Serial(
            addr.target, baudrate=int(addr.options.get("baudrate", "19200")), timeout=timeout
        )
    return escpos_printer.File(addr.target)


class PrinterConnection:
    """One session with the device. Used from the print queue's own thread only."""

    def __init__(self, addr: PrinterAddress, timeout: float = 3.0) -> None:
        self.addr = addr
        self._timeout = timeout
        self._dev: Escpos | None = None

    @property
    def can_report_status(self) -> bool:
        return self.addr.kind != "file"

    def _device(self) -> Escpos:
        if self._dev is None:
            dev = self._guard(lambda: _open(self.addr, self._timeout))
            self._guard(dev.open)
            self._dev = dev
        return self._dev

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (OSError, EscposError) as exc:
            self.close()
            raise PrinterUnreachable(
                f"cannot reach the printer at {self.addr}: {exc}",
                "Check the printer's cable or network and that it is switched on.",
                "无法连接打印机，请检查线缆或网络以及打印机电源。",
            ) from exc

    def status(self) -> PrinterStatus:
        dev = self._device()

        def ask(query: bytes) -> bytes:
            if self.addr.kind != "serial":
                return bytes(dev.query_status(query))
            # python-escpos reads 16 bytes from a serial port, which waits out the
            # whole timeout for a one-byte answer; read exactly the one byte.
            dev._raw(query)
            return bytes(dev.device.read(1))

        answers = [
            self._guard(functools.partial(ask, q))
            for q in (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_PAPER)
        ]
        return decode_status(*answers)

    def send(self, data: bytes) -> None:
        dev = self._device()
        self._guard(lambda: dev._raw(data))

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            with contextlib.suppress(OSError, EscposError):
                dev.close()
