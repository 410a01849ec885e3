"""The receipt printer for the app: the till's printer settings (`pos printer
setup`: address, paper width, language; POS_PRINTER overrides the address)
through the ESC/POS print queue, which never blocks a sale."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pos.app import Till
from pos.services.receipts import build_receipt


@dataclass
class Printing:
    print_receipt: Callable[[str], str] | None = None  # order id -> print job id
    emulator: Any = None  # the demo's loopback printer (its printouts, for the script)
    closers: list[Callable[[], None]] = field(default_factory=list)


def open_printing(till: Till, fallback_url: str = "") -> Printing:
    """The printer the till is set up with (or `fallback_url`, the demo's
    loopback printer, when none is)."""
    url = os.environ.get("POS_PRINTER") or till.printer.url or fallback_url
    if not url:
        return Printing()
    try:
        from drivers.printer import open_printer
    except ImportError:
        return Printing()
    printer = open_printer(
        url,
        till.terminal.clock,
        width=till.printer.width,
        locale=till.printer.locale,
        tz=till.checkout.timezone,
    )
    services = till.services
    printed: set[str] = set()

    def print_receipt(order_id: str) -> str:
        """The first print of a sale is its receipt; any later one says reprint."""
        job = printer.print_receipt(build_receipt(services, order_id, reprint=order_id in printed))
        printed.add(order_id)
        return job

    return Printing(print_receipt, None, [printer.close])
