"""The receipt printer for the app: the terminal's `printer` setting (or
POS_PRINTER) through the ESC/POS print queue, which never blocks a sale; in
the demo, a loopback printer that decodes what it is sent."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pos.canonical import loads
from pos.services.receipts import build_receipt
from pos.services.terminal_services import TerminalServices


@dataclass
class Printing:
    print_receipt: Callable[[str], str] | None = None  # order id -> print job id
    emulator: Any = None  # the demo's loopback printer (its printouts, for the script)
    closers: list[Callable[[], None]] = field(default_factory=list)


def _configured_url(services: TerminalServices) -> str:
    with services.terminal.db.read() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = 'printer'").fetchone()
    conf = {} if row is None else dict(loads(row[0]))
    return os.environ.get("POS_PRINTER") or str(conf.get("url", ""))


def open_printing(services: TerminalServices, demo: bool = False) -> Printing:
    """The printer the terminal is set up with; the demo gets a loopback one."""
    try:
        from drivers.printer import open_printer
        from drivers.printer.emulator import EmulatedPrinter
    except ImportError:
        return Printing()
    closers: list[Callable[[], None]] = []
    emulator = None
    url = _configured_url(services)
    if not url and demo:
        emulator = EmulatedPrinter().start()
        closers.append(emulator.stop)
        url = emulator.address
    if not url:
        return Printing()
    printer = open_printer(url, services.terminal.clock, tz=services.checkout.timezone)
    closers.insert(0, printer.close)

    printed: set[str] = set()

    def print_receipt(order_id: str) -> str:
        """The first print of a sale is its receipt; any later one says reprint."""
        job = printer.print_receipt(build_receipt(services, order_id, reprint=order_id in printed))
        printed.add(order_id)
        return job

    return Printing(print_receipt, emulator, closers)
