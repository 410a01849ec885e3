"""The dynamic member code: what a member's page shows and the till scans.

Like a payment code it is digits and changes every step: "97", the member's
eight-digit number, and six digits of an HMAC (HOTP's dynamic truncation)
over the number and the time step, under the chain's member-code key. The
server verifies it, and so can a till offline with the key it was given."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

PREFIX = "97"
STEP_SECONDS = 30
WINDOW = 1  # steps either side accepted: the code on a phone may be a step old
LENGTH = len(PREFIX) + 8 + 6


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def _otp(key: bytes, number: str, step: int) -> str:
    mac = hmac.new(key, f"{number}:{step}".encode(), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def make_code(key: bytes, number: str, at: datetime) -> str:
    return PREFIX + number + _otp(key, number, _step(at))


def looks_like_code(text: str) -> bool:
    return len(text) == LENGTH and text.isdigit() and text.startswith(PREFIX)


def verify_code(key: bytes, code: str, at: datetime) -> str | None:
    """The member number a fresh, genuine code names, else None."""
    if not looks_like_code(code):
        return None
    number, otp = code[len(PREFIX) : len(PREFIX) + 8], code[len(PREFIX) + 8 :]
    now = _step(at)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(_otp(key, number, step), otp):
            return number
    return None
