"""WeChat Pay as a PaymentChannel: Native (v3, QR shown), or the shopper's
payment code through v2 micropay (default) or v3 codepay
(``"payment_code_api": "v3"``); query, close / reverse, refund (v3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from functools import partial

from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import MAX_MINOR, Money
from pos.order.tenders import channel_label
from pos.payments import rsa
from pos.payments.bills import BillRow, parse_wechat_bill, unreachable
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
from pos.payments.wechat import notify as wechat_notify
from pos.payments.wechat import v2sign
from pos.payments.wechat.client import V3Reply, WechatClient, WechatConfig

_TRADE_STATES = {
    "SUCCESS": PaymentStatus.SUCCEEDED,
    "REFUND": PaymentStatus.SUCCEEDED,  # paid, then (partly) refunded: the terminal tracks refunds
    "NOTPAY": PaymentStatus.PENDING,
    "USERPAYING": PaymentStatus.USER_PAYING,
    "CLOSED": PaymentStatus.CLOSED,
    "REVOKED": PaymentStatus.CLOSED,
    "PAYERROR": PaymentStatus.FAILED,
}
_REFUND_STATES = {
    "SUCCESS": RefundStatus.SUCCEEDED,
    "PROCESSING": RefundStatus.PENDING,
    "CLOSED": RefundStatus.FAILED,
    "ABNORMAL": RefundStatus.FAILED,
}
_V2_UNKNOWN = frozenset({"SYSTEMERROR", "BANKERROR", "ORDERPAID"})
_NOT_FOUND = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST"})
# v3 codepay refusals that do not prove the shopper was not charged.
_V3_CODEPAY_UNKNOWN = frozenset({"SYSTEM_ERROR", "BANK_ERROR", "ORDERPAID", "FREQUENCY_LIMITED"})
_CST = timezone(timedelta(hours=8))


class WechatChannel(WalletChannel):
    client: WechatClient

    def __init__(self, env: ChannelEnv) -> None:
        s = Section(env)
        super().__init__(env, s)
        keys = s.cfg.get("platform_certificates", {})
        if not isinstance(keys, dict) or not keys:
            s.text("platform_certificates")  # raises the "add this setting" error
        platform = {
            str(serial): rsa.load_public_key(
                rsa.read_key_file(
                    env.data_dir / str(path), msg("payments.key.wechat_platform_cert")
                )
            )
            for serial, path in keys.items()
        }
        # The shopper's payment code goes through v2 micropay (XML, v2 key) or
        # v3 codepay (JSON, RSA like everything else; no v2 key needed).
        api = s.text("payment_code_api", "v2")
        if api not in ("v2", "v3"):
            raise InvalidInput(
                msg(
                    "payments.config.wechat_code_api",
                    channel=env.name,
                    api=repr(api),
                    file="payments.json",
                )
            )
        self._codepay_v3 = api == "v3"
        config = WechatConfig(
            base_url=s.text("base_url"),
            appid=s.text("appid"),
            mchid=s.text("mchid"),
            private_key=s.private_key("private_key"),
            serial_no=s.text("serial_no"),
            platform_keys=platform,
            apiv3_key=s.secret_bytes("apiv3_key").strip(),
            v2_key="" if self._codepay_v3 else s.secret_bytes("v2_key").decode().strip(),
            v2_sign_type=s.text("v2_sign_type", v2sign.HMAC_SHA256),
            notify_url=s.text("notify_url", "https://example.invalid/wechat/notify"),
            timeout=s.number("timeout", 15.0),
        )
        self.client = WechatClient(config, env.clock)

    # -- the daily bill -----------------------------------------------------------------
    bill_suffix = ".csv"

    def daily_bill(self, bill_date: str) -> bytes:
        try:
            return self.client.trade_bill(bill_date)
        except (GatewayUnreachable, OutcomeUnknown) as exc:
            raise unreachable(channel_label("wechat"), bill_date, exc) from exc

    def parse_bill(self, data: bytes) -> list[BillRow]:
        return parse_wechat_bill(data)

    # -- notifications (hints: the router confirms by query) ---------------------------
    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        now = int(self._clock.now().timestamp())
        return wechat_notify.parse_notification(self.name, self.client.config, headers, body, now)

    def notification_reply(self, accepted: bool, reason: str = "") -> NotifyReply:
        return wechat_notify.reply(accepted, reason)

    # -- results ------------------------------------------------------------------
    def _checked(
        self, intent: PaymentIntent, ref: str, fen: int | None, buyer_ref: str = ""
    ) -> ChannelResult:
        if fen is not None and fen != intent.amount.minor:
            return ChannelResult(PaymentStatus.UNKNOWN, channel_ref=ref, message="amount mismatch")
        return ChannelResult(
            PaymentStatus.SUCCEEDED, channel_ref=ref, paid_amount=intent.amount, buyer_ref=buyer_ref
        )

    def _v3_trade(self, intent: PaymentIntent, reply: V3Reply) -> ChannelResult:
        if reply.status == 404 or reply.code in _NOT_FOUND:
            return ChannelResult(PaymentStatus.PENDING, code=reply.code)
        if reply.status != 200 or reply.text("out_trade_no") != intent.out_trade_no:
            return ChannelResult(
                PaymentStatus.UNKNOWN, code=reply.code, message=reply.text("message")
            )
        state = reply.text("trade_state")
        status = _TRADE_STATES.get(state, PaymentStatus.UNKNOWN)
        ref = reply.text("transaction_id")
        if status == PaymentStatus.SUCCEEDED:
            return self._checked(intent, ref, reply.amount_fen())
        return ChannelResult(
            status, channel_ref=ref, code=state, message=reply.text("trade_state_desc")
        )

    def _v2_trade(self, intent: PaymentIntent, data: dict[str, str]) -> ChannelResult:
        if data.get("result_code") != "SUCCESS":
            err = data.get("err_code", "")
            if err == "USERPAYING":
                status = PaymentStatus.USER_PAYING
            elif err in _NOT_FOUND:
                status = PaymentStatus.PENDING
            elif err in _V2_UNKNOWN or not err:
                status = PaymentStatus.UNKNOWN
            else:
                status = PaymentStatus.FAILED
            return ChannelResult(
                status, code="FAIL", sub_code=err, message=data.get("err_code_des", "")
            )
        if data.get("out_trade_no", intent.out_trade_no) != intent.out_trade_no:
            return ChannelResult(PaymentStatus.UNKNOWN, message="order mismatch")
        state = data.get("trade_state", "SUCCESS")  # micropay success carries no trade_state
        status = _TRADE_STATES.get(state, PaymentStatus.UNKNOWN)
        ref = data.get("transaction_id", "")
        if status != PaymentStatus.SUCCEEDED:
            return ChannelResult(status, channel_ref=ref, code=state)
        fee = data.get("total_fee")
        if fee is not None and not is_digits(fee):
            return ChannelResult(
                PaymentStatus.UNKNOWN, channel_ref=ref, message="unreadable total_fee"
            )
        return self._checked(
            intent, ref, int(fee) if fee is not None else None, buyer_ref=data.get("openid", "")
        )

    # -- the interface ----------------------------------------------------------------
    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult:
        if intent.mode == PaymentMode.PAYMENT_CODE:
            if not auth_code:
                return ChannelResult(PaymentStatus.FAILED, code="auth_code_missing")
            if self._codepay_v3:
                return started(partial(self._codepay_started, intent, auth_code))
            data = started(
                partial(
                    self.client.micropay,
                    intent.out_trade_no,
                    intent.amount,
                    intent.subject,
                    auth_code,
                )
            )
            return data if isinstance(data, ChannelResult) else self._v2_trade(intent, data)
        expire = self._clock.now() + timedelta(seconds=self._caps.payment_timeout + 60)
        reply = started(
            partial(
                self.client.native,
                intent.out_trade_no,
                intent.amount,
                intent.subject,
                expire.astimezone(_CST).isoformat(timespec="seconds"),
            )
        )
        if isinstance(reply, ChannelResult):
            return reply
        if reply.status == 200 and showable_qr(reply.text("code_url")):
            return ChannelResult(PaymentStatus.PENDING, qr_payload=reply.text("code_url"))
        if 400 <= reply.status < 500 and reply.code not in ("SYSTEM_ERROR", "ORDERPAID"):
            return ChannelResult(
                PaymentStatus.FAILED, code=reply.code, message=reply.text("message")
            )
        return ChannelResult(PaymentStatus.UNKNOWN, code=reply.code, message=reply.text("message"))

    def _codepay_started(self, intent: PaymentIntent, auth_code: str) -> ChannelResult:
        reply = self.client.codepay(intent.out_trade_no, intent.amount, intent.subject, auth_code)
        if reply.status == 200:
            return self._v3_trade(intent, reply)
        message = reply.text("message")
        if reply.status == 202 or reply.code == "USERPAYING":
            return ChannelResult(PaymentStatus.USER_PAYING, code=reply.code, message=message)
        if 400 <= reply.status < 500 and reply.code not in _V3_CODEPAY_UNKNOWN:
            return ChannelResult(PaymentStatus.FAILED, code=reply.code, message=message)
        return ChannelResult(PaymentStatus.UNKNOWN, code=reply.code, message=message)

    def query(self, intent: PaymentIntent) -> ChannelResult:
        if intent.mode == PaymentMode.PAYMENT_CODE and not self._codepay_v3:
            v2 = asked(partial(self.client.order_query, intent.out_trade_no))
            return v2 if isinstance(v2, ChannelResult) else self._v2_trade(intent, v2)
        v3 = asked(partial(self.client.query, intent.out_trade_no))
        return v3 if isinstance(v3, ChannelResult) else self._v3_trade(intent, v3)

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        if intent.mode != PaymentMode.PAYMENT_CODE:
            return self.close(intent)
        if self._codepay_v3:
            reply = asked(partial(self.client.reverse, intent.out_trade_no))
            if isinstance(reply, ChannelResult):
                return reply
            if reply.status in (200, 204):
                return ChannelResult(PaymentStatus.CLOSED, code="REVERSED")
            return ChannelResult(
                PaymentStatus.UNKNOWN,
                code=reply.code,
                message=reply.text("message"),
                retry_later=True,
            )
        data = asked(partial(self.client.reverse_v2, intent.out_trade_no))
        if isinstance(data, ChannelResult):
            return data
        if data.get("result_code") == "SUCCESS" and data.get("recall") != "Y":
            return ChannelResult(PaymentStatus.CLOSED, code="REVERSED")
        return ChannelResult(
            PaymentStatus.UNKNOWN, code="FAIL", sub_code=data.get("err_code", ""), retry_later=True
        )

    def close(self, intent: PaymentIntent) -> ChannelResult:
        reply = asked(partial(self.client.close, intent.out_trade_no))
        if isinstance(reply, ChannelResult):
            return reply
        if reply.status == 204:
            return ChannelResult(PaymentStatus.CLOSED, code="CLOSED")
        # ORDERPAID and the rest: the query that follows says what really happened.
        return ChannelResult(PaymentStatus.UNKNOWN, code=reply.code, message=reply.text("message"))

    def _refund_result(self, reply: V3Reply) -> RefundResult:
        if reply.status == 404 or reply.code == "RESOURCE_NOT_EXISTS":
            return RefundResult(RefundStatus.FAILED, code=reply.code or "RESOURCE_NOT_EXISTS")
        if reply.status != 200:
            status = (
                RefundStatus.UNKNOWN
                if reply.code in ("SYSTEM_ERROR", "FREQUENCY_LIMITED")
                else RefundStatus.FAILED
            )
            return RefundResult(status, code=reply.code, message=reply.text("message"))
        state = reply.text("status")
        fen = reply.amount_fen("refund")
        if fen is not None and not 0 <= fen <= MAX_MINOR:
            return RefundResult(RefundStatus.UNKNOWN, code=state, message=f"refund amount {fen}")
        return RefundResult(
            _REFUND_STATES.get(state, RefundStatus.UNKNOWN),
            channel_ref=reply.text("refund_id"),
            refunded_amount=Money(fen) if fen is not None else None,
            code=state,
        )

    def refund(self, refund: RefundIntent) -> RefundResult:
        p = refund.payment
        reply = refund_sent(
            partial(
                self.client.refund,
                p.out_trade_no,
                refund.out_refund_no,
                refund.amount,
                p.amount,
                refund.reason,
            )
        )
        return reply if isinstance(reply, RefundResult) else self._refund_result(reply)

    def refund_query(self, refund: RefundIntent) -> RefundResult:
        reply = refund_asked(partial(self.client.refund_query, refund.out_refund_no))
        return reply if isinstance(reply, RefundResult) else self._refund_result(reply)
