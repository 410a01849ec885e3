"""The receipt printer for the app: the till's printer settings (`pos printer
setup`, or the manager's Printer tab: address, paper width, language;
POS_PRINTER overrides the address) through the ESC/POS print queue, which
never blocks a sale. Screens submit a job and then follow its real state
(`job`): a job is printed only once the printer took it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pos.app import Till
from pos.errors import InvalidInput, PosError
from pos.messages import Message, msg
from pos.receipt import ReceiptInfo, refund_receipt
from pos.services.receipts import (
    PrinterSettings,
    build_receipt,
    save_printer_settings,
    store_header,
)

# What a job's state means to the person waiting for it.
PRINTING, PRINTED, NOT_READY, GAVE_UP = "printing", "printed", "not_ready", "gave_up"


@dataclass(frozen=True)
class JobStatus:
    state: str  # PRINTING | PRINTED | NOT_READY | GAVE_UP
    why: Message | None = None  # what is wrong with the printer, and what to do


def _why(error_code: str) -> Message:
    code = f"screens.printer.{error_code}"
    known = ("printer_unreachable", "printer_offline", "paper_out", "cover_open")
    return msg(code if error_code in known else "screens.printer.printer_error")


class Printing:
    def __init__(self, till: Till, fallback_url: str = "") -> None:
        self._till = till
        self._fallback = fallback_url
        self.emulator: Any = None  # the demo's loopback printer (its printouts, for the script)
        self.closers: list[Callable[[], None]] = [self.close]
        self._printer: Any = None
        self._printed: set[str] = set()
        self.url = ""
        self._open(till.printer)

    def _open(self, settings: PrinterSettings) -> None:
        url = os.environ.get("POS_PRINTER") or settings.url or self._fallback
        self.close()
        self.url = url
        if not url:
            return
        try:
            from drivers.printer import open_printer
        except ImportError:
            return
        self._printer = open_printer(
            url,
            self._till.terminal.clock,
            width=settings.width,
            locale=settings.locale,
            tz=self._till.checkout.timezone,
        )

    @property
    def ready(self) -> bool:
        """Whether a printer is set up (not whether it is working: see `job`)."""
        return self._printer is not None

    @property
    def settings(self) -> PrinterSettings:
        return self._till.printer

    def print_receipt(self, order_id: str) -> str:
        """The first print of a sale is its receipt; any later one says reprint."""
        services = self._till.services
        receipt = build_receipt(services, order_id, reprint=order_id in self._printed)
        job = str(self._printer.print_receipt(receipt))
        self._printed.add(order_id)
        return job

    def print_refund_slip(self, order_id: str, refund_id: str) -> str:
        """The slip of a refund: the lines, what went back, to which tender."""
        services = self._till.services
        checkout = services.checkout
        stored = checkout.get(order_id)
        refund = next(r for r in checkout.prior_refunds(order_id) if r.refund_id == refund_id)
        info = ReceiptInfo(
            store_header(services),
            stored.receipt_no or order_id,
            services.terminal.terminal_id,
            refund.approval.user_id,
            services.terminal.clock.now(),
        )
        return str(self._printer.print_receipt(refund_receipt(stored.order, refund, info)))

    def job(self, job_id: str) -> JobStatus:
        from drivers.printer.queue import JobState

        printer = self._printer
        try:
            view = printer.job(job_id) if printer is not None else None
        except KeyError:
            view = None  # the printer was set up anew: its old jobs are gone
        if view is None:
            return JobStatus(GAVE_UP)
        if view.state is JobState.DONE:
            return JobStatus(PRINTED)
        if view.state is JobState.WAITING:
            return JobStatus(NOT_READY, _why(view.error_code))
        if view.state in (JobState.FAILED, JobState.CANCELLED):
            return JobStatus(GAVE_UP, _why(view.error_code))
        return JobStatus(PRINTING)

    def retry(self, job_id: str) -> None:
        if self._printer is not None:
            self._printer.queue.retry(job_id)

    def set_up(self, url: str, width: int, locale: str) -> str:
        """Save the printer the manager chose, switch to it and print a test
        page; returns the test page's job id."""
        from drivers.printer.transport import parse_address

        try:
            parse_address(url)
        except PosError as exc:
            raise InvalidInput(msg("screens.printer.bad_address")) from exc
        settings = PrinterSettings(url.strip(), width, locale)
        t = self._till.services.terminal
        save_printer_settings(t.db, t.journal, t.clock, settings)
        self._till.printer = settings
        self._open(settings)
        lang = "zh_CN" if locale.startswith("zh") else "en"
        lines = [msg("screens.printer.test_line").render(lang), settings.url]
        return str(
            self._printer.print_lines("test", msg("screens.printer.test_page").render(lang), lines)
        )

    def close(self) -> None:
        if self._printer is not None:
            self._printer.close()
            self._printer = None


def set_up(printing: Printing | None) -> Printing | None:
    """`printing` when a printer is set up (it may be, later, from the
    manager's Printer tab), else None."""
    return printing if printing is not None and printing.ready else None


def open_printing(till: Till, fallback_url: str = "") -> Printing:
    """The printer the till is set up with (or `fallback_url`, the demo's
    loopback printer, when none is)."""
    return Printing(till, fallback_url)
