"""Every code a payment platform can send, and the terminal's own outcomes, as a
short message in Chinese and English with the next step for the cashier or
shopper. An unknown code gets a safe generic message; the raw code is logged."""

from __future__ import annotations

import logging

from pos.errors import PosError
from pos.payments.card.messages import CATALOGUE as CARD
from pos.payments.channel import Notice

log = logging.getLogger(__name__)

# (en, zh): message and next step in one short sentence pair.
_T = tuple[str, str]

_ASK_OTHER = ("Ask the shopper to pay another way.", "请顾客换一种方式付款。")
_RETRY = ("Try again in a moment.", "请稍后重试。")
_CALL = ("Call the manager to check the payment settings.", "请联系店长检查支付设置。")
_RESCAN = (
    "Ask the shopper to refresh the payment code, then scan again.",
    "请顾客刷新付款码后重新扫描。",
)


def _t(en: str, zh: str, step: _T) -> _T:
    return f"{en} {step[0]}", f"{zh}{step[1]}"


_POS: dict[str, _T] = {
    "waiting": ("Waiting for the shopper to scan and pay.", "等待顾客扫码付款。"),
    "user_paying": (
        "The shopper is confirming the payment on the phone.",
        "顾客正在手机上确认付款。",
    ),
    "checking": ("Checking the payment result with the platform…", "正在向支付平台查询结果…"),
    "succeeded": ("Payment received.", "收款成功。"),
    "cancelling": ("Cancelling the payment with the platform…", "正在撤销本次支付…"),
    "closed": _t(
        "The payment was cancelled and no money was taken.", "本次支付已撤销，未扣款。", _ASK_OTHER
    ),
    "timeout": _t(
        "The shopper did not pay in time; the payment was cancelled.",
        "顾客未在规定时间内付款，已撤销。",
        _ASK_OTHER,
    ),
    "cashier_cancelled": (
        "Cancelled at the counter; no money was taken.",
        "已在收银台取消，未扣款。",
    ),
    "unknown": (
        "The payment result is not known yet. Do not take another payment for this "
        "order; the terminal keeps checking.",
        "支付结果暂未确认。请勿重复收款，终端会继续查询。",
    ),
    "unreachable": _t("The payment platform cannot be reached.", "无法连接支付平台。", _ASK_OTHER),
    "circuit_open": _t(
        "This payment channel is failing right now.", "该支付渠道暂时故障。", _ASK_OTHER
    ),
    "amount_mismatch": _t(
        "The platform reported a different amount.", "支付平台返回的金额不符。", _CALL
    ),
    "open_intent": (
        "This order has a payment still being checked; wait for its result.",
        "该订单有一笔支付正在确认中，请等待结果。",
    ),
    "refund_unknown": (
        "The refund result is not known yet; the terminal keeps checking.",
        "退款结果暂未确认，终端会继续查询。",
    ),
    "refund_succeeded": ("Refund done.", "退款成功。"),
}

_ALIPAY: dict[str, _T] = {
    "10000": ("Done.", "成功。"),
    "10003": _POS["user_paying"],
    "20000": _t("Alipay is busy.", "支付宝服务暂不可用。", _RETRY),
    "20001": _t("The Alipay app authorisation is not valid.", "支付宝授权无效。", _CALL),
    "40001": _t("A required parameter was missing.", "缺少必要参数。", _CALL),
    "40002": _t("Alipay rejected a parameter.", "支付宝拒绝了请求参数。", _CALL),
    "40004": _t("Alipay declined the request.", "支付宝业务处理失败。", _ASK_OTHER),
    "40006": _t("This merchant lacks the Alipay permission.", "商户缺少支付宝接口权限。", _CALL),
    "isv.invalid-signature": _t(
        "Alipay could not verify the terminal's signature.", "支付宝验签失败。", _CALL
    ),
    "isv.missing-signature": _t("The request was not signed.", "请求缺少签名。", _CALL),
    "isv.invalid-app-id": _t("The Alipay app id is wrong.", "支付宝应用ID错误。", _CALL),
    "isv.invalid-timestamp": _t("The terminal's clock is wrong.", "终端时间不正确。", _CALL),
    "isv.insufficient-isv-permissions": _t("Missing Alipay permission.", "缺少接口权限。", _CALL),
    "aop.unknow-error": _t("Alipay had an internal error.", "支付宝系统异常。", _RETRY),
    "isp.unknow-error": _t("Alipay had an internal error.", "支付宝系统异常。", _RETRY),
    "ACQ.SYSTEM_ERROR": _t("Alipay had an internal error.", "支付宝系统异常。", _RETRY),
    "ACQ.INVALID_PARAMETER": _t("Alipay rejected a parameter.", "参数无效。", _CALL),
    "ACQ.ACCESS_FORBIDDEN": _t(
        "This merchant may not use this Alipay service.", "商户无权使用该服务。", _CALL
    ),
    "ACQ.EXIST_FORBIDDEN_WORD": _t(
        "The item description contains a banned word.", "商品描述含有违禁词。", _CALL
    ),
    "ACQ.PARTNER_ERROR": _t("The Alipay partner settings are wrong.", "合作伙伴信息错误。", _CALL),
    "ACQ.TOTAL_FEE_EXCEED": _t(
        "The amount is above Alipay's limit.", "金额超出支付宝限额。", _ASK_OTHER
    ),
    "ACQ.PAYMENT_AUTH_CODE_INVALID": _t("The payment code is not valid.", "付款码无效。", _RESCAN),
    "ACQ.CONTEXT_INCONSISTENT": _t(
        "This order number was used with other details.", "订单号已被用于不同的交易信息。", _CALL
    ),
    "ACQ.TRADE_HAS_SUCCESS": ("This order is already paid.", "该订单已支付。"),
    "ACQ.TRADE_HAS_CLOSE": _t("This payment was closed.", "交易已关闭。", _ASK_OTHER),
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": _t(
        "The shopper's balance is too low.", "顾客余额不足。", _ASK_OTHER
    ),
    "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH": _t(
        "The shopper's bank card balance is too low.", "顾客银行卡余额不足。", _ASK_OTHER
    ),
    "ACQ.ERROR_BALANCE_PAYMENT_DISABLE": _t(
        "Balance payment is off for this shopper.", "顾客未开通余额支付。", _ASK_OTHER
    ),
    "ACQ.BUYER_SELLER_EQUAL": _t(
        "The shopper and merchant accounts are the same.", "买家与卖家不能相同。", _ASK_OTHER
    ),
    "ACQ.TRADE_BUYER_NOT_MATCH": _t(
        "Another shopper already started this payment.", "交易买家不匹配。", _ASK_OTHER
    ),
    "ACQ.BUYER_ENABLE_STATUS_FORBID": _t(
        "The shopper's Alipay account is restricted.", "顾客账户状态受限。", _ASK_OTHER
    ),
    "ACQ.PULL_MOBILE_CASHIER_FAIL": _t(
        "Alipay could not reach the shopper's phone.", "无法唤起顾客手机收银台。", _RESCAN
    ),
    "ACQ.MOBILE_PAYMENT_SWITCH_OFF": _t(
        "The shopper turned mobile payment off.", "顾客关闭了手机支付。", _ASK_OTHER
    ),
    "ACQ.PAYMENT_FAIL": _t("The payment failed.", "支付失败。", _ASK_OTHER),
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR": _t(
        "The shopper hit the daily limit.", "顾客当日支付额度已满。", _ASK_OTHER
    ),
    "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR": _t(
        "The shopper hit the monthly limit.", "顾客当月支付额度已满。", _ASK_OTHER
    ),
    "ACQ.BEYOND_PAY_RESTRICTION": _t(
        "The amount is above this merchant's limit.", "超出商户收款额度。", _ASK_OTHER
    ),
    "ACQ.BEYOND_PER_RECEIPT_RESTRICTION": _t(
        "The amount is above the per-payment limit.", "超出单笔收款限额。", _ASK_OTHER
    ),
    "ACQ.SELLER_BEEN_BLOCKED": _t("The merchant account is blocked.", "商户账号被冻结。", _CALL),
    "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT": _t(
        "The shopper must verify their identity first.", "顾客需先完成实名认证。", _ASK_OTHER
    ),
    "ACQ.PAYMENT_REQUEST_HAS_RISK": _t(
        "Alipay stopped the payment for risk.", "支付宝风控拦截了本次支付。", _ASK_OTHER
    ),
    "ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE": _t(
        "The shopper has no usable way to pay.", "顾客无可用支付方式。", _ASK_OTHER
    ),
    "ACQ.USER_FACE_PAYMENT_SWITCH_OFF": _t(
        "The shopper turned face payment off.", "顾客关闭了当面付。", _ASK_OTHER
    ),
    "ACQ.INVALID_STORE_ID": _t(
        "The store id is not registered with Alipay.", "门店编号无效。", _CALL
    ),
    "ACQ.TRADE_NOT_EXIST": ("Alipay has no such payment yet.", "支付宝无此交易。"),
    "ACQ.TRADE_STATUS_ERROR": _t(
        "The payment is in a state that does not allow this.", "交易状态不允许此操作。", _CALL
    ),
    "ACQ.REASON_TRADE_BEEN_FREEZEN": _t(
        "The payment is frozen by Alipay.", "交易已被冻结。", _CALL
    ),
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": _t(
        "The merchant balance cannot cover the refund.", "商户余额不足，无法退款。", _CALL
    ),
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": _t(
        "This refund number was used for another amount.", "退款请求号已用于不同金额。", _CALL
    ),
    "ACQ.TRADE_NOT_ALLOW_REFUND": _t(
        "This payment can no longer be refunded.", "该交易不允许退款。", _CALL
    ),
    "ACQ.DISCORDANT_REPEAT_REQUEST": _t(
        "A repeated request did not match the first.", "重复请求参数不一致。", _CALL
    ),
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": _t(
        "The refund amount is more than what is left.", "退款金额超过可退金额。", _CALL
    ),
    "ACQ.TRADE_CANCEL_TIME_OUT": _t(
        "It is too late to cancel; refund instead.", "已超过撤销时限，请改为退款。", _CALL
    ),
    "ACQ.REASON_ILLEGAL_STATUS": _t(
        "The payment's state does not allow this.", "交易状态不合法。", _CALL
    ),
}

_WECHAT: dict[str, _T] = {
    "SUCCESS": ("Done.", "成功。"),
    "USERPAYING": _POS["user_paying"],
    "NOTPAY": _POS["waiting"],
    "SYSTEM_ERROR": _t("WeChat Pay had an internal error.", "微信支付系统异常。", _RETRY),
    "SYSTEMERROR": _t("WeChat Pay had an internal error.", "微信支付系统异常。", _RETRY),
    "BANK_ERROR": _t("The shopper's bank had an error.", "银行系统异常。", _RETRY),
    "BANKERROR": _t("The shopper's bank had an error.", "银行系统异常。", _RETRY),
    "FREQUENCY_LIMITED": _t("Too many requests to WeChat Pay.", "请求过于频繁。", _RETRY),
    "SIGN_ERROR": _t(
        "WeChat Pay could not verify the terminal's signature.", "微信支付验签失败。", _CALL
    ),
    "SIGNERROR": _t(
        "WeChat Pay could not verify the terminal's signature.", "微信支付验签失败。", _CALL
    ),
    "PARAM_ERROR": _t("WeChat Pay rejected a parameter.", "参数错误。", _CALL),
    "LACK_PARAMS": _t("A required parameter was missing.", "缺少参数。", _CALL),
    "XML_FORMAT_ERROR": _t("The request was malformed.", "请求格式错误。", _CALL),
    "INVALID_REQUEST": _t("WeChat Pay refused the request.", "无效请求。", _CALL),
    "NOAUTH": _t("This merchant lacks the WeChat Pay permission.", "商户无此接口权限。", _CALL),
    "MCH_NOT_EXISTS": _t("The merchant id is wrong.", "商户号不存在。", _CALL),
    "MCHID_NOT_EXIST": _t("The merchant id is wrong.", "商户号不存在。", _CALL),
    "APPID_NOT_EXIST": _t("The app id is wrong.", "APPID不存在。", _CALL),
    "APPID_MCHID_NOT_MATCH": _t(
        "The app id and merchant id do not match.", "APPID与商户号不匹配。", _CALL
    ),
    "OUT_TRADE_NO_USED": _t("This order number was already used.", "商户订单号重复。", _CALL),
    "ORDER_NOT_EXIST": ("WeChat Pay has no such payment yet.", "微信支付无此订单。"),
    "ORDERNOTEXIST": ("WeChat Pay has no such payment yet.", "微信支付无此订单。"),
    "ORDERPAID": ("This order is already paid.", "该订单已支付。"),
    "ORDER_CLOSED": _t("This payment was closed.", "订单已关闭。", _ASK_OTHER),
    "ORDERCLOSED": _t("This payment was closed.", "订单已关闭。", _ASK_OTHER),
    "ORDERREVERSED": _t("This payment was reversed.", "订单已撤销。", _ASK_OTHER),
    "NOTENOUGH": _t("The shopper's balance is too low.", "顾客余额不足。", _ASK_OTHER),
    "NOT_ENOUGH": _t("The merchant balance cannot cover the refund.", "商户余额不足。", _CALL),
    "NOTSUPORTCARD": _t("This card type is not supported.", "不支持该卡类型。", _ASK_OTHER),
    "AUTHCODEEXPIRE": _t("The payment code has expired.", "付款码已过期。", _RESCAN),
    "AUTH_CODE_ERROR": _t("The payment code is wrong.", "付款码错误。", _RESCAN),
    "AUTH_CODE_INVALID": _t("The payment code is not valid.", "付款码无效。", _RESCAN),
    "BUYER_MISMATCH": _t(
        "Another shopper already started this payment.", "支付账号不一致。", _ASK_OTHER
    ),
    "PAYERROR": _t("The payment failed.", "支付失败。", _ASK_OTHER),
    "TRADE_ERROR": _t("WeChat Pay refused the payment for risk.", "交易被风控拒绝。", _ASK_OTHER),
    "RULE_LIMIT": _t("The payment breaks a WeChat Pay rule.", "交易受限。", _ASK_OTHER),
    "ACCOUNT_ERROR": _t("The shopper's account is restricted.", "用户账户异常。", _ASK_OTHER),
    "USER_ACCOUNT_ABNORMAL": _t(
        "The shopper's account is closed or frozen.", "用户账户异常。", _CALL
    ),
    "REVERSE_EXPIRE": _t(
        "It is too late to reverse; refund instead.", "订单已超过撤销期限。", _CALL
    ),
    "RESOURCE_NOT_EXISTS": ("No such refund at WeChat Pay.", "微信支付无此退款。"),
    "REFUNDNOTEXIST": ("No such refund at WeChat Pay.", "微信支付无此退款。"),
}

_CATALOGUES: dict[str, dict[str, _T]] = {"pos": _POS, "alipay": _ALIPAY, "wechat": _WECHAT}
_CATALOGUES["card"] = CARD
_GENERIC: _T = _t(
    "The payment platform answered with an unexpected code.", "支付平台返回了未知代码。", _CALL
)


def explain(platform: str, code: str = "", sub_code: str = "") -> Notice:
    """The most specific message for (sub_code, code); never fails."""
    table = _CATALOGUES.get(platform, {})
    if (sub_code and sub_code not in table) or (not sub_code and code and code not in table):
        log.warning(
            "payment code without a message: platform=%s code=%r sub_code=%r",
            platform,
            code,
            sub_code,
        )
    for key in (sub_code, code):
        if key and key in table:
            en, zh = table[key]
            return Notice(f"{platform}.{key}", en, zh)
    return Notice(f"{platform}.unknown", *_GENERIC)


def notice(key: str) -> Notice:
    return explain("pos", key)


def known_codes(platform: str) -> frozenset[str]:
    return frozenset(_CATALOGUES.get(platform, {}))


class PaymentError(PosError):
    """A payment request the terminal refuses before anything is sent."""

    def __init__(self, note: Notice, locale: str = "en") -> None:
        super().__init__(note.text(locale))
        self.notice = note
