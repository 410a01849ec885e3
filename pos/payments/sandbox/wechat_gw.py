"""The sandbox WeChat Pay gateway: API v3 (Native, query, close, refund, refund
query, trade bill) with WECHATPAY2-SHA256-RSA2048 checked on every request and
Wechatpay-* signatures on every answer; API v2 micropay / orderquery / reverse
with XML and MD5 / HMAC-SHA256 signs."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pos.payments import rsa
from pos.payments.sandbox.keys import WECHAT_APPID, WECHAT_MCHID, SandboxKeys
from pos.payments.sandbox.state import SandboxState, Trade, TradeState
from pos.payments.sandbox.wire import Call, Reply
from pos.payments.wechat import v2sign, v3sign

_CST = timezone(timedelta(hours=8))
_TRADE = re.compile(r"^/v3/pay/transactions/out-trade-no/([^/?]+)(/close|/reverse)?$")
_REFUND = re.compile(r"^/v3/refund/domestic/refunds(?:/([^/?]+))?$")
_AUTH_CODE = re.compile(r"^1[0-5]\d{16}$")
_OUT_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_V3_STATE = {
    TradeState.CREATED: "NOTPAY",
    TradeState.PAYING: "USERPAYING",
    TradeState.PAID: "SUCCESS",
    TradeState.CLOSED: "CLOSED",
    TradeState.FAILED: "PAYERROR",
}
V2_PATHS = {"/pay/micropay": "start", "/pay/orderquery": "query", "/secapi/pay/reverse": "cancel"}


def _json(status: int, doc: dict[str, Any] | None) -> tuple[int, str]:
    return status, "" if doc is None else json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _err(status: int, code: str, message: str) -> tuple[int, str]:
    return _json(status, {"code": code, "message": message})


class WechatGateway:
    def __init__(self, state: SandboxState, keys: SandboxKeys) -> None:
        self.state = state
        self.keys = keys
        self.merchant_public = keys.wechat_merchant_private.public_key()
        self.bills: dict[str, str] = {}

    # -- routing ------------------------------------------------------------------------
    def classify(self, call: Call) -> tuple[str, str]:
        path = urlsplit(call.path).path
        if path in V2_PATHS:
            try:
                return V2_PATHS[path], v2sign.from_xml(call.body).get("out_trade_no", "")
            except v2sign.WechatXmlError:
                return V2_PATHS[path], ""
        if m := _TRADE.match(path):
            return ("cancel" if m.group(2) else "query"), unquote(m.group(1))
        if path in ("/v3/pay/transactions/native", "/v3/pay/transactions/codepay"):
            return "start", str(self._body(call).get("out_trade_no", ""))
        if m := _REFUND.match(path):
            if m.group(1):
                found = self.state.find_refund("wechat", unquote(m.group(1)))
                return "refund_query", found[0].out_trade_no if found else ""
            return "refund", str(self._body(call).get("out_trade_no", ""))
        return "other", ""

    @staticmethod
    def _body(call: Call) -> dict[str, Any]:
        try:
            doc = json.loads(call.body or b"{}")
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def handle(self, call: Call, corrupt: bool = False) -> Reply:
        path = urlsplit(call.path).path
        if path in V2_PATHS:
            return self._v2(path, call.body, corrupt)
        if path.startswith("/v3/billdownload/"):
            return self._bill_file(call)
        problem = self._check_request(call)
        if problem is not None:
            # Refused before the merchant is known to be genuine: not signed (as the platform does).
            status, text = problem
            return Reply(status, text.encode())
        with self.state.lock:
            status, text = self._v3(call)
        nonce = secrets.token_hex(16)
        ts = str(int(self.state.clock.now().timestamp()))
        headers = v3sign.signed_headers(
            self.keys.wechat_platform_private,
            self.keys.wechat_platform_serial,
            (text + " ") if corrupt else text,
            ts,
            nonce,
        )
        headers["Request-ID"] = secrets.token_hex(16)
        return Reply(status, text.encode(), headers)

    def _check_request(self, call: Call) -> tuple[int, str] | None:
        try:
            auth = v3sign.parse_authorization(call.headers.get("authorization", ""))
        except v3sign.WechatSignatureError:
            return _err(401, "SIGN_ERROR", "Authorization不合法")
        if auth.mchid != WECHAT_MCHID:
            return _err(401, "SIGN_ERROR", "商户号不匹配")
        if auth.serial_no != self.keys.wechat_merchant_serial:
            return _err(401, "SIGN_ERROR", "证书序列号不匹配")
        now = int(self.state.clock.now().timestamp())
        if not auth.timestamp.isdigit() or abs(now - int(auth.timestamp)) > v3sign.MAX_SKEW_SECONDS:
            return _err(401, "SIGN_ERROR", "请求时间戳超出范围")
        message = v3sign.request_message(
            call.method,
            call.path,
            auth.timestamp,
            auth.nonce_str,
            call.body.decode("utf-8", "replace"),
        )
        if not rsa.verify(self.merchant_public, message.encode(), auth.signature):
            return _err(401, "SIGN_ERROR", "签名错误")
        return None

    # -- API v3 -------------------------------------------------------------------------
    def _v3(self, call: Call) -> tuple[int, str]:
        parts = urlsplit(call.path)
        path, query = parts.path, parse_qs(parts.query)
        body = self._body(call)
        if call.method == "POST" and path == "/v3/pay/transactions/native":
            return self._native(body)
        if call.method == "POST" and path == "/v3/pay/transactions/codepay":
            return self._codepay(body)
        if m := _TRADE.match(path):
            out_trade_no = unquote(m.group(1))
            if m.group(2) == "/reverse" and call.method == "POST":
                return self._reverse_v3(out_trade_no, body)
            if m.group(2) and call.method == "POST":
                return self._close(out_trade_no, body)
            if call.method == "GET" and query.get("mchid") == [WECHAT_MCHID]:
                return self._query(out_trade_no)
            return _err(400, "PARAM_ERROR", "mchid 不正确")
        if m := _REFUND.match(path):
            if m.group(1) and call.method == "GET":
                return self._refund_query(unquote(m.group(1)))
            if call.method == "POST" and not m.group(1):
                return self._refund(body)
        if call.method == "GET" and path == "/v3/bill/tradebill":
            return self._tradebill(query, call.base_url)
        return _err(404, "NOT_FOUND", "无此接口")

    def _native(self, body: dict[str, Any]) -> tuple[int, str]:
        out_trade_no = str(body.get("out_trade_no", ""))
        amount = body.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if body.get("appid") != WECHAT_APPID or body.get("mchid") != WECHAT_MCHID:
            return _err(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        if not _OUT_NO.match(out_trade_no) or not isinstance(total, int) or total <= 0:
            return _err(400, "PARAM_ERROR", "参数错误")
        trade = self.state.get("wechat", out_trade_no)
        if trade is not None:
            if trade.amount != total or trade.mode != "qr":
                return _err(400, "INVALID_REQUEST", "201 商户订单号重复")
            if trade.state == TradeState.CLOSED:
                return _err(400, "ORDER_CLOSED", "订单已关闭")
            if trade.state == TradeState.PAID:
                return _err(400, "ORDERPAID", "该订单已支付")
        else:
            decline = self.state.scenario_for(out_trade_no).decline
            if decline:
                return _err(403, decline, "sandbox decline")
            trade = self.state.create(
                "wechat", out_trade_no, total, str(body.get("description", "")), "qr"
            )
            trade.qr = "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6)
            trade.notify_url = str(body.get("notify_url", ""))
        return _json(200, {"code_url": trade.qr})

    def _codepay(self, body: dict[str, Any]) -> tuple[int, str]:
        """v3 payment code: paid (200, the transaction), still confirming (202
        USERPAYING), or refused with the platform's code."""
        out_trade_no = str(body.get("out_trade_no", ""))
        amount, payer = body.get("amount"), body.get("payer")
        total = amount.get("total") if isinstance(amount, dict) else None
        code = payer.get("auth_code") if isinstance(payer, dict) else None
        if body.get("appid") != WECHAT_APPID or body.get("mchid") != WECHAT_MCHID:
            return _err(400, "APPID_MCHID_NOT_MATCH", "appid和mchid不匹配")
        if not _OUT_NO.match(out_trade_no) or not isinstance(total, int) or total <= 0:
            return _err(400, "PARAM_ERROR", "参数错误")
        if not isinstance(code, str) or not _AUTH_CODE.match(code):
            return _err(400, "INVALID_REQUEST", "付款码无效，请重新扫码")
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            decline = self.state.scenario_for(out_trade_no).decline
            if decline:
                return _err(403, decline, "sandbox decline")
            description = str(body.get("description", ""))
            trade = self.state.create("wechat", out_trade_no, total, description, "code")
        elif trade.amount != total or trade.mode != "code":
            return _err(400, "INVALID_REQUEST", "商户订单号重复")
        if trade.state == TradeState.PAID:
            return _json(200, self.transaction(trade))
        if trade.state == TradeState.PAYING:
            return _err(202, "USERPAYING", "用户支付中，需要输入密码")
        return _err(403, "TRADE_ERROR", "订单已撤销" if trade.reversed_paid else "交易失败")

    def _reverse_v3(self, out_trade_no: str, body: dict[str, Any]) -> tuple[int, str]:
        if body.get("mchid") != WECHAT_MCHID or body.get("appid") != WECHAT_APPID:
            return _err(400, "PARAM_ERROR", "appid或mchid不正确")
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            self.state.tombstone("wechat", out_trade_no)
        elif trade.state != TradeState.CLOSED:
            self.state.cancel(trade)
        return 204, ""

    def transaction(self, trade: Trade) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "appid": WECHAT_APPID,
            "mchid": WECHAT_MCHID,
            "out_trade_no": trade.out_trade_no,
            "trade_type": "NATIVE" if trade.mode == "qr" else "MICROPAY",
            "trade_state": "REFUND"
            if trade.refunds and trade.state == TradeState.PAID
            else ("REVOKED" if trade.reversed_paid else _V3_STATE[trade.state]),
            "trade_state_desc": "",
            "amount": {"total": trade.amount, "currency": "CNY"},
        }
        if trade.state == TradeState.PAID:
            doc.update(
                transaction_id=trade.trade_no,
                bank_type="OTHERS",
                success_time=(trade.paid_at or trade.created).astimezone(_CST).isoformat(),
                payer={"openid": "o" + trade.trade_no[-20:]},
            )
            doc["amount"].update(payer_total=trade.amount, payer_currency="CNY")
        return doc

    def _query(self, out_trade_no: str) -> tuple[int, str]:
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            return _err(404, "ORDER_NOT_EXIST", "订单不存在")
        return _json(200, self.transaction(trade))

    def _close(self, out_trade_no: str, body: dict[str, Any]) -> tuple[int, str]:
        if body.get("mchid") != WECHAT_MCHID:
            return _err(400, "PARAM_ERROR", "mchid 不正确")
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            self.state.tombstone("wechat", out_trade_no)
        elif trade.state == TradeState.PAID:
            return _err(400, "ORDERPAID", "订单已支付，不能关闭")
        else:
            trade.state = TradeState.CLOSED
        return 204, ""

    def _refund_doc(self, trade: Trade, out_refund_no: str) -> dict[str, Any]:
        refund = trade.refunds[out_refund_no]
        return {
            "refund_id": refund.refund_no,
            "out_refund_no": out_refund_no,
            "transaction_id": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "status": "SUCCESS",
            "create_time": refund.created.astimezone(_CST).isoformat(),
            "success_time": refund.created.astimezone(_CST).isoformat(),
            "amount": {
                "total": trade.amount,
                "refund": refund.amount,
                "payer_total": trade.amount,
                "payer_refund": refund.amount,
                "currency": "CNY",
            },
        }

    def _refund(self, body: dict[str, Any]) -> tuple[int, str]:
        trade = self.state.get("wechat", str(body.get("out_trade_no", "")))
        out_refund_no = str(body.get("out_refund_no", ""))
        amount = body.get("amount")
        fen = amount.get("refund") if isinstance(amount, dict) else None
        total = amount.get("total") if isinstance(amount, dict) else None
        if not _OUT_NO.match(out_refund_no) or not isinstance(fen, int):
            return _err(400, "PARAM_ERROR", "参数错误")
        if trade is None:
            return _err(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if total != trade.amount:
            return _err(400, "INVALID_REQUEST", "订单金额与原订单不一致")
        refund, err = self.state.refund(trade, out_refund_no, fen)
        if refund is None:
            if err == "not_paid":
                return _err(400, "INVALID_REQUEST", "订单未支付或已撤销")
            return _err(400, "INVALID_REQUEST", "退款金额超过可退金额")
        return _json(200, self._refund_doc(trade, out_refund_no))

    def _refund_query(self, out_refund_no: str) -> tuple[int, str]:
        found = self.state.find_refund("wechat", out_refund_no)
        if found is None:
            return _err(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return _json(200, self._refund_doc(found[0], out_refund_no))

    def _tradebill(self, query: dict[str, list[str]], base_url: str) -> tuple[int, str]:
        day = (query.get("bill_date") or [""])[0]
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", day):
            return _err(400, "PARAM_ERROR", "bill_date 格式错误")
        from pos.payments.sandbox.bills import wechat_trade_bill

        data = wechat_trade_bill(self.state, day)
        token = secrets.token_hex(8)
        self.bills[token] = day
        return _json(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(data).hexdigest(),
                "download_url": f"{base_url}/v3/billdownload/file?token={token}",
            },
        )

    def _bill_file(self, call: Call) -> Reply:
        from pos.payments.sandbox.bills import wechat_trade_bill

        token = (parse_qs(urlsplit(call.path).query).get("token") or [""])[0]
        if token not in self.bills or self._check_request(call) is not None:
            return Reply(404, _err(404, "NO_STATEMENT_EXIST", "账单不存在")[1].encode())
        with self.state.lock:
            data = wechat_trade_bill(self.state, self.bills[token])
        return Reply(200, data, content_type="text/csv;charset=utf-8")

    # -- API v2 (micropay) ---------------------------------------------------------------
    def _v2(self, path: str, body: bytes, corrupt: bool) -> Reply:
        try:
            req = v2sign.from_xml(body)
        except v2sign.WechatXmlError:
            return self._v2_fail("XML格式错误")
        sign_type = req.get("sign_type") or v2sign.MD5
        if not v2sign.verify(req, self.keys.wechat_v2_key):
            return self._v2_fail("签名错误")
        if req.get("appid") != WECHAT_APPID or req.get("mch_id") != WECHAT_MCHID:
            return self._v2_fail("appid和mch_id不匹配")
        with self.state.lock:
            result = {
                "/pay/micropay": self._micropay,
                "/pay/orderquery": self._orderquery,
                "/secapi/pay/reverse": self._reverse,
            }[path](req)
        out = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "appid": WECHAT_APPID,
            "mch_id": WECHAT_MCHID,
            "nonce_str": secrets.token_hex(8),
            **result,
        }
        if sign_type != v2sign.MD5:
            out["sign_type"] = sign_type
        out["sign"] = v2sign.sign(out, self.keys.wechat_v2_key, sign_type)
        if corrupt:
            out["sign"] = out["sign"][::-1]
        return Reply(200, v2sign.to_xml(out), content_type="text/xml;charset=utf-8")

    @staticmethod
    def _v2_fail(message: str) -> Reply:
        xml = v2sign.to_xml({"return_code": "FAIL", "return_msg": message})
        return Reply(200, xml, content_type="text/xml;charset=utf-8")

    @staticmethod
    def _v2_err(code: str, text: str, **extra: str) -> dict[str, str]:
        return {"result_code": "FAIL", "err_code": code, "err_code_des": text, **extra}

    def _v2_paid(self, trade: Trade) -> dict[str, str]:
        return {
            "result_code": "SUCCESS",
            "openid": "o" + trade.trade_no[-20:],
            "is_subscribe": "N",
            "trade_type": "MICROPAY",
            "bank_type": "OTHERS",
            "fee_type": "CNY",
            "total_fee": str(trade.amount),
            "cash_fee": str(trade.amount),
            "transaction_id": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "time_end": (trade.paid_at or trade.created).astimezone(_CST).strftime("%Y%m%d%H%M%S"),
        }

    def _micropay(self, req: dict[str, str]) -> dict[str, str]:
        out_trade_no = req.get("out_trade_no", "")
        fee = req.get("total_fee", "")
        if not _OUT_NO.match(out_trade_no) or not fee.isdigit() or int(fee) <= 0:
            return self._v2_err("PARAM_ERROR", "参数错误")
        if not _AUTH_CODE.match(req.get("auth_code", "")):
            return self._v2_err("AUTH_CODE_INVALID", "付款码无效，请重新扫码")
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            decline = self.state.scenario_for(out_trade_no).decline
            if decline:
                return self._v2_err(decline, "sandbox decline")
            trade = self.state.create("wechat", out_trade_no, int(fee), req.get("body", ""), "code")
        elif trade.amount != int(fee) or trade.mode != "code":
            return self._v2_err("OUT_TRADE_NO_USED", "商户订单号重复")
        if trade.state == TradeState.PAID:
            return self._v2_paid(trade)
        if trade.state == TradeState.PAYING:
            return self._v2_err("USERPAYING", "需要用户输入支付密码")
        if trade.reversed_paid or trade.state == TradeState.CLOSED:
            return self._v2_err("ORDERREVERSED", "订单已撤销")
        return self._v2_err("PAYERROR", "支付失败")

    def _orderquery(self, req: dict[str, str]) -> dict[str, str]:
        trade = self.state.get("wechat", req.get("out_trade_no", ""))
        if trade is None:
            return self._v2_err("ORDERNOTEXIST", "此交易订单号不存在")
        if trade.state == TradeState.PAID:
            out = self._v2_paid(trade)
            out["trade_state"] = "REFUND" if trade.refunds else "SUCCESS"
            return out
        state = (
            "REVOKED"
            if trade.reversed_paid or trade.state == TradeState.CLOSED
            else (_V3_STATE[trade.state])
        )
        return {
            "result_code": "SUCCESS",
            "out_trade_no": trade.out_trade_no,
            "trade_state": state,
            "total_fee": str(trade.amount),
        }

    def _reverse(self, req: dict[str, str]) -> dict[str, str]:
        out_trade_no = req.get("out_trade_no", "")
        trade = self.state.get("wechat", out_trade_no)
        if trade is None:
            self.state.tombstone("wechat", out_trade_no)
        elif trade.state != TradeState.CLOSED:
            self.state.cancel(trade)
        return {"result_code": "SUCCESS", "recall": "N"}

    # -- asynchronous notification ----------------------------------------------------
    def notification(self, trade: Trade) -> tuple[dict[str, str], bytes]:
        """The TRANSACTION.SUCCESS callback: the transaction encrypted under the
        APIv3 key, the envelope signed with the platform key."""
        nonce = secrets.token_hex(6)  # AEAD_AES_256_GCM takes a 12-byte nonce
        plain = json.dumps(self.transaction(trade), ensure_ascii=False).encode()
        envelope = {
            "id": "EV-" + secrets.token_hex(10),
            "create_time": self.state.clock.now().astimezone(_CST).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": v3sign.encrypt_resource(
                    self.keys.wechat_apiv3_key, nonce, "transaction", plain
                ),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }
        text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        headers = v3sign.signed_headers(
            self.keys.wechat_platform_private,
            self.keys.wechat_platform_serial,
            text,
            str(int(self.state.clock.now().timestamp())),
            secrets.token_hex(16),
        )
        headers["Content-Type"] = "application/json"
        return headers, text.encode()
