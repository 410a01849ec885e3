"""The sandbox Alipay OpenAPI gateway: verifies the terminal's RSA2 request
signature, answers alipay.trade.* like the real gateway (codes 10000 / 10003 /
20000 / 4000x with sub_codes), and signs each response node's exact text."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pos.payments import rsa
from pos.payments.alipay.sign import (
    response_node,
    sign_content,
    signed_response,
    verify_params,
)
from pos.payments.sandbox.keys import ALIPAY_APP_ID, SandboxKeys
from pos.payments.sandbox.state import SandboxState, Trade, TradeState
from pos.payments.sandbox.wire import Call, Reply, beijing, fen_to_yuan

OPS = {
    "alipay.trade.precreate": "start",
    "alipay.trade.pay": "start",
    "alipay.trade.query": "query",
    "alipay.trade.cancel": "cancel",
    "alipay.trade.close": "cancel",
    "alipay.trade.refund": "refund",
    "alipay.trade.fastpay.refund.query": "refund_query",
    "alipay.data.dataservice.bill.downloadurl.query": "bill",
}
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_AUTH_CODE = re.compile(r"^(2[5-9]|30)\d{14,22}$")
_STATUS = {
    TradeState.PAYING: "WAIT_BUYER_PAY",
    TradeState.PAID: "TRADE_SUCCESS",
    TradeState.CLOSED: "TRADE_CLOSED",
    TradeState.FAILED: "TRADE_CLOSED",
}
_SUCCESS = {"code": "10000", "msg": "Success"}


def _fail(sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


def _to_fen(text: object) -> int | None:
    if not isinstance(text, str) or not _AMOUNT.match(text):
        return None
    try:
        fen = int(Decimal(text) * 100)
    except InvalidOperation:
        return None
    return fen if fen > 0 else None


def parse_form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class AlipayGateway:
    def __init__(self, state: SandboxState, keys: SandboxKeys) -> None:
        self.state = state
        self.keys = keys
        self.app_public = keys.alipay_app_private.public_key()
        self.bills: dict[str, str] = {}  # token -> bill date

    def classify(self, call: Call) -> tuple[str, str]:
        params = parse_form(call.body)
        try:
            biz = json.loads(params.get("biz_content", "{}"))
        except ValueError:
            biz = {}
        out_trade_no = biz.get("out_trade_no", "") if isinstance(biz, dict) else ""
        return OPS.get(params.get("method", ""), "other"), str(out_trade_no)

    def handle(self, call: Call, corrupt: bool = False) -> Reply:
        params = parse_form(call.body)
        method = params.get("method", "")
        node = self._dispatch(params, method, call.base_url)
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        name = method if method in OPS else "error"
        body = signed_response(name, text, self.keys.alipay_platform_private)
        if corrupt:
            wrong = rsa.sign(self.keys.alipay_platform_private, (text + " ").encode())
            body = f'{{"{response_node(name)}":{text},"sign":{json.dumps(wrong)}}}'
        return Reply(200, body.encode("utf-8"))

    def _dispatch(self, params: dict[str, str], method: str, base_url: str) -> dict[str, Any]:
        if not params.get("sign"):
            return {
                "code": "40001",
                "msg": "Missing Required Arguments",
                "sub_code": "isv.missing-signature",
                "sub_msg": "缺少签名参数",
            }
        if params.get("app_id") != ALIPAY_APP_ID:
            return {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-app-id",
                "sub_msg": "无效的AppID参数",
            }
        if params.get("sign_type") != "RSA2" or not verify_params(
            params, self.app_public, notification=False
        ):
            return {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
                "sub_msg": f"验签出错，验签字符串为【{sign_content(params)}】",
            }
        if method not in OPS:
            return {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-method",
                "sub_msg": "不存在的方法名",
            }
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return _fail("ACQ.INVALID_PARAMETER", "biz_content 不是合法的JSON")
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "alipay.trade.precreate": lambda b: self._precreate(b, params.get("notify_url", "")),
            "alipay.trade.pay": lambda b: self._pay(b, params.get("notify_url", "")),
            "alipay.trade.query": self._query,
            "alipay.trade.cancel": self._cancel,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.data.dataservice.bill.downloadurl.query": lambda b: self._bill(b, base_url),
        }
        with self.state.lock:
            return handlers[method](biz)

    # -- trade methods --------------------------------------------------------------
    def _new_trade(self, biz: dict[str, Any], mode: str, notify_url: str) -> Trade | dict[str, Any]:
        out_trade_no = str(biz.get("out_trade_no", ""))
        fen = _to_fen(biz.get("total_amount"))
        if not out_trade_no or len(out_trade_no) > 64 or fen is None:
            return _fail("ACQ.INVALID_PARAMETER", "参数无效")
        existing = self.state.get("alipay", out_trade_no)
        if existing is not None:
            if existing.amount != fen or existing.mode != mode:
                return _fail("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            if existing.state == TradeState.CLOSED:
                return _fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if existing.state == TradeState.PAID and mode == "qr":
                return _fail("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            return existing
        decline = self.state.scenario_for(out_trade_no).decline
        if decline:
            return _fail(decline, "sandbox decline")
        trade = self.state.create("alipay", out_trade_no, fen, str(biz.get("subject", "")), mode)
        trade.notify_url = notify_url
        return trade

    def _precreate(self, biz: dict[str, Any], notify_url: str) -> dict[str, Any]:
        trade = self._new_trade(biz, "qr", notify_url)
        if isinstance(trade, dict):
            return trade
        if not trade.qr:
            trade.qr = "https://qr.alipay.com/bax0" + secrets.token_hex(10)
        return {**_SUCCESS, "out_trade_no": trade.out_trade_no, "qr_code": trade.qr}

    def _pay(self, biz: dict[str, Any], notify_url: str) -> dict[str, Any]:
        if biz.get("scene") != "bar_code":
            return _fail("ACQ.INVALID_PARAMETER", "scene 必须为 bar_code")
        if not _AUTH_CODE.match(str(biz.get("auth_code", ""))):
            return _fail("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        trade = self._new_trade(biz, "code", notify_url)
        if isinstance(trade, dict):
            return trade
        base = {
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "buyer_logon_id": trade.buyer,
            "total_amount": fen_to_yuan(trade.amount),
        }
        if trade.state == TradeState.PAID:
            paid = fen_to_yuan(trade.amount)
            return {
                **_SUCCESS,
                **base,
                "buyer_pay_amount": paid,
                "receipt_amount": paid,
                "invoice_amount": paid,
                "point_amount": "0.00",
                "buyer_user_id": "2088" + trade.trade_no[-12:],
                "gmt_payment": beijing(trade.paid_at or trade.created),
                "fund_bill_list": [{"amount": paid, "fund_channel": "ALIPAYACCOUNT"}],
            }
        if trade.state == TradeState.PAYING:
            return {"code": "10003", "msg": " order success pay inprocess", **base}
        return _fail("ACQ.PAYMENT_FAIL", "支付失败")

    def _trade_or_fail(self, biz: dict[str, Any]) -> Trade | dict[str, Any]:
        trade = self.state.get("alipay", str(biz.get("out_trade_no", "")))
        if trade is None or (trade.state == TradeState.CREATED and trade.amount):
            return _fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade_or_fail(biz)
        if isinstance(trade, dict):
            return trade
        out = {
            **_SUCCESS,
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "trade_status": _STATUS[trade.state],
            "buyer_logon_id": trade.buyer,
            "total_amount": fen_to_yuan(trade.amount),
        }
        if trade.state == TradeState.PAID:
            out.update(
                buyer_pay_amount=out["total_amount"],
                receipt_amount=out["total_amount"],
                send_pay_date=beijing(trade.paid_at or trade.created),
            )
        return out

    def _cancel(self, biz: dict[str, Any]) -> dict[str, Any]:
        out_trade_no = str(biz.get("out_trade_no", ""))
        trade = self.state.get("alipay", out_trade_no)
        if trade is None:
            trade = self.state.tombstone("alipay", out_trade_no)
            action = "close"
        elif trade.state == TradeState.CLOSED:
            action = "refund" if trade.reversed_paid else "close"
        else:
            action = self.state.cancel(trade)
        return {
            **_SUCCESS,
            "out_trade_no": out_trade_no,
            "trade_no": trade.trade_no,
            "retry_flag": "N",
            "action": action,
        }

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade_or_fail(biz)
        if isinstance(trade, dict):
            return trade
        if trade.state == TradeState.PAID:
            return _fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.state = TradeState.CLOSED
        return {**_SUCCESS, "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no}

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade_or_fail(biz)
        if isinstance(trade, dict):
            return trade
        fen = _to_fen(biz.get("refund_amount"))
        out_request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        if fen is None:
            return _fail("ACQ.INVALID_PARAMETER", "退款金额无效")
        refund, err = self.state.refund(trade, out_request_no, fen)
        if refund is None:
            sub = {
                "mismatch": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                "not_paid": "ACQ.TRADE_NOT_ALLOW_REFUND",
                "too_much": "ACQ.REASON_TRADE_REFUND_FEE_ERR",
            }[err]
            return _fail(sub, "退款失败")
        return {
            **_SUCCESS,
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "buyer_logon_id": trade.buyer,
            "fund_change": "Y",
            "refund_fee": fen_to_yuan(trade.refunded),
            "gmt_refund_pay": beijing(refund.created),
        }

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade_or_fail(biz)
        if isinstance(trade, dict):
            return trade
        out_request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        refund = trade.refunds.get(out_request_no)
        out = {
            **_SUCCESS,
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "out_request_no": out_request_no,
        }
        if refund is not None:
            out.update(
                refund_amount=fen_to_yuan(refund.amount),
                total_amount=fen_to_yuan(trade.amount),
                refund_status="REFUND_SUCCESS",
                gmt_refund_pay=beijing(refund.created),
            )
        return out

    def _bill(self, biz: dict[str, Any], base_url: str) -> dict[str, Any]:
        day = str(biz.get("bill_date", ""))
        if biz.get("bill_type") not in ("trade", "signcustomer") or not re.match(
            r"^\d{4}-\d{2}-\d{2}$", day
        ):
            return _fail("isp.bill_not_exist", "参数不合法")
        token = secrets.token_hex(8)
        self.bills[token] = day
        return {**_SUCCESS, "bill_download_url": f"{base_url}/bills/alipay/{token}.zip"}

    # -- asynchronous notification ----------------------------------------------------
    def notification(self, trade: Trade) -> tuple[dict[str, str], bytes]:
        """The trade_status_sync POST Alipay sends to the trade's notify_url."""
        paid = fen_to_yuan(trade.amount)
        params = {
            "notify_time": beijing(self.state.clock.now()),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": ALIPAY_APP_ID,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": trade.buyer,
            "trade_status": _STATUS[trade.state],
            "total_amount": paid,
            "receipt_amount": paid,
            "buyer_pay_amount": paid,
            "subject": trade.subject,
            "gmt_create": beijing(trade.created),
            "gmt_payment": beijing(trade.paid_at or trade.created),
        }
        signed = {k: v for k, v in params.items() if k != "sign_type"}
        params["sign"] = rsa.sign(self.keys.alipay_platform_private, sign_content(signed).encode())
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
        return headers, urlencode(params).encode()
