"""What the terminal keeps of a card number: the first six and last four
digits, and a keyed hash (HMAC-SHA256 under the store's card key) that lets
risk rules count a card without knowing it."""

from __future__ import annotations

import hashlib
import hmac

from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return is_digits(number) and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def check_pan(pan: str) -> str:
    if not is_digits(pan) or not 12 <= len(pan) <= 19:
        raise InvalidInput(msg("card.error.pan_digits"))
    return pan


def mask_pan(pan: str) -> str:
    check_pan(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def card_token(card_key: bytes, pan: str) -> str:
    if len(card_key) < 16:
        raise InvalidInput(msg("card.error.token_key_short"))
    return hmac.new(card_key, check_pan(pan).encode(), hashlib.sha256).hexdigest()


def pan_from_bcd(raw: bytes) -> str:
    """5A is compressed numeric: digits, padded with F."""
    return check_pan(raw.hex().upper().rstrip("F"))


def track2_parts(raw: bytes) -> tuple[str, str, str]:
    """Track 2 equivalent data (57): PAN, expiry YYMM, service code."""
    text = raw.hex().upper().rstrip("F")
    if "D" not in text:
        raise InvalidInput(msg("card.error.track2_separator"))
    pan, rest = text.split("D", 1)
    if len(rest) < 7 or not is_digits(rest[:7]):
        raise InvalidInput(msg("card.error.track2_short"))
    return check_pan(pan), rest[:4], rest[4:7]
