"""Whatever a gateway answers (signed, so it reached the channel), the channel
turns it into a status and never raises; and it never calls a payment paid
unless the answer names this order and exactly its amount."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest
import qrcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qrcode.constants import ERROR_CORRECT_M

from pos.money import Money
from pos.payments.alipay.client import AlipayReply
from pos.payments.channel import (
    ChannelResult,
    PaymentChannel,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.notify import NotificationRefused
from pos.payments.sandbox.server import SandboxServer
from pos.payments.wechat.client import V3Reply
from pos.store.terminal import Terminal
from tests.pos.payments.conftest import make_channels

OUT_TRADE_NO = "T01-P-000123"
AMOUNT = Money(1250)

_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(2**62, 2**80)
    | st.text(max_size=12)
    | st.sampled_from(["12.50", "1e30", "-1", "99999999999999999999.99", "12.5", "NaN", ""])
)
_value = st.recursive(
    _leaf,
    lambda v: st.lists(v, max_size=2) | st.dictionaries(st.text(max_size=6), v, max_size=2),
    max_leaves=6,
)


def _body(names: list[str], values: Any) -> Any:
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


_ALIPAY_NAMES = [
    "trade_no",
    "out_trade_no",
    "total_amount",
    "trade_status",
    "qr_code",
    "buyer_logon_id",
    "retry_flag",
    "action",
    "refund_fee",
    "refund_amount",
    "refund_status",
    "fund_change",
]
_alipay_reply = st.builds(
    AlipayReply,
    code=st.sampled_from(["10000", "10003", "20000", "40004", "40002", ""]) | st.text(max_size=6),
    msg=st.text(max_size=8),
    sub_code=st.sampled_from(
        ["", "ACQ.TRADE_NOT_EXIST", "ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_SUCCESS"]
    ),
    sub_msg=st.text(max_size=8),
    body=_body(
        _ALIPAY_NAMES,
        _value
        | st.sampled_from([OUT_TRADE_NO, "12.50", "TRADE_SUCCESS", "WAIT_BUYER_PAY", "Y", "N"]),
    ),
)

_V3_NAMES = [
    "code",
    "message",
    "out_trade_no",
    "transaction_id",
    "trade_state",
    "trade_state_desc",
    "code_url",
    "amount",
    "status",
    "refund_id",
]
_v3_reply = st.builds(
    V3Reply,
    status=st.sampled_from([200, 202, 204, 400, 403, 404, 429, 500, 503]) | st.integers(0, 999),
    body=_body(
        _V3_NAMES,
        _value
        | st.sampled_from([OUT_TRADE_NO, "SUCCESS", "USERPAYING", "NOTPAY", "REFUND", "PROCESSING"])
        | st.fixed_dictionaries({}, optional={"total": _leaf | st.just(1250), "refund": _leaf}),
    ),
)
_V2_NAMES = [
    "return_code",
    "result_code",
    "err_code",
    "err_code_des",
    "out_trade_no",
    "trade_state",
    "transaction_id",
    "total_fee",
    "openid",
    "recall",
]
_v2_reply = st.dictionaries(
    st.sampled_from(_V2_NAMES),
    st.text(max_size=10)
    | st.sampled_from(["SUCCESS", "FAIL", "USERPAYING", OUT_TRADE_NO, "1250", "Y"]),
)


class _Answers:
    """A client whose every call answers with what the test drew."""

    def __init__(self, config: Any, reply: Any, v2: dict[str, str]) -> None:
        self.config = config
        self._reply = reply
        self._v2 = v2

    def __getattr__(self, name: str) -> Any:
        if name in ("micropay", "order_query", "reverse_v2"):
            return lambda *a, **k: dict(self._v2)
        return lambda *a, **k: self._reply


def _intent(mode: PaymentMode) -> PaymentIntent:
    return PaymentIntent("I1", "O1", "x", mode, AMOUNT, OUT_TRADE_NO, sent=True)


def _exercise(channel: PaymentChannel) -> None:
    for mode in (PaymentMode.QR, PaymentMode.PAYMENT_CODE):
        intent = _intent(mode)
        results = [
            channel.start(intent, None, "286543210987654321"),  # type: ignore[arg-type]
            channel.query(intent),
            channel.cancel(intent),
            channel.close(intent),
        ]
        for r in results:
            assert isinstance(r, ChannelResult)
            if r.qr_payload:  # the till can paint it
                qrcode.QRCode(error_correction=ERROR_CORRECT_M).add_data(r.qr_payload)
                assert len(r.qr_payload) <= 1024 and r.qr_payload.isprintable()
            if r.status is PaymentStatus.SUCCEEDED:
                assert r.paid_amount == AMOUNT
        refund = RefundIntent(
            "R1", replace(intent, status=PaymentStatus.SUCCEEDED), Money(500), "T01-R-1"
        )
        for rr in (channel.refund(refund), channel.refund_query(refund)):
            assert isinstance(rr, RefundResult)
            if rr.status is RefundStatus.SUCCEEDED and rr.refunded_amount is not None:
                assert rr.refunded_amount.minor >= 0


_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def channels(tmp_terminal: Terminal, sandbox: SandboxServer) -> dict[str, PaymentChannel]:
    return make_channels(tmp_terminal, sandbox)


@_SETTINGS
@given(reply=_alipay_reply)
def test_any_alipay_answer_is_a_status_never_an_error(
    channels: dict[str, PaymentChannel], reply: AlipayReply
) -> None:
    ch: Any = channels["alipay"]
    ch.client = _Answers(ch.client.config, reply, {})
    _exercise(ch)


@_SETTINGS
@given(reply=_v3_reply, v2=_v2_reply)
def test_any_wechat_answer_is_a_status_never_an_error(
    channels: dict[str, PaymentChannel], reply: V3Reply, v2: dict[str, str]
) -> None:
    ch: Any = channels["wechat"]
    ch.client = _Answers(ch.client.config, reply, v2)
    _exercise(ch)


def _reply_alipay(**body: Any) -> AlipayReply:
    return AlipayReply("10000", "Success", "", "", body)


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (
            _reply_alipay(
                trade_status="TRADE_SUCCESS", out_trade_no=OUT_TRADE_NO, total_amount="12.50"
            ),
            PaymentStatus.SUCCEEDED,
        ),
        (
            _reply_alipay(
                trade_status="TRADE_SUCCESS", out_trade_no=OUT_TRADE_NO, total_amount="12.49"
            ),
            PaymentStatus.UNKNOWN,
        ),
        (
            _reply_alipay(
                trade_status="TRADE_SUCCESS", out_trade_no="T01-P-9", total_amount="12.50"
            ),
            PaymentStatus.UNKNOWN,
        ),
        (
            _reply_alipay(
                trade_status="TRADE_SUCCESS", out_trade_no=OUT_TRADE_NO, total_amount="1e30"
            ),
            PaymentStatus.UNKNOWN,
        ),
        (
            _reply_alipay(trade_status="TRADE_SUCCESS", total_amount="99999999999999999999.00"),
            PaymentStatus.UNKNOWN,
        ),
    ],
)
def test_alipay_success_counts_only_for_this_order_and_exactly_its_amount(
    channels: dict[str, PaymentChannel], reply: AlipayReply, status: PaymentStatus
) -> None:
    ch: Any = channels["alipay"]
    ch.client = _Answers(ch.client.config, reply, {})
    assert ch.query(_intent(PaymentMode.QR)).status is status


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            {"trade_state": "SUCCESS", "out_trade_no": OUT_TRADE_NO, "amount": {"total": 1250}},
            PaymentStatus.SUCCEEDED,
        ),
        (
            {"trade_state": "SUCCESS", "out_trade_no": OUT_TRADE_NO, "amount": {"total": 1249}},
            PaymentStatus.UNKNOWN,
        ),
        (
            {"trade_state": "SUCCESS", "out_trade_no": OUT_TRADE_NO, "amount": {"total": 2**70}},
            PaymentStatus.UNKNOWN,
        ),
        (
            {"trade_state": "SUCCESS", "out_trade_no": "T01-P-9", "amount": {"total": 1250}},
            PaymentStatus.UNKNOWN,
        ),
    ],
)
def test_wechat_success_counts_only_for_this_order_and_exactly_its_amount(
    channels: dict[str, PaymentChannel], body: dict[str, Any], status: PaymentStatus
) -> None:
    ch: Any = channels["wechat"]
    ch.client = _Answers(ch.client.config, V3Reply(200, body), {})
    assert ch.query(_intent(PaymentMode.QR)).status is status


def test_a_wechat_refund_amount_beyond_any_money_is_not_known(
    channels: dict[str, PaymentChannel],
) -> None:
    ch: Any = channels["wechat"]
    reply = V3Reply(200, {"status": "SUCCESS", "refund_id": "R", "amount": {"refund": 2**70}})
    ch.client = _Answers(ch.client.config, reply, {})
    intent = replace(_intent(PaymentMode.QR), status=PaymentStatus.SUCCEEDED)
    result = ch.refund_query(RefundIntent("R1", intent, Money(500), "T01-R-1"))
    assert result.status is RefundStatus.UNKNOWN


def test_wechat_micropay_fee_that_is_not_ascii_digits_is_not_known(
    channels: dict[str, PaymentChannel],
) -> None:
    ch: Any = channels["wechat"]
    v2 = {"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": OUT_TRADE_NO}
    for fee, status in (
        ("1250", PaymentStatus.SUCCEEDED),
        ("1249", PaymentStatus.UNKNOWN),
        ("１２５０", PaymentStatus.UNKNOWN),  # digits to str.isdigit(), not a WeChat amount
        ("²", PaymentStatus.UNKNOWN),
    ):
        ch.client = _Answers(ch.client.config, None, {**v2, "total_fee": fee})
        assert ch.query(_intent(PaymentMode.PAYMENT_CODE)).status is status


@pytest.mark.parametrize(
    "qr", ["", "x" * 3000, "https://qr.alipay.com/\x1b[2J", "https://qr.alipay.com/码"]
)
def test_a_code_the_till_cannot_show_is_not_known_so_the_trade_gets_closed(
    channels: dict[str, PaymentChannel], qr: str
) -> None:
    intent = _intent(PaymentMode.QR)
    ali: Any = channels["alipay"]
    ali.client = _Answers(ali.client.config, _reply_alipay(qr_code=qr), {})
    assert ali.start(intent, None, None).status is PaymentStatus.UNKNOWN  # type: ignore[arg-type]
    wx: Any = channels["wechat"]
    wx.client = _Answers(wx.client.config, V3Reply(200, {"code_url": qr}), {})
    assert wx.start(intent, None, None).status is PaymentStatus.UNKNOWN  # type: ignore[arg-type]


_header_names = st.sampled_from(
    [
        "wechatpay-timestamp",
        "wechatpay-nonce",
        "wechatpay-signature",
        "wechatpay-serial",
        "content-type",
    ]
)
_form_body = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "out_trade_no",
                "trade_status",
                "total_amount",
                "sign",
                "sign_type",
                "app_id",
                "notify_id",
            ]
        ),
        st.text(max_size=20)
        | st.sampled_from([OUT_TRADE_NO, "TRADE_SUCCESS", "12.50", "RSA2", "1e30"]),
    ),
    max_size=7,
).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv).encode("utf-8", "surrogatepass"))


@_SETTINGS
@given(
    headers=st.dictionaries(
        _header_names, st.text(max_size=30) | st.sampled_from(["²", "1700000000", "PLAT1"])
    ),
    body=st.binary(max_size=200) | _form_body | _value.map(lambda v: json.dumps(v).encode()),
)
def test_any_notification_is_refused_with_a_reason_or_read(
    channels: dict[str, PaymentChannel], headers: dict[str, str], body: bytes
) -> None:
    """The notify listener faces the internet: whatever arrives is read or
    refused (NotificationRefused: the gateway is told), never an exception."""
    for name in ("alipay", "wechat"):
        ch: Any = channels[name]
        with contextlib.suppress(NotificationRefused):
            ch.parse_notification(headers, body)
