"""WeChat Pay signatures: v2 against the official published examples, v3
checked by openssl over the documented message, response checks (serial,
5-minute skew, tampering), AEAD_AES_256_GCM callback resources."""

from __future__ import annotations

import base64
import json
import os

import pytest

from pos.clock import FakeClock
from pos.money import Money
from pos.payments import rsa
from pos.payments.transport import HttpReply, OutcomeUnknown
from pos.payments.wechat import v2sign, v3sign
from pos.payments.wechat.client import WechatClient, WechatConfig
from tests.pos.payments.alipay.test_sign import openssl_verify

# The example in WeChat Pay's "安全规范" (signature rules) page.
DOC_PARAMS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "10000100",
    "device_info": "1000",
    "body": "test",
    "nonce_str": "ibuaiVcKdpRxkhJA",
}
DOC_KEY = "192006250b4c09247ec02edce69f6a2d"


def test_v2_md5_sign_matches_the_published_example():
    assert v2sign.sign(DOC_PARAMS, DOC_KEY) == "9A0A8659F005D6984697E2CA0A9CF3B7"


def test_v2_hmac_sha256_sign_matches_the_published_example():
    assert v2sign.sign(DOC_PARAMS, DOC_KEY, v2sign.HMAC_SHA256) == (
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    )


def test_v2_xml_round_trip_and_entities_refused():
    params = {**DOC_PARAMS, "body": "奶茶 <大杯> & 蛋糕"}
    params["sign"] = v2sign.sign(params, DOC_KEY)
    back = v2sign.from_xml(v2sign.to_xml(params))
    assert back == params and v2sign.verify(back, DOC_KEY)
    with pytest.raises(v2sign.WechatXmlError):
        v2sign.from_xml(b'<!DOCTYPE x [<!ENTITY e "boom">]><xml><a>&e;</a></xml>')
    with pytest.raises(v2sign.WechatXmlError):
        v2sign.from_xml(b"<xml><a>unclosed</xml>")


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.PrivateKey, rsa.PrivateKey]:
    return rsa.generate(), rsa.generate()


class Capture:
    def __init__(self, reply_for) -> None:
        self.reply_for = reply_for
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def request(self, method, url, *, headers=None, content=None):
        self.seen.append((method, url, dict(headers or {}), content or b""))
        return self.reply_for(method, url, content or b"")


def signed(platform: rsa.PrivateKey, status: int, doc: dict, ts: int, serial: str = "PLAT1"):
    body = json.dumps(doc)
    headers = {
        k.lower(): v
        for k, v in v3sign.signed_headers(platform, serial, body, str(ts), "n0nce").items()
    }
    return HttpReply(status, headers, body.encode())


def make_client(keys, reply_for, clock=None):
    merchant, platform = keys
    clock = clock or FakeClock()
    config = WechatConfig(
        "http://gw", "wx1", "1900000001", merchant, "MERCH1", {"PLAT1": platform.public_key()}
    )
    transport = Capture(reply_for)
    return WechatClient(config, clock, transport), transport, clock  # type: ignore[arg-type]


def test_v3_authorization_verifies_with_openssl(tmp_path, keys):
    merchant, platform = keys
    clock = FakeClock()
    now = int(clock.now().timestamp())
    client, transport, _ = make_client(
        keys, lambda m, u, b: signed(platform, 200, {"code_url": "weixin://x"}, now), clock
    )
    client.native("P1", Money(1250), "奶茶", "2026-01-05T17:02:00+08:00")
    _, _, headers, body = transport.seen[0]
    auth = headers["Authorization"]
    assert auth.startswith("WECHATPAY2-SHA256-RSA2048 ")
    fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    fields = {k: v.strip('"') for k, v in fields.items()}
    assert fields["mchid"] == "1900000001" and fields["serial_no"] == "MERCH1"
    message = f"POST\n/v3/pay/transactions/native\n{fields['timestamp']}\n{fields['nonce_str']}\n"
    message += body.decode() + "\n"
    assert openssl_verify(tmp_path, merchant.public_key(), message.encode(), fields["signature"])
    assert json.loads(body)["amount"] == {"total": 1250, "currency": "CNY"}


def test_v3_query_signs_the_path_with_query_string(tmp_path, keys):
    merchant, platform = keys
    clock = FakeClock()
    now = int(clock.now().timestamp())
    client, transport, _ = make_client(
        keys,
        lambda m, u, b: signed(platform, 200, {"out_trade_no": "P1", "trade_state": "NOTPAY"}, now),
        clock,
    )
    client.query("P1")
    _, url, headers, _ = transport.seen[0]
    fields = {
        k: v.strip('"')
        for k, v in (p.split("=", 1) for p in headers["Authorization"].split(" ", 1)[1].split(","))
    }
    path = "/v3/pay/transactions/out-trade-no/P1?mchid=1900000001"
    assert url.endswith(path)
    message = f"GET\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n\n"
    assert openssl_verify(tmp_path, merchant.public_key(), message.encode(), fields["signature"])


@pytest.mark.parametrize("spoil", ["skew", "serial", "tamper", "unsigned", "odd digits"])
def test_untrusted_v3_responses_are_refused(keys, spoil):
    _, platform = keys
    clock = FakeClock()
    now = int(clock.now().timestamp())

    def reply(method, url, body):
        good = signed(
            platform,
            200,
            {"trade_state": "SUCCESS"},
            now - (301 if spoil == "skew" else 0),
            serial="OTHER" if spoil == "serial" else "PLAT1",
        )
        if spoil == "tamper":
            return HttpReply(200, good.headers, good.body.replace(b"SUCCESS", b"NOTPAY"))
        if spoil == "unsigned":
            return HttpReply(200, {}, good.body)
        if spoil == "odd digits":  # digits to str.isdigit(), not to int()
            return HttpReply(200, {**good.headers, "wechatpay-timestamp": "²"}, good.body)
        return good

    client, _, _ = make_client(keys, reply, clock)
    with pytest.raises(OutcomeUnknown):
        client.query("P1")


def test_response_within_five_minutes_is_accepted(keys):
    _, platform = keys
    clock = FakeClock()
    now = int(clock.now().timestamp())
    client, _, _ = make_client(
        keys, lambda m, u, b: signed(platform, 200, {"trade_state": "SUCCESS"}, now - 299), clock
    )
    assert client.query("P1").text("trade_state") == "SUCCESS"


def test_callback_resource_decrypts_with_the_apiv3_key():
    key = os.urandom(16).hex().encode()  # 32 ASCII bytes, as the platform issues
    plaintext = json.dumps({"out_trade_no": "P1", "trade_state": "SUCCESS"}).encode()
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce, aad = "fdasflkja484", "transaction"
    ciphertext = base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, aad.encode()))
    assert v3sign.decrypt_resource(key, nonce, aad, ciphertext.decode()) == plaintext
    with pytest.raises(v3sign.WechatSignatureError):
        v3sign.decrypt_resource(key, nonce, "certificate", ciphertext.decode())
    with pytest.raises(v3sign.WechatSignatureError):
        v3sign.decrypt_resource(b"x" * 32, nonce, aad, ciphertext.decode())
