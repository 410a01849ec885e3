"""WeChat Pay gateways: API v3 (JSON, RSA-signed both ways) and API v2
micropay (XML, MD5/HMAC-SHA256). Every answer returned has been verified;
anything else raises GatewayUnreachable (certainly not received) or
OutcomeUnknown (sent, no trustworthy answer)."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from pos.clock import Clock
from pos.money import Money
from pos.payments import rsa
from pos.payments.transport import OutcomeUnknown, Transport
from pos.payments.wechat import v2sign, v3sign

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WechatConfig:
    base_url: str  # https://api.mch.weixin.qq.com
    appid: str
    mchid: str
    private_key: rsa.PrivateKey
    serial_no: str  # the merchant API certificate's serial
    platform_keys: Mapping[str, rsa.PublicKey]  # platform certificate serial -> key
    apiv3_key: bytes = b""
    v2_key: str = ""
    v2_sign_type: str = v2sign.HMAC_SHA256
    notify_url: str = "https://example.invalid/wechat/notify"
    client_ip: str = "127.0.0.1"
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class V3Reply:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.body.get("code", ""))

    def text(self, name: str) -> str:
        value = self.body.get(name, "")
        return value if isinstance(value, str) else str(value)

    def amount_fen(self, name: str = "total") -> int | None:
        amount = self.body.get("amount")
        value = amount.get(name) if isinstance(amount, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class WechatClient:
    def __init__(self, config: WechatConfig, clock: Clock, transport: Transport | None = None):
        self.config = config
        self._clock = clock
        self._http = transport or Transport(timeout=config.timeout)

    def _epoch(self) -> int:
        return int(self._clock.now().timestamp())

    # -- API v3 -----------------------------------------------------------------
    def v3(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> V3Reply:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        auth = v3sign.authorize(
            mchid=self.config.mchid,
            serial_no=self.config.serial_no,
            key=self.config.private_key,
            method=method,
            url=path,
            body=text,
            timestamp=str(self._epoch()),
            nonce=secrets.token_hex(16),
        )
        headers = {"Authorization": auth.header(), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        reply = self._http.request(
            method, self.config.base_url + path, headers=headers, content=text.encode() or None
        )
        if reply.status >= 500:
            raise OutcomeUnknown(f"WeChat Pay HTTP {reply.status}")
        try:
            raw = reply.body.decode("utf-8")
            v3sign.verify_signed(reply.headers, raw, self.config.platform_keys, self._epoch())
            data = json.loads(raw) if raw else {}
        except (UnicodeDecodeError, ValueError) as exc:
            log.warning(
                "wechat %s %s: untrusted response (HTTP %s): %s", method, path, reply.status, exc
            )
            raise OutcomeUnknown(f"untrusted WeChat Pay response: {exc}") from exc
        if not isinstance(data, dict):
            raise OutcomeUnknown("WeChat Pay response is not a JSON object")
        if reply.status >= 300:
            log.info("wechat %s %s: HTTP %s code=%s", method, path, reply.status, data.get("code"))
        return V3Reply(reply.status, data)

    def native(self, out_trade_no: str, amount: Money, description: str, expire: str) -> V3Reply:
        body = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": description or out_trade_no,
            "out_trade_no": out_trade_no,
            "time_expire": expire,
            "notify_url": self.config.notify_url,
            "amount": {"total": amount.minor, "currency": amount.currency},
        }
        return self.v3("POST", "/v3/pay/transactions/native", body)

    def codepay(
        self, out_trade_no: str, amount: Money, description: str, auth_code: str
    ) -> V3Reply:
        """API v3 payment code (付款码支付): the cashier scanned the shopper's code."""
        body = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": description or out_trade_no,
            "out_trade_no": out_trade_no,
            "payer": {"auth_code": auth_code},
            "amount": {"total": amount.minor, "currency": amount.currency},
            "scene_info": {"device_ip": self.config.client_ip},
        }
        return self.v3("POST", "/v3/pay/transactions/codepay", body)

    def reverse(self, out_trade_no: str) -> V3Reply:
        """API v3 reverse of a payment-code order: closed if unpaid, money back if paid."""
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/reverse"
        return self.v3("POST", path, {"appid": self.config.appid, "mchid": self.config.mchid})

    def query(self, out_trade_no: str) -> V3Reply:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}"
        return self.v3("GET", f"{path}?mchid={quote(self.config.mchid)}")

    def close(self, out_trade_no: str) -> V3Reply:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close"
        return self.v3("POST", path, {"mchid": self.config.mchid})

    def refund(
        self, out_trade_no: str, out_refund_no: str, amount: Money, total: Money, reason: str
    ) -> V3Reply:
        body: dict[str, Any] = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "amount": {"refund": amount.minor, "total": total.minor, "currency": amount.currency},
        }
        if reason:
            body["reason"] = reason
        return self.v3("POST", "/v3/refund/domestic/refunds", body)

    def refund_query(self, out_refund_no: str) -> V3Reply:
        return self.v3("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no)}")

    def trade_bill(self, bill_date: str) -> bytes:
        """The day's trade bill (CSV), checked against the SHA1 the API gives."""
        reply = self.v3("GET", f"/v3/bill/tradebill?bill_date={bill_date}&bill_type=ALL")
        url = reply.text("download_url")
        if reply.status != 200 or not url:
            raise OutcomeUnknown(f"no bill for {bill_date}: {reply.code or reply.status}")
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        auth = v3sign.authorize(
            mchid=self.config.mchid,
            serial_no=self.config.serial_no,
            key=self.config.private_key,
            method="GET",
            url=path,
            body="",
            timestamp=str(self._epoch()),
            nonce=secrets.token_hex(16),
        )
        data = self._http.request("GET", url, headers={"Authorization": auth.header()})
        if data.status != 200 or hashlib.sha1(data.body).hexdigest() != reply.text("hash_value"):
            raise OutcomeUnknown("the downloaded bill does not match its hash")
        return data.body

    # -- API v2 (payment code) ------------------------------------------------------
    def v2(self, path: str, params: Mapping[str, str]) -> dict[str, str]:
        full = {
            "appid": self.config.appid,
            "mch_id": self.config.mchid,
            "nonce_str": secrets.token_hex(16),
            "sign_type": self.config.v2_sign_type,
            **params,
        }
        full["sign"] = v2sign.sign(full, self.config.v2_key, self.config.v2_sign_type)
        reply = self._http.request(
            "POST",
            self.config.base_url + path,
            headers={"Content-Type": "text/xml"},
            content=v2sign.to_xml(full),
        )
        if reply.status >= 500:
            raise OutcomeUnknown(f"WeChat Pay HTTP {reply.status}")
        try:
            data = v2sign.from_xml(reply.body)
        except v2sign.WechatXmlError as exc:
            raise OutcomeUnknown(f"untrusted WeChat Pay response: {exc}") from exc
        if data.get("return_code") != "SUCCESS":
            # Communication-level refusal; unsigned, so it proves nothing about money.
            raise OutcomeUnknown(f"WeChat Pay return_code FAIL: {data.get('return_msg', '')}")
        if not v2sign.verify(data, self.config.v2_key):
            raise OutcomeUnknown("WeChat Pay response signature does not verify")
        if data.get("result_code") != "SUCCESS":
            log.info("wechat %s: err_code=%s", path, data.get("err_code"))
        return data

    def micropay(
        self, out_trade_no: str, amount: Money, body: str, auth_code: str
    ) -> dict[str, str]:
        return self.v2(
            "/pay/micropay",
            {
                "body": body or out_trade_no,
                "out_trade_no": out_trade_no,
                "total_fee": str(amount.minor),
                "fee_type": amount.currency,
                "spbill_create_ip": self.config.client_ip,
                "auth_code": auth_code,
            },
        )

    def order_query(self, out_trade_no: str) -> dict[str, str]:
        return self.v2("/pay/orderquery", {"out_trade_no": out_trade_no})

    def reverse_v2(self, out_trade_no: str) -> dict[str, str]:
        return self.v2("/secapi/pay/reverse", {"out_trade_no": out_trade_no})
