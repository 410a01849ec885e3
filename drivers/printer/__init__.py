"""Receipt printers: ESC/POS jobs, the connection, the print queue, and the
`ReceiptPrinter` port (pos.receipt) the checkout hands receipts to."""

from __future__ import annotations

from datetime import tzinfo

from drivers.printer.jobs import drawer_job, receipt_job, text_job
from drivers.printer.queue import DEFAULT_RETRY_DELAYS, JobView, PrintQueue
from drivers.printer.transport import PrinterConnection, parse_address
from pos.clock import Clock
from pos.receipt import Receipt


class EscPosReceiptPrinter:
    """Receipts and drawer kicks through a print queue; every call returns a job
    id at once."""

    def __init__(
        self, queue: PrintQueue, width: int = 42, locale: str = "zh", tz: tzinfo | None = None
    ) -> None:
        self.queue = queue
        self.width = width
        self.locale = locale
        self.tz = tz

    def print_receipt(self, receipt: Receipt) -> str:
        kind = "reprint" if receipt.info.reprint else "receipt"
        title = f"{kind} {receipt.info.receipt_no}"
        return self.queue.submit(
            kind, title, receipt_job(receipt, self.width, self.locale, self.tz)
        )

    def open_drawer(self) -> str:
        return self.queue.submit("drawer", "cash drawer", drawer_job(), needs_paper=False)

    def print_lines(self, kind: str, title: str, lines: list[str], qr: str = "") -> str:
        return self.queue.submit(kind, title, text_job(lines, self.width, qr))

    def job(self, job_id: str) -> JobView:
        return self.queue.job(job_id)

    def close(self) -> None:
        self.queue.stop()


def open_printer(
    url: str,
    clock: Clock,
    width: int = 42,
    locale: str = "zh",
    tz: tzinfo | None = None,
    retry_delays: tuple[float, ...] | None = None,
    timeout: float = 3.0,
) -> EscPosReceiptPrinter:
    """A started printer for the address `url` (see drivers.printer.transport)."""
    addr = parse_address(url)
    queue = PrintQueue(
        lambda: PrinterConnection(addr, timeout),
        clock,
        DEFAULT_RETRY_DELAYS if retry_delays is None else retry_delays,
    )
    return EscPosReceiptPrinter(queue.start(), width, locale, tz)
