"""WeChat Pay API v2 (micropay): XML bodies and the MD5 / HMAC-SHA256 sign.

Sign: non-empty parameters except ``sign``, sorted by name in ASCII order,
joined ``k=v`` with ``&``, then ``&key=<API key>``; MD5 of that, or
HMAC-SHA256 keyed with the API key; upper-case hex."""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from xml.sax.saxutils import escape

MD5 = "MD5"
HMAC_SHA256 = "HMAC-SHA256"


class WechatXmlError(ValueError):
    pass


def sign_string(params: Mapping[str, str], key: str) -> str:
    items = sorted((k, v) for k, v in params.items() if k != "sign" and v not in ("", None))
    return "&".join(f"{k}={v}" for k, v in items) + f"&key={key}"


def sign(params: Mapping[str, str], key: str, sign_type: str = MD5) -> str:
    text = sign_string(params, key).encode()
    if sign_type == HMAC_SHA256:
        return hmac.new(key.encode(), text, hashlib.sha256).hexdigest().upper()
    if sign_type == MD5:
        return hashlib.md5(text).hexdigest().upper()
    raise WechatXmlError(f"unknown sign_type {sign_type!r}")


def verify(params: Mapping[str, str], key: str) -> bool:
    sign_type = params.get("sign_type") or MD5
    try:
        expected = sign(params, key, sign_type)
    except WechatXmlError:
        return False
    return hmac.compare_digest(expected, params.get("sign", ""))


def to_xml(params: Mapping[str, str]) -> bytes:
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in params.items())
    return f"<xml>{body}</xml>".encode()


def from_xml(data: bytes) -> dict[str, str]:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise WechatXmlError("XML with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise WechatXmlError(f"not XML: {exc}") from exc
    if root.tag != "xml":
        raise WechatXmlError("root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}
