"""The Alipay OpenAPI gateway: signed form requests, verified JSON responses.

Every call returns an `AlipayReply` whose signature has been verified, or
raises GatewayUnreachable (certainly not received) / OutcomeUnknown (sent,
no trustworthy answer: a timeout, a 5xx, a torn connection, a body that is not
Alipay's or whose signature does not verify)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from pos.clock import Clock
from pos.messages import msg
from pos.money import Money, MoneyError
from pos.payments import rsa
from pos.payments.alipay.sign import AlipayFormatError, sign_params, verify_response
from pos.payments.transport import OutcomeUnknown, Transport

log = logging.getLogger(__name__)

CODE_SUCCESS = "10000"
CODE_PAYING = "10003"  # the shopper is still confirming on the phone: poll
CODE_UNAVAILABLE = "20000"  # service unavailable: outcome unknown
CODE_BUSINESS_FAILED = "40004"
UNKNOWN_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "aop.unknow-error", "isp.unknow-error"})
_BEIJING = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class AlipayConfig:
    gateway: str
    app_id: str
    private_key: rsa.PrivateKey
    alipay_public_key: rsa.PublicKey
    notify_url: str = ""
    store_id: str = ""
    terminal_id: str = ""
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class AlipayReply:
    code: str
    msg: str
    sub_code: str
    sub_msg: str
    body: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.code == CODE_SUCCESS

    def text(self, name: str) -> str:
        value = self.body.get(name, "")
        return value if isinstance(value, str) else str(value)

    def amount(self, name: str, currency: str = "CNY") -> Money | None:
        text = self.text(name)
        if not text:
            return None
        try:
            return Money.parse(text, currency)
        except MoneyError as exc:
            raise OutcomeUnknown(f"Alipay sent an unreadable amount {name}={text!r}") from exc


def yuan(amount: Money) -> str:
    """Fen to Alipay's yuan text with two decimals, at the edge only."""
    if amount.currency != "CNY":
        raise MoneyError(msg("payments.config.alipay_currency", currency=amount.currency))
    return amount.amount_text()


class AlipayClient:
    def __init__(self, config: AlipayConfig, clock: Clock, transport: Transport | None = None):
        self.config = config
        self._clock = clock
        self._http = transport or Transport(timeout=config.timeout)

    def call(self, method: str, biz: Mapping[str, Any], *, notify: bool = False) -> AlipayReply:
        now = (self._clock.now() + _BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        params = {
            "app_id": self.config.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": now,
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        if notify and self.config.notify_url:
            params["notify_url"] = self.config.notify_url
        params["sign"] = sign_params(params, self.config.private_key)
        reply = self._http.request(
            "POST",
            self.config.gateway,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            content=urlencode(params).encode(),
        )
        if reply.status >= 500:
            raise OutcomeUnknown(f"Alipay gateway HTTP {reply.status}")
        try:
            text = reply.body.decode("utf-8")
            node = verify_response(text, method, self.config.alipay_public_key)
        except (UnicodeDecodeError, AlipayFormatError) as exc:
            log.warning("alipay %s: untrusted response (HTTP %s): %s", method, reply.status, exc)
            raise OutcomeUnknown(f"untrusted Alipay response: {exc}") from exc
        result = AlipayReply(
            code=str(node.get("code", "")),
            msg=str(node.get("msg", "")),
            sub_code=str(node.get("sub_code", "")),
            sub_msg=str(node.get("sub_msg", "")),
            body=node,
        )
        if result.code != CODE_SUCCESS:
            log.info("alipay %s: code=%s sub_code=%s", method, result.code, result.sub_code)
        return result

    # -- the operations ---------------------------------------------------------------
    def _trade(self, out_trade_no: str, amount: Money, subject: str) -> dict[str, Any]:
        biz: dict[str, Any] = {
            "out_trade_no": out_trade_no,
            "total_amount": yuan(amount),
            "subject": subject or out_trade_no,
        }
        if self.config.store_id:
            biz["store_id"] = self.config.store_id
        if self.config.terminal_id:
            biz["terminal_id"] = self.config.terminal_id
        return biz

    def precreate(
        self, out_trade_no: str, amount: Money, subject: str, timeout_minutes: int
    ) -> AlipayReply:
        biz = self._trade(out_trade_no, amount, subject)
        biz["timeout_express"] = f"{max(1, timeout_minutes)}m"
        return self.call("alipay.trade.precreate", biz, notify=True)

    def pay(self, out_trade_no: str, amount: Money, subject: str, auth_code: str) -> AlipayReply:
        biz = self._trade(out_trade_no, amount, subject)
        biz.update(scene="bar_code", auth_code=auth_code)
        return self.call("alipay.trade.pay", biz, notify=True)

    def query(self, out_trade_no: str) -> AlipayReply:
        return self.call("alipay.trade.query", {"out_trade_no": out_trade_no})

    def cancel(self, out_trade_no: str) -> AlipayReply:
        return self.call("alipay.trade.cancel", {"out_trade_no": out_trade_no})

    def close(self, out_trade_no: str) -> AlipayReply:
        return self.call("alipay.trade.close", {"out_trade_no": out_trade_no})

    def refund(
        self, out_trade_no: str, out_request_no: str, amount: Money, reason: str
    ) -> AlipayReply:
        biz = {
            "out_trade_no": out_trade_no,
            "out_request_no": out_request_no,
            "refund_amount": yuan(amount),
            "refund_reason": reason,
        }
        return self.call("alipay.trade.refund", biz)

    def refund_query(self, out_trade_no: str, out_request_no: str) -> AlipayReply:
        biz = {
            "out_trade_no": out_trade_no,
            "out_request_no": out_request_no,
            "query_options": ["gmt_refund_pay"],
        }
        return self.call("alipay.trade.fastpay.refund.query", biz)

    def bill_download_url(self, bill_date: str, bill_type: str = "trade") -> AlipayReply:
        return self.call(
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": bill_type, "bill_date": bill_date},
        )

    def download(self, url: str) -> bytes:
        reply = self._http.request("GET", url)
        if reply.status != 200:
            raise OutcomeUnknown(f"bill download HTTP {reply.status}")
        return reply.body
