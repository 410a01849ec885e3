"""WeChat Pay API v3 callbacks: a JSON envelope signed like a response
(Wechatpay-Signature over timestamp, nonce and body; key chosen by
Wechatpay-Serial; more than 5 minutes off is refused) whose ``resource`` is
AEAD_AES_256_GCM ciphertext under the APIv3 key. Answered with 204, or a
4xx with {"code": "FAIL", "message": ...} so WeChat Pay sends it again."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pos.money import Money
from pos.payments.channel import PaymentStatus
from pos.payments.notify import Notification, NotificationRefused, NotifyReply
from pos.payments.wechat import v3sign
from pos.payments.wechat.client import WechatConfig

TRADE_STATES = {
    "SUCCESS": PaymentStatus.SUCCEEDED,
    "REFUND": PaymentStatus.SUCCEEDED,
    "NOTPAY": PaymentStatus.PENDING,
    "USERPAYING": PaymentStatus.USER_PAYING,
    "CLOSED": PaymentStatus.CLOSED,
    "REVOKED": PaymentStatus.CLOSED,
    "PAYERROR": PaymentStatus.FAILED,
}


def _object(text: str | bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise NotificationRefused(f"{what} is not JSON") from exc
    if not isinstance(doc, dict):
        raise NotificationRefused(f"{what} is not a JSON object")
    return doc


def parse_notification(
    channel: str, config: WechatConfig, headers: Mapping[str, str], body: bytes, now_epoch: int
) -> Notification:
    try:
        text = body.decode("utf-8")
        v3sign.verify_signed(headers, text, config.platform_keys, now_epoch)
    except (UnicodeDecodeError, v3sign.WechatSignatureError) as exc:
        raise NotificationRefused(f"WeChat Pay callback refused: {exc}") from exc
    envelope = _object(text, "the callback")
    resource = envelope.get("resource")
    if (
        envelope.get("resource_type") != "encrypt-resource"
        or not isinstance(resource, dict)
        or resource.get("algorithm") != "AEAD_AES_256_GCM"
        or resource.get("original_type") != "transaction"
    ):
        raise NotificationRefused("not an encrypted transaction callback")
    try:
        plain = v3sign.decrypt_resource(
            config.apiv3_key,
            str(resource.get("nonce", "")),
            str(resource.get("associated_data", "")),
            str(resource.get("ciphertext", "")),
        )
    except v3sign.WechatSignatureError as exc:
        raise NotificationRefused(str(exc)) from exc
    trade = _object(plain, "the callback resource")
    if trade.get("mchid") != config.mchid or trade.get("appid") != config.appid:
        raise NotificationRefused("callback for another merchant (mchid / appid)")
    status = TRADE_STATES.get(str(trade.get("trade_state", "")))
    out_trade_no = trade.get("out_trade_no")
    amount = trade.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    if status is None or not isinstance(out_trade_no, str) or not out_trade_no:
        raise NotificationRefused("callback without out_trade_no or trade_state")
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        raise NotificationRefused("callback without a readable amount")
    currency = amount.get("currency", "CNY") if isinstance(amount, dict) else "CNY"
    return Notification(
        channel,
        out_trade_no,
        status,
        Money(total, str(currency)),
        str(trade.get("transaction_id", "")),
    )


def reply(accepted: bool, reason: str = "") -> NotifyReply:
    if accepted:
        return NotifyReply(204)
    body = json.dumps({"code": "FAIL", "message": reason or "refused"}, ensure_ascii=False)
    return NotifyReply(400, body.encode(), "application/json")
