"""The kiosk's receipt on the thank-you page: printed through the counter's
printing path when a printer is set up (said as printing, then printed, never
before the printer took it), else a QR code holding the receipt's number,
total and time, and no printed receipt is promised. A printer that fails
mid-job falls back to the QR code."""

from __future__ import annotations

from pos.flows.views import OrderView
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import GAVE_UP, NOT_READY, PRINTED, JobStatus, Printing, set_up
from ui.qr import QrWidget
from ui.qt import QEvent, Qt, QVBoxLayout, QWidget
from ui.widgets import PrintWatch, label


class KioskReceipt(QWidget):
    def __init__(self, ctx: UiContext, printing: Printing | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._printing = printing
        self._scope = Scope("kiosk-receipt")
        self._order: OrderView | None = None
        self._code = ""
        self.watch: PrintWatch | None = None
        self.note = label("", "title")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr = QrWidget(self, 240)
        self.qr.setVisible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)

    @property
    def printed_here(self) -> bool:
        return set_up(self._printing) is not None

    def show_sale(self, order: OrderView) -> None:
        """After a paid sale: print it, or show its QR code."""
        self._scope.leave()
        self.watch = None
        self._order = order
        printer = set_up(self._printing)
        if printer is None:
            self._show_qr("gaps.kiosk.receipt_qr")
            return
        self.qr.setVisible(False)
        self._say("gaps.kiosk.receipt_printing")
        self._ctx.ops.run(
            "print",
            lambda op: printer.print_receipt(order.order_id),
            self._scope,
            lambda job: self._follow(printer, job),
            lambda _exc: self._show_qr("gaps.kiosk.printer_failed_qr"),
            lane="io",
        )

    def clear(self) -> None:
        self._scope.leave()
        self.watch = None
        self._order = None
        self.qr.setVisible(False)
        self._say("")

    def _follow(self, printer: Printing, job_id: str) -> None:
        self.watch = PrintWatch(printer, job_id, self)

        def changed(status: JobStatus) -> None:
            if status.state == PRINTED:
                self._say("gaps.kiosk.receipt_printed")
            elif status.state in (NOT_READY, GAVE_UP):
                self._show_qr("gaps.kiosk.printer_failed_qr")

        self.watch.changed.connect(changed)
        self.watch.look()

    def _show_qr(self, code: str) -> None:
        order = self._order
        if order is None:
            return
        if self.watch is not None:
            self.watch.deleteLater()  # stops following the job: the QR code stands
            self.watch = None
        self.qr.set_payload(receipt_payload(self._ctx, order))
        self.qr.setVisible(True)
        self._say(code)

    def _say(self, code: str) -> None:
        self._code = code
        self.note.setText(self._ctx.t(code) if code else "")

    def retranslate(self) -> None:
        self._say(self._code)
        if self._order is not None and self.qr.isVisible():
            self.qr.set_payload(receipt_payload(self._ctx, self._order))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def receipt_payload(ctx: UiContext, order: OrderView) -> str:
    """What the shopper's phone reads from the QR code: the receipt's number,
    total and time, in the screen's language."""
    when = ctx.services.clock.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return ctx.t(
        "gaps.kiosk.receipt_qr_text",
        receipt_no=order.receipt_no or order.order_id,
        total=ctx.money(order.total),
        time=when,
    )
