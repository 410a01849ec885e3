"""Alipay RSA2: the terminal's signatures checked by an independent
implementation (openssl over the sign string, built here from the rule text),
and response verification over the exact raw text."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from pos.clock import FakeClock
from pos.money import Money
from pos.payments import rsa
from pos.payments.alipay.client import AlipayClient, AlipayConfig
from pos.payments.alipay.sign import (
    AlipayFormatError,
    sign_content,
    signed_response,
    verify_params,
    verify_response,
)
from pos.payments.transport import HttpReply


def openssl_verify(tmp: Path, public: rsa.PublicKey, message: bytes, signature_b64: str) -> bool:
    (tmp / "pub.pem").write_bytes(rsa.public_pem(public))
    (tmp / "msg").write_bytes(message)
    (tmp / "sig").write_bytes(base64.b64decode(signature_b64))
    done = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            tmp / "pub.pem",
            "-signature",
            tmp / "sig",
            tmp / "msg",
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def independent_sign_string(form: dict[str, str]) -> bytes:
    """The documented rule, written again from scratch: drop sign and empty values,
    sort by key bytes, k=v joined by &."""
    keys = sorted((k for k in form if k != "sign" and form[k]), key=lambda k: k.encode())
    return "&".join(k + "=" + form[k] for k in keys).encode("utf-8")


class Capture:
    def __init__(self, reply: HttpReply) -> None:
        self.reply = reply
        self.form: dict[str, str] = {}

    def request(self, method, url, *, headers=None, content=None):
        self.form = dict(parse_qsl(content.decode()))
        return self.reply


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.PrivateKey, rsa.PrivateKey]:
    return rsa.generate(), rsa.generate()


def test_request_signature_verifies_with_openssl(tmp_path, keys):
    app, platform = keys
    node = (
        '{"code":"10000","msg":"Success","out_trade_no":"P1","qr_code":"https://qr.alipay.com/x"}'
    )
    transport = Capture(
        HttpReply(200, {}, signed_response("alipay.trade.precreate", node, platform).encode())
    )
    config = AlipayConfig("http://gw", "2021", app, platform.public_key())
    client = AlipayClient(config, FakeClock(), transport)  # type: ignore[arg-type]
    reply = client.precreate("P1", Money(1250), "奶茶 & 蛋糕", 2)
    assert reply.text("qr_code") == "https://qr.alipay.com/x"
    form = transport.form
    assert (
        form["sign_type"] == "RSA2" and json.loads(form["biz_content"])["total_amount"] == "12.50"
    )
    message = independent_sign_string(form)
    assert b"sign_type=RSA2" in message and b"&sign=" not in message
    assert openssl_verify(tmp_path, app.public_key(), message, form["sign"])
    tampered = message.replace(b"12.50", b"1.25")
    assert not openssl_verify(tmp_path, app.public_key(), tampered, form["sign"])


def test_sign_string_rules():
    params = {"b": "2", "a": "1", "sign": "x", "empty": "", "sign_type": "RSA2", "A": "0"}
    assert sign_content(params) == "A=0&a=1&b=2&sign_type=RSA2"


def test_response_verified_over_the_exact_raw_text(keys):
    _, platform = keys
    # Spacing and key order as a gateway may send them: re-serialising would break it.
    node = '{ "msg": "Success",  "code": "10000", "qr_code": "https:\\/\\/qr.alipay.com\\/y" }'
    signature = rsa.sign(platform, node.encode())
    body = f'{{"alipay_trade_precreate_response":{node},\n "sign":"{signature}"}}'
    got = verify_response(body, "alipay.trade.precreate", platform.public_key())
    assert got["qr_code"] == "https://qr.alipay.com/y"


@pytest.mark.parametrize(
    "body",
    [
        lambda node, sig: (
            f'{{"alipay_trade_query_response":{node.replace("10000", "10003")},"sign":"{sig}"}}'
        ),
        lambda node, sig: f'{{"alipay_trade_query_response":{node}}}',
        lambda node, sig: f'{{"alipay_trade_query_response":{node},"sign":"{sig[:-4]}AAA="}}',
        lambda node, sig: f'{{"other_response":{node},"sign":"{sig}"}}',
        lambda node, sig: "<html>502</html>",
        lambda node, sig: f'{{"alipay_trade_query_response":{node},"sign":"{sig}"',
    ],
)
def test_tampered_or_malformed_responses_are_refused(keys, body):
    _, platform = keys
    node = '{"code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS"}'
    sig = rsa.sign(platform, node.encode())
    with pytest.raises(AlipayFormatError):
        verify_response(body(node, sig), "alipay.trade.query", platform.public_key())


def test_notification_verification_leaves_out_sign_and_sign_type(tmp_path, keys):
    _, platform = keys
    form = {
        "notify_id": "n1",
        "out_trade_no": "P1",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "12.50",
        "sign_type": "RSA2",
        "app_id": "2021",
    }
    message = "&".join(f"{k}={form[k]}" for k in sorted(form) if k != "sign_type").encode()
    form["sign"] = rsa.sign(platform, message)
    assert openssl_verify(tmp_path, platform.public_key(), message, form["sign"])
    assert verify_params(form, platform.public_key(), notification=True)
    assert not verify_params(
        {**form, "total_amount": "0.01"}, platform.public_key(), notification=True
    )
