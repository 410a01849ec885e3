"""Alipay's asynchronous notifications (notify_type trade_status_sync): a
form POST signed with Alipay's key, RSA2 over every parameter except
``sign`` and ``sign_type``. Answered with the text "success", or Alipay
sends it again."""

from __future__ import annotations

from urllib.parse import parse_qsl

from pos.money import Money, MoneyError
from pos.payments.alipay.client import AlipayConfig
from pos.payments.alipay.sign import verify_params
from pos.payments.channel import PaymentStatus
from pos.payments.notify import Notification, NotificationRefused, NotifyReply

TRADE_STATES = {
    "WAIT_BUYER_PAY": PaymentStatus.USER_PAYING,
    "TRADE_SUCCESS": PaymentStatus.SUCCEEDED,
    "TRADE_FINISHED": PaymentStatus.SUCCEEDED,
    "TRADE_CLOSED": PaymentStatus.CLOSED,
}


def parse_notification(channel: str, config: AlipayConfig, body: bytes) -> Notification:
    try:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationRefused("not an Alipay notification form") from exc
    if not verify_params(params, config.alipay_public_key, notification=True):
        raise NotificationRefused("Alipay notification signature does not verify")
    if params.get("app_id") != config.app_id:
        raise NotificationRefused(f"notification for another app id {params.get('app_id')!r}")
    status = TRADE_STATES.get(params.get("trade_status", ""))
    out_trade_no = params.get("out_trade_no", "")
    if status is None or not out_trade_no:
        raise NotificationRefused("notification without out_trade_no or trade_status")
    try:
        amount = Money.parse(params["total_amount"], "CNY")
    except (KeyError, MoneyError) as exc:
        raise NotificationRefused("notification without a readable total_amount") from exc
    return Notification(channel, out_trade_no, status, amount, params.get("trade_no", ""))


def reply(accepted: bool) -> NotifyReply:
    return NotifyReply(200, b"success") if accepted else NotifyReply(400, b"fail")
