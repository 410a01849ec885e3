"""Alipay's RSA2 rules, exactly as the OpenAPI specifies them.

Request: every parameter except ``sign`` (so ``sign_type`` is included), empty
values dropped, sorted by name in ASCII order, raw (not URL-encoded) values
joined as ``k=v`` with ``&``; SHA256withRSA; base64.
Synchronous response: the signature covers the exact raw text of the
``<method>_response`` (or ``error_response``) value as it appears in the body.
Asynchronous notification: like a request, but ``sign`` and ``sign_type`` are
both left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pos.payments import rsa


class AlipayFormatError(ValueError):
    """A body that is not the shape Alipay sends."""


def sign_content(params: Mapping[str, str], exclude: frozenset[str] = frozenset({"sign"})) -> str:
    items = sorted((k, v) for k, v in params.items() if k not in exclude and v not in ("", None))
    return "&".join(f"{k}={v}" for k, v in items)


def sign_params(params: Mapping[str, str], key: rsa.PrivateKey) -> str:
    return rsa.sign(key, sign_content(params).encode())


def verify_params(params: Mapping[str, str], key: rsa.PublicKey, *, notification: bool) -> bool:
    exclude = frozenset({"sign", "sign_type"}) if notification else frozenset({"sign"})
    signature = params.get("sign", "")
    return bool(signature) and rsa.verify(key, sign_content(params, exclude).encode(), signature)


def response_node(method: str) -> str:
    return method.replace(".", "_") + "_response"


def top_level_spans(text: str) -> dict[str, tuple[str, object]]:
    """Each top-level member of a JSON object as (exact raw text, parsed value)."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[str, object]] = {}
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "{":
        raise AlipayFormatError("response is not a JSON object")
    pos = _skip_ws(text, pos + 1)
    try:
        while pos < len(text) and text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if not isinstance(key, str) or text[pos : pos + 1] != ":":
                raise AlipayFormatError("malformed member in response")
            start = _skip_ws(text, pos + 1)
            value, end = decoder.raw_decode(text, start)
            spans[key] = (text[start:end], value)
            pos = _skip_ws(text, end)
            if text[pos : pos + 1] == ",":
                pos = _skip_ws(text, pos + 1)
    except json.JSONDecodeError as exc:
        raise AlipayFormatError(f"response is not valid JSON: {exc.msg}") from exc
    if text[pos : pos + 1] != "}":
        raise AlipayFormatError("response JSON object is not closed")
    return spans


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def verify_response(text: str, method: str, key: rsa.PublicKey) -> dict[str, object]:
    """The response object for `method` if its signature verifies over the raw text.
    Raises AlipayFormatError for a missing node or a bad or missing signature."""
    spans = top_level_spans(text)
    node = spans.get(response_node(method)) or spans.get("error_response")
    if node is None:
        raise AlipayFormatError(f"response has no {response_node(method)}")
    raw, value = node
    signature = spans.get("sign", ("", ""))[1]
    if not isinstance(signature, str) or not signature:
        raise AlipayFormatError("response is not signed")
    if not rsa.verify(key, raw.encode(), signature):
        raise AlipayFormatError("response signature does not verify")
    if not isinstance(value, dict):
        raise AlipayFormatError("response node is not an object")
    return value


def signed_response(method: str, node_json: str, key: rsa.PrivateKey) -> str:
    """The gateway's side: wrap an already serialised node and sign its exact text."""
    signature = rsa.sign(key, node_json.encode())
    return f'{{"{response_node(method)}":{node_json},"sign":{json.dumps(signature)}}}'
