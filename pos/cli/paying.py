"""Taking payment from the command line: the same tender flow the app runs
(pos.flows.core over the till), with the QR and the status lines printed on
standard error and Ctrl-C as the cancel button."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from pos.auth import Approval
from pos.cli.context import CliContext
from pos.errors import NotAllowed
from pos.flows.cancel import CancelToken
from pos.flows.core import CoreServices
from pos.flows.ports import TenderRequest
from pos.flows.text import Said
from pos.flows.views import Outcome, RiskNote, TenderResult
from pos.messages import msg
from pos.money import Money
from pos.order.tenders import CASH, channel_label
from pos.payments.channel import PaymentMode
from pos.services.risk_gate import RiskRefused


class CliPaymentEvents:
    """What a running payment says, on standard error: the QR (as text, and as
    a QR code on a terminal) and each new status line."""

    def __init__(self, ctx: CliContext) -> None:
        self.ctx = ctx
        self.locale = ctx.lang
        self._last = ""

    def qr(self, payload: str, expires_in_s: int) -> None:
        self.ctx.warn(msg("cli.payment.qr", payload=payload))
        if not self.ctx.as_json and sys.stderr.isatty():
            import qrcode

            code = qrcode.QRCode(border=1)
            code.add_data(payload)
            code.print_ascii(out=self.ctx.err, invert=True)

    def status(self, text: Said) -> None:
        said = text.render(self.locale)
        if said and said != self._last:
            self.ctx.warn(said)
            self._last = said

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        # The reader's own console handler asks the person; nothing to add.
        return 0


@contextmanager
def ctrl_c_cancels(token: CancelToken) -> Iterator[None]:
    """Ctrl-C asks the payment to stop (at the gateway or the reader) instead
    of killing the process in the middle of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        token.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class PayArg:
    """One `--pay CHANNEL[:AMOUNT]`."""

    channel: str
    amount: Money | None = None


def payment_mode(channel: str, auth_code: str) -> PaymentMode:
    if channel == CASH:
        return PaymentMode.CASH
    if channel == "card":
        return PaymentMode.CARD
    return PaymentMode.PAYMENT_CODE if auth_code else PaymentMode.QR


class TenderNotTaken(NotAllowed):
    """A tender that took no money, or whose outcome is not known: the order
    stays open and the error names it."""

    def __init__(self, result: TenderResult, channel: str, others: str) -> None:
        order_id = result.order.order_id
        if result.released:
            # Let go: the next step is another tender; the attempt is chased.
            code = "released" if result.status is Outcome.UNKNOWN else "never_shown"
            message = msg(
                f"uncertain.cli.{code}", channel=channel_label(channel), order_id=order_id
            )
        elif result.status is Outcome.UNKNOWN:
            message = msg("till.payment_unknown", channel=channel_label(channel), order_id=order_id)
        else:
            message = msg(
                "till.payment_not_taken",
                channel=channel_label(channel),
                status=result.status.value,
                notice=result.message,
                order_id=order_id,
                others=others,
            )
        super().__init__(message)
        self.order_id = order_id
        self.result = result


def risk_dict(channel: str, note: RiskNote) -> dict[str, Any]:
    return {
        "channel": channel,
        "action": note.action,
        "rule_ids": list(note.rule_ids),
        "reasons": [r.render("en") for r in note.reasons],
        "step_ups_met": list(note.step_ups_met),
        "score": note.score,
    }


def take_payments(
    ctx: CliContext,
    core: CoreServices,
    order_id: str,
    pays: Sequence[PayArg],
    *,
    approval: Approval | None,
    id_checked: bool,
    auth_code: str,
    member: str = "",
) -> tuple[TenderResult | None, list[dict[str, Any]]]:
    """Each `--pay` in turn through the flows' tender, until the order is paid
    or one does not take money (TenderNotTaken: the order stays open). A tender
    the risk rules refuse leaves no cart behind when nothing was paid yet."""
    result: TenderResult | None = None
    decisions: list[dict[str, Any]] = []
    for i, pay in enumerate(pays):
        view = core.get(order_id)
        if view.remaining.minor <= 0:
            break
        code = auth_code if i == len(pays) - 1 else ""
        if member and not code and _takes_only_codes(core, pay.channel):
            code = member
        mode = payment_mode(pay.channel, code)
        handed = pay.amount
        due = view.remaining if handed is None else min(handed, view.remaining)
        request = TenderRequest(
            order_id,
            pay.channel,
            mode.value,
            due,
            tendered=(handed or due) if mode is PaymentMode.CASH else None,
            auth_code=code,
            approval=approval,
            id_checked=id_checked,
        )
        token = CancelToken()
        try:
            with ctrl_c_cancels(token):
                result = core.pay(request, CliPaymentEvents(ctx), token)
        except RiskRefused as refused:
            if not view.tenders:
                core.services.checkout.void(
                    order_id, reason="refused by risk rules", counts_as_void=False
                )
            ctx.warn(
                msg(
                    "cli.payment.risk",
                    action=refused.decision.action,
                    reasons="; ".join(refused.decision.explain(ctx.lang)),
                    met="",
                )
            )
            raise
        if result.risk is not None:
            decisions.append(risk_dict(pay.channel, result.risk))
            _say_risk(ctx, result.risk)
        if result.status is not Outcome.SUCCEEDED:
            others = [c for c in _alternatives(core) if c != pay.channel]
            raise TenderNotTaken(result, pay.channel, ", ".join(others) or CASH)
    return result, decisions


# How long a payment command goes on chasing attempts it let go of before it
# returns (the rest is finished by the next command, the app or recovery).
CHASE_S = 3.0


def chase_released(ctx: CliContext, core: CoreServices, order_id: str | None = None) -> None:
    """Before the command returns: settle what the till let go of, within
    CHASE_S, and say how each ended and how many are still being checked."""
    if core.router is None or not core.released_open():
        return
    until = core.services.checkout.clock.monotonic() + CHASE_S
    for note in core.settle_released(order_id, until):
        ctx.warn(note)
    left = core.released_open()
    if left:
        ctx.warn(msg("uncertain.cli.still_checking", count=left))


def _takes_only_codes(core: CoreServices, channel: str) -> bool:
    """A channel paid only by a scanned code (a member's stored value or points)."""
    if core.router is None or channel not in core.router.channel_names:
        return False
    return core.router.channel(channel).capabilities().modes == {PaymentMode.PAYMENT_CODE}


def _alternatives(core: CoreServices) -> list[str]:
    names = [CASH]
    if core.router is not None:
        names += [n for n in core.router.available() if n != CASH]
    return names


def _say_risk(ctx: CliContext, note: RiskNote) -> None:
    if note.action == "allow" and not note.reasons:
        return
    met = f" ({', '.join(note.step_ups_met)})" if note.step_ups_met else ""
    ctx.warn(msg("cli.payment.risk", action=note.action, reasons=list(note.reasons), met=met))
