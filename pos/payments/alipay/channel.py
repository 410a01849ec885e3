"""Alipay as a PaymentChannel: precreate (QR shown) or pay with scene bar_code
(the shopper's payment code), then query / cancel / close / refund."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pos.errors import PosError
from pos.money import Money
from pos.order.tenders import channel_label
from pos.payments.alipay import notify as alipay_notify
from pos.payments.alipay.client import (
    CODE_BUSINESS_FAILED,
    CODE_PAYING,
    CODE_SUCCESS,
    UNKNOWN_SUB_CODES,
    AlipayClient,
    AlipayConfig,
    AlipayReply,
)
from pos.payments.bills import BillRow, parse_alipay_bill, unreachable
from pos.payments.channel import (
    ChannelEnv,
    ChannelResult,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.notify import Notification, NotifyReply
from pos.payments.settings import Section
from pos.payments.transport import GatewayUnreachable, OutcomeUnknown
from pos.payments.wallet import (
    WalletChannel,
    asked,
    refund_asked,
    refund_sent,
    showable_qr,
    started,
)

_TRADE_STATES = {
    "WAIT_BUYER_PAY": PaymentStatus.USER_PAYING,
    "TRADE_SUCCESS": PaymentStatus.SUCCEEDED,
    "TRADE_FINISHED": PaymentStatus.SUCCEEDED,
    "TRADE_CLOSED": PaymentStatus.CLOSED,
}


def _result(status: PaymentStatus, reply: AlipayReply, **kw: Any) -> ChannelResult:
    """The reply's references and codes; `kw` adds to or overrides them."""
    fields: dict[str, Any] = {
        "channel_ref": reply.text("trade_no"),
        "buyer_ref": reply.text("buyer_logon_id"),
        "code": reply.code,
        "sub_code": reply.sub_code,
        "message": reply.sub_msg or reply.msg,
    }
    fields.update(kw)
    return ChannelResult(status, **fields)


def _is_unknown(reply: AlipayReply) -> bool:
    return reply.code not in (CODE_SUCCESS, CODE_PAYING, CODE_BUSINESS_FAILED) or (
        reply.sub_code in UNKNOWN_SUB_CODES
    )


class AlipayChannel(WalletChannel):
    client: AlipayClient

    def __init__(self, env: ChannelEnv) -> None:
        s = Section(env)
        super().__init__(env, s)
        config = AlipayConfig(
            gateway=s.text("gateway"),
            app_id=s.text("app_id"),
            private_key=s.private_key("private_key"),
            alipay_public_key=s.public_key("alipay_public_key"),
            notify_url=s.text("notify_url", ""),
            store_id=s.text("store_id", ""),
            terminal_id=s.text("terminal_id", ""),
            timeout=s.number("timeout", 15.0),
        )
        self.client = AlipayClient(config, env.clock)

    # -- the daily bill -----------------------------------------------------------------
    bill_suffix = ".zip"

    def daily_bill(self, bill_date: str) -> bytes:
        try:
            reply = self.client.bill_download_url(bill_date)
            url = reply.text("bill_download_url")
            if not reply.ok or not url:
                raise PosError(
                    f"Alipay has no bill for {bill_date}: {reply.sub_code or reply.code}"
                    f" {reply.sub_msg or reply.msg}".rstrip(),
                    "Bills are ready the next morning; try again later.",
                )
            return self.client.download(url)
        except (GatewayUnreachable, OutcomeUnknown) as exc:
            raise unreachable(channel_label("alipay"), bill_date, exc) from exc

    def parse_bill(self, data: bytes) -> list[BillRow]:
        return parse_alipay_bill(data)

    # -- notifications (hints: the router confirms by query) ---------------------------
    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        return alipay_notify.parse_notification(self.name, self.client.config, body)

    def notification_reply(self, accepted: bool, reason: str = "") -> NotifyReply:
        return alipay_notify.reply(accepted)

    def _paid(self, intent: PaymentIntent, reply: AlipayReply) -> ChannelResult:
        """A success is only a success for this order and this amount."""
        try:
            paid = reply.amount("total_amount", intent.amount.currency)
        except OutcomeUnknown as exc:
            return _result(PaymentStatus.UNKNOWN, reply, message=str(exc))
        if reply.text("out_trade_no") not in ("", intent.out_trade_no) or (
            paid is not None and paid != intent.amount
        ):
            return _result(PaymentStatus.UNKNOWN, reply, message="amount or order mismatch")
        return _result(PaymentStatus.SUCCEEDED, reply, paid_amount=paid or intent.amount)

    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult:
        call: Callable[[], AlipayReply]
        if intent.mode == PaymentMode.PAYMENT_CODE:
            if not auth_code:
                return ChannelResult(PaymentStatus.FAILED, code="auth_code_missing")
            call = partial(
                self.client.pay, intent.out_trade_no, intent.amount, intent.subject, auth_code
            )
        else:
            minutes = int(self._caps.payment_timeout // 60) + 1
            call = partial(
                self.client.precreate, intent.out_trade_no, intent.amount, intent.subject, minutes
            )
        reply = started(call)
        if isinstance(reply, ChannelResult):
            return reply
        if _is_unknown(reply):
            return _result(PaymentStatus.UNKNOWN, reply)
        if reply.code == CODE_PAYING:
            return _result(PaymentStatus.USER_PAYING, reply)
        if reply.code != CODE_SUCCESS:
            return _result(PaymentStatus.FAILED, reply)
        if intent.mode == PaymentMode.PAYMENT_CODE:
            return self._paid(intent, reply)
        qr = reply.text("qr_code")
        if not showable_qr(qr):
            # The trade may exist: unknown, so it is closed rather than forgotten.
            return _result(
                PaymentStatus.UNKNOWN, reply, message="precreate without a usable qr_code"
            )
        return _result(PaymentStatus.PENDING, reply, qr_payload=qr)

    def query(self, intent: PaymentIntent) -> ChannelResult:
        reply = asked(partial(self.client.query, intent.out_trade_no))
        if isinstance(reply, ChannelResult):
            return reply
        if reply.code == CODE_BUSINESS_FAILED and reply.sub_code == "ACQ.TRADE_NOT_EXIST":
            # Nothing scanned yet (a precreated code is invisible until scanned).
            return _result(PaymentStatus.PENDING, reply)
        if reply.code != CODE_SUCCESS:
            return _result(PaymentStatus.UNKNOWN, reply)
        status = _TRADE_STATES.get(reply.text("trade_status"), PaymentStatus.UNKNOWN)
        if status == PaymentStatus.SUCCEEDED:
            return self._paid(intent, reply)
        return _result(status, reply)

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        reply = asked(partial(self.client.cancel, intent.out_trade_no))
        if isinstance(reply, ChannelResult):
            return reply
        if reply.code == CODE_SUCCESS and reply.text("retry_flag") != "Y":
            # action close (unpaid) or refund (paid, money given back): none kept.
            return _result(PaymentStatus.CLOSED, reply, details={"action": reply.text("action")})
        return _result(PaymentStatus.UNKNOWN, reply, retry_later=True)

    def close(self, intent: PaymentIntent) -> ChannelResult:
        reply = asked(partial(self.client.close, intent.out_trade_no))
        if isinstance(reply, ChannelResult):
            return reply
        if reply.code == CODE_SUCCESS:
            return _result(PaymentStatus.CLOSED, reply)
        # TRADE_NOT_EXIST: an unscanned code could still be paid; only cancel makes it final.
        return _result(PaymentStatus.UNKNOWN, reply)

    def refund(self, refund: RefundIntent) -> RefundResult:
        p = refund.payment
        reply = refund_sent(
            partial(
                self.client.refund,
                p.out_trade_no,
                refund.out_refund_no,
                refund.amount,
                refund.reason,
            )
        )
        if isinstance(reply, RefundResult):
            return reply
        if reply.code == CODE_SUCCESS:
            # refund_fee is the cumulative total refunded; this refund is its own amount.
            return self._refunded(refund, None, reply)
        status = RefundStatus.UNKNOWN if _is_unknown(reply) else RefundStatus.FAILED
        return RefundResult(status, code=reply.code, sub_code=reply.sub_code, message=reply.sub_msg)

    def refund_query(self, refund: RefundIntent) -> RefundResult:
        p = refund.payment
        reply = refund_asked(
            partial(self.client.refund_query, p.out_trade_no, refund.out_refund_no)
        )
        if isinstance(reply, RefundResult):
            return reply
        if reply.code != CODE_SUCCESS:
            return RefundResult(RefundStatus.UNKNOWN, code=reply.code, sub_code=reply.sub_code)
        try:
            amount = reply.amount("refund_amount")
        except OutcomeUnknown as exc:
            return RefundResult(RefundStatus.UNKNOWN, code=reply.code, message=str(exc))
        if reply.text("refund_status") == "REFUND_SUCCESS" or amount is not None:
            return self._refunded(refund, amount, reply)
        # 10000 without a refund amount: Alipay has no such refund.
        return RefundResult(RefundStatus.FAILED, code="REFUND_NOT_EXIST")

    @staticmethod
    def _refunded(refund: RefundIntent, amount: Money | None, reply: AlipayReply) -> RefundResult:
        return RefundResult(
            RefundStatus.SUCCEEDED,
            channel_ref=reply.text("trade_no"),
            refunded_amount=refund.amount if amount is None else amount,
            code=reply.code,
        )
