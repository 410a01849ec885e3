"""Running one tender from the screen: the risk step-ups (a manager's PIN, the
shopper's ID checked, with the reasons shown), the payment dialog, the
payment on an I/O worker, and the result back on the UI thread. The cashier
screen and the kiosk share it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pos.flows import TenderFlow
from pos.flows.ports import TenderRequest
from pos.flows.text import Said
from pos.flows.views import Approval, TenderResult
from pos.messages import msg
from pos.money import Money
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import QDialog, QObject, QWidget, Signal
from ui.screens.payment import PaymentDialog, QtPaymentEvents
from ui.widgets import IdCheckDialog, ask_approval, ask_staff

_STEP_UP = msg("kiosk.this_payment_needs_a_managers")
_ATTENDANT_ID = msg("kiosk.an_attendant_checks_the_shoppers")


class PaymentDriver(QObject):
    finished = Signal(object)  # TenderResult
    failed = Signal(object)  # the exception, to be shown
    qr_shown = Signal(str, object, str)  # payload, amount, channel (for the customer display)

    def __init__(self, ctx: UiContext, parent: QWidget, scope: Scope, kiosk: bool = False):
        super().__init__(parent)
        self._ctx = ctx
        self._parent = parent
        self._scope = scope
        self._kiosk = kiosk
        self.dialog: PaymentDialog | None = None
        self.step_up_dialog: QDialog | None = None
        self.tender: TenderFlow | None = None
        self.call_staff: Callable[[], None] | None = None  # the kiosk's attendant call
        # The risk check of a tender is running: the payment is about to start.
        self.starting = False
        self.failed.connect(self._not_starting)

    @property
    def busy(self) -> bool:
        return self.dialog is not None

    def _run(
        self, name: str, fn: Callable[[], Any], then: Callable[[Any], None], lane: str
    ) -> None:
        self._ctx.ops.run(name, lambda op: fn(), self._scope, then, self.failed.emit, lane=lane)

    def start(
        self,
        tender: TenderFlow,
        channel: str,
        mode: str,
        amount: Money | None = None,
        tendered: Money | None = None,
        code: str = "",
    ) -> None:
        """Check the tender with the risk engine, then pay (or ask a manager first)."""
        self.tender = tender
        self.starting = True
        self._run(
            "prepare",
            lambda: tender.prepare(channel, mode, amount, tendered, code),
            self._approved_or_step_up,
            "store",
        )

    def _approved_or_step_up(self, request: TenderRequest | None) -> None:
        """Pay, or meet the next step-up the risk rules ask for."""
        self.starting = False
        tender = self.tender
        assert tender is not None
        if request is not None:
            self._pay(request)
            return
        reasons = tender.decision.reasons if tender.decision else ()
        dlg: QDialog
        if tender.step_up == "check_id" and not self._kiosk:
            dlg = IdCheckDialog(self._ctx, reasons, self._parent)
            dlg.accepted.connect(lambda: self._next("confirm id", tender.confirm_id))
            dlg.open()
        elif tender.step_up == "check_id":
            # At the kiosk the shopper must not confirm their own ID.
            dlg = self._ask(
                "check_id",
                _ATTENDANT_ID,
                reasons,
                lambda appr: self._next("confirm id", lambda: tender.confirm_id(appr)),
            )
        else:
            dlg = self._ask(
                "risk_review",
                _STEP_UP,
                reasons,
                lambda appr: self._next("approve", lambda: tender.approve(appr)),
            )
        self.step_up_dialog = dlg
        dlg.rejected.connect(tender.back)  # not met: back to choosing a tender

    def _ask(
        self, action: str, title: Said, reasons: Any, then: Callable[[Approval], None]
    ) -> QDialog:
        """A manager's PIN at the counter; at the kiosk, staff are called and
        the shopper is asked to wait (never shown a PIN pad)."""
        if self._kiosk:
            return ask_staff(self._ctx, self._parent, action, title, reasons, then, self.call_staff)
        return ask_approval(self._ctx, self._parent, action, title, reasons, then)
    def _not_starting(self, _exc: object) -> None:
        self.starting = False

    def _next(self, name: str, meet: Callable[[], TenderRequest | None]) -> None:
        self._run(name, meet, self._approved_or_step_up, "store")

    def _pay(self, request: TenderRequest) -> None:
        tender = self.tender
        assert tender is not None
        events = QtPaymentEvents()
        if request.mode != "cash":
            dlg = PaymentDialog(
                self._ctx,
                request.channel,
                request.mode,
                request.amount,
                events,
                self._parent,
                kiosk=self._kiosk,
            )
            dlg.cancel_requested.connect(tender.cancel)
            events.qr_shown.connect(
                lambda payload, _s: self.qr_shown.emit(payload, request.amount, request.channel)
            )
            self.dialog = dlg
            dlg.open()
        self._run("pay", lambda: tender.run(events), self._done, "io")

    def resolve(self, tender: TenderFlow) -> None:
        """Settle a payment left unknown (query, then cancel or reverse)."""
        self.tender = tender
        self._run("resolve", tender.resolve, self._done, "io")

    def cancel(self) -> None:
        if self.tender is not None:
            self.tender.cancel()

    def _done(self, result: TenderResult) -> None:
        dlg, self.dialog = self.dialog, None
        if dlg is not None:
            dlg.finish(result)
        self.finished.emit(result)
