"""WeChat Pay API v3 signatures and callback decryption.

Request: ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,
signature=..,timestamp=..,serial_no=..`` where the signature is
SHA256withRSA over ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`` (URL = path
and query; body empty for GET).
Response and callback: ``Wechatpay-Signature`` over
``timestamp\\nnonce\\nbody\\n`` with the platform key named by
``Wechatpay-Serial``; a timestamp more than 5 minutes from now is refused.
Callback resource: AEAD_AES_256_GCM under the 32-byte APIv3 key, nonce and
associated_data as UTF-8, ciphertext base64 (tag appended)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pos.digits import is_digits
from pos.payments import rsa

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_SECONDS = 300


class WechatSignatureError(ValueError):
    pass


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp: str, nonce: str, body: str) -> str:
    return f"{timestamp}\n{nonce}\n{body}\n"


@dataclass(frozen=True, slots=True)
class Authorization:
    mchid: str
    nonce_str: str
    signature: str
    timestamp: str
    serial_no: str

    def header(self) -> str:
        return (
            f'{SCHEMA} mchid="{self.mchid}",nonce_str="{self.nonce_str}",'
            f'signature="{self.signature}",timestamp="{self.timestamp}",'
            f'serial_no="{self.serial_no}"'
        )


def authorize(
    *,
    mchid: str,
    serial_no: str,
    key: rsa.PrivateKey,
    method: str,
    url: str,
    body: str,
    timestamp: str,
    nonce: str,
) -> Authorization:
    signature = rsa.sign(key, request_message(method, url, timestamp, nonce, body).encode())
    return Authorization(mchid, nonce, signature, timestamp, serial_no)


_PAIR = re.compile(r'(\w+)="([^"]*)"')


def parse_authorization(header: str) -> Authorization:
    schema, _, rest = header.partition(" ")
    if schema != SCHEMA:
        raise WechatSignatureError("unknown authorization schema")
    fields = dict(_PAIR.findall(rest))
    try:
        return Authorization(
            fields["mchid"],
            fields["nonce_str"],
            fields["signature"],
            fields["timestamp"],
            fields["serial_no"],
        )
    except KeyError as exc:
        raise WechatSignatureError(f"authorization lacks {exc.args[0]}") from exc


def verify_signed(
    headers: Mapping[str, str],
    body: str,
    platform_keys: Mapping[str, rsa.PublicKey],
    now_epoch: int,
) -> None:
    """Check Wechatpay-* headers (lower-cased names) over a response or callback body."""
    timestamp = headers.get("wechatpay-timestamp", "")
    nonce = headers.get("wechatpay-nonce", "")
    signature = headers.get("wechatpay-signature", "")
    serial = headers.get("wechatpay-serial", "")
    if not (timestamp and nonce and signature and serial):
        raise WechatSignatureError("response is not signed")
    key = platform_keys.get(serial)
    if key is None:
        raise WechatSignatureError(f"no platform key with serial {serial}")
    if not is_digits(timestamp) or abs(now_epoch - int(timestamp)) > MAX_SKEW_SECONDS:
        raise WechatSignatureError("signature timestamp is more than 5 minutes off")
    if not rsa.verify(key, response_message(timestamp, nonce, body).encode(), signature):
        raise WechatSignatureError("response signature does not verify")


def signed_headers(
    key: rsa.PrivateKey, serial: str, body: str, timestamp: str, nonce: str
) -> dict[str, str]:
    """The platform's side: the headers that sign a response or callback body."""
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature": rsa.sign(key, response_message(timestamp, nonce, body).encode()),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def decrypt_resource(
    apiv3_key: bytes, nonce: str, associated_data: str, ciphertext_b64: str
) -> bytes:
    if len(apiv3_key) != 32:
        raise WechatSignatureError("the APIv3 key must be 32 bytes")
    try:
        ciphertext = base64.b64decode(ciphertext_b64, validate=True)
        return AESGCM(apiv3_key).decrypt(nonce.encode(), ciphertext, associated_data.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise WechatSignatureError("callback resource does not decrypt") from exc


def encrypt_resource(apiv3_key: bytes, nonce: str, associated_data: str, plaintext: bytes) -> str:
    ciphertext = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return base64.b64encode(ciphertext).decode()
