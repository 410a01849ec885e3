"""The acquirer link's messages: ISO 8583 (1987 layout, ASCII fields,
binary ICC data in field 55) through pyiso8583, each framed on TCP by a
2-byte big-endian length.

Messages used:
  0100/0110  authorisation request/response (EMV ARQC in 55, ARPC back in 55)
  0400/0410  reversal of an authorisation (original STAN in field 90)
  0220/0230  advice: an offline-approved payment forwarded (TC in 55; the
             card number encrypted to the acquirer's key in field 48)
  0200/0210  refund by the original's retrieval reference (processing 20)
"""

from __future__ import annotations

import copy
import socket
import struct
from dataclasses import dataclass
from typing import Any

import iso8583
from iso8583.specs import default_ascii

from pos.errors import PosError

SPEC: dict[str, Any] = copy.deepcopy(default_ascii)
SPEC["55"] = dict(SPEC["55"], data_enc="b", max_len=255, desc="ICC data (BER-TLV)")

AUTH_REQUEST, AUTH_RESPONSE = "0100", "0110"
FINANCIAL_REQUEST, FINANCIAL_RESPONSE = "0200", "0210"
ADVICE, ADVICE_RESPONSE = "0220", "0230"
REVERSAL, REVERSAL_RESPONSE = "0400", "0410"

PURCHASE, REFUND = "000000", "200000"
ENTRY_MODE_ICC = "051"
MAX_FRAME = 4096

APPROVED = "00"
RESPONSE_TEXT = {
    "00": "approved",
    "05": "do not honour",
    "12": "invalid transaction",
    "14": "invalid card number",
    "25": "original not found",
    "51": "insufficient funds",
    "54": "expired card",
    "62": "restricted card",
    "88": "card cryptogram failed",
    "91": "issuer unavailable",
    "96": "system malfunction",
}


class MessageError(PosError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the acquirer message is malformed: {detail}",
            "Nothing was assumed from it; the payment is resolved by reversal or query.",
        )


@dataclass(frozen=True)
class Message:
    fields: dict[str, str]

    @property
    def mti(self) -> str:
        return self.fields["t"]

    def get(self, field: str, default: str = "") -> str:
        return self.fields.get(field, default)

    def icc(self) -> bytes:
        raw = self.fields.get("55", "")
        return bytes.fromhex(raw) if raw else b""


def build(mti: str, fields: dict[str, str], icc: bytes | None = None) -> Message:
    doc = {"t": mti, **{k: v for k, v in fields.items() if v != ""}}
    if icc:
        doc["55"] = icc.hex().upper()
    return Message(doc)


def encode(msg: Message) -> bytes:
    try:
        raw, _ = iso8583.encode(dict(msg.fields), SPEC)
    except iso8583.EncodeError as exc:
        raise MessageError(str(exc)) from exc
    return bytes(raw)


def decode(raw: bytes) -> Message:
    try:
        doc, _ = iso8583.decode(raw, SPEC)
    except iso8583.DecodeError as exc:
        raise MessageError(str(exc)) from exc
    return Message({k: v for k, v in doc.items() if k not in ("p", "s")})


def frame(payload: bytes) -> bytes:
    if len(payload) > MAX_FRAME:
        raise MessageError(f"{len(payload)} bytes is more than one message may carry")
    return struct.pack(">H", len(payload)) + payload


def read_frame(sock: socket.socket) -> bytes | None:
    """One framed message, or None when the peer closed cleanly before one."""
    head = _recv_exact(sock, 2)
    if head is None:
        return None
    (length,) = struct.unpack(">H", head)
    if length == 0 or length > MAX_FRAME:
        raise MessageError(f"frame length {length}")
    body = _recv_exact(sock, length)
    if body is None:
        raise MessageError("connection closed inside a message")
    return body


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def track2_field(track2_hex: str) -> str:
    """Field 35 writes the track 2 separator as '='."""
    return track2_hex.replace("D", "=")
