"""The sandbox gateways refuse bad terminal signatures with the platforms' error
shapes, and serve the daily bills in the platforms' formats."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from pos.money import Money
from pos.payments import rsa
from pos.payments.bills import parse_alipay_bill, parse_wechat_bill
from pos.payments.channel import PaymentMode
from pos.payments.sandbox.bills import fee
from pos.payments.sandbox.wire import beijing
from pos.payments.transport import OutcomeUnknown
from pos.payments.wechat import v2sign
from tests.pos.payments.conftest import AUTH_CODES, RecordingHandler, make_channels


def test_alipay_refuses_a_bad_request_signature(tmp_terminal, sandbox):
    channel = make_channels(tmp_terminal, sandbox)["alipay"]
    client = channel.client  # type: ignore[attr-defined]
    client.config = dataclasses.replace(client.config, private_key=rsa.generate())
    reply = client.query("P1")
    assert (reply.code, reply.sub_code) == ("40002", "isv.invalid-signature")
    assert sandbox.state.view() == []


def test_wechat_v3_refuses_a_bad_request_signature(tmp_terminal, sandbox):
    channel = make_channels(tmp_terminal, sandbox)["wechat"]
    client = channel.client  # type: ignore[attr-defined]
    client.config = dataclasses.replace(client.config, private_key=rsa.generate())
    with pytest.raises(OutcomeUnknown):  # the refusal is unsigned, so it proves nothing
        client.native("P1", Money(100), "x", "2026-01-05T17:02:00+08:00")
    raw = httpx.post(
        f"{sandbox.base_url}/v3/pay/transactions/native",
        content=b"{}",
        headers={
            "Authorization": 'WECHATPAY2-SHA256-RSA2048 mchid="1900000001",'
            'nonce_str="n",signature="AAAA",timestamp="1",serial_no="x"'
        },
    )
    assert raw.status_code == 401 and raw.json()["code"] == "SIGN_ERROR"
    assert sandbox.state.view() == []


def test_wechat_v2_refuses_a_bad_sign(tmp_terminal, sandbox):
    params = {
        "appid": "wx0000000000000001",
        "mch_id": "1900000001",
        "nonce_str": "abc",
        "out_trade_no": "P123456",
        "total_fee": "1",
        "auth_code": AUTH_CODES["wechat"],
        "body": "x",
        "spbill_create_ip": "127.0.0.1",
    }
    params["sign"] = v2sign.sign(params, "wrong-key")
    raw = httpx.post(f"{sandbox.base_url}/pay/micropay", content=v2sign.to_xml(params))
    assert v2sign.from_xml(raw.content) == {"return_code": "FAIL", "return_msg": "签名错误"}


def test_daily_bills_list_payments_and_refunds(tmp_terminal, sandbox, router):
    sandbox.state.set_scenario({"pay_after": 0})
    paid = {}
    for channel in ("alipay", "wechat"):
        out = router.pay(
            f"O-{channel}",
            channel,
            Money(1999),
            PaymentMode.PAYMENT_CODE,
            RecordingHandler(),
            auth_code=AUTH_CODES[channel],
        )
        refund = router.refund(out.intent, Money(500), "test")
        paid[channel] = (out.intent, refund)
    day = beijing(tmp_terminal.clock.now())[:10]
    channels = router._channels  # the configured clients
    ali = channels["alipay"].client  # type: ignore[attr-defined]
    url = ali.bill_download_url(day).text("bill_download_url")
    rows = parse_alipay_bill(ali.download(url))
    intent, refund = paid["alipay"]
    assert [(r.kind, r.out_trade_no, r.amount.minor, r.fee.minor) for r in rows] == [
        ("payment", intent.out_trade_no, 1999, fee(1999)),
        ("refund", intent.out_trade_no, 500, -fee(500)),
    ]
    assert rows[1].out_refund_no == refund.out_refund_no
    wx_rows = parse_wechat_bill(channels["wechat"].client.trade_bill(day))  # type: ignore
    intent, refund = paid["wechat"]
    assert [(r.kind, r.out_trade_no, r.amount.minor) for r in wx_rows] == [
        ("payment", intent.out_trade_no, 1999),
        ("refund", intent.out_trade_no, 500),
    ]
    assert wx_rows[1].out_refund_no == refund.out_refund_no
