"""Every code a payment platform can send, and the terminal's own outcomes, as a
short message in Chinese and English with the next step for the cashier or
shopper. The texts live in the one message catalogue (payments.toml, card.toml);
this module finds the most specific one for a platform's reply. An unknown code
gets a safe generic message; the raw code is logged."""

from __future__ import annotations

import logging
from typing import Any

from pos.errors import PosError
from pos.messages import Message, domain_texts, has, msg
from pos.payments.channel import Notice

log = logging.getLogger(__name__)

GENERIC = "payments.unknown_code"


def _prefix(platform: str) -> str:
    # The card channel's codes are a domain of their own (card.toml).
    return "card." if platform == "card" else f"payments.{platform}."


def message_for(platform: str, key: str) -> Message | None:
    """The catalogue message for one platform code, or None when it has none."""
    code = _prefix(platform) + key
    return msg(code) if key and has(code) else None


def explain(platform: str, code: str = "", sub_code: str = "") -> Notice:
    """The most specific message for (sub_code, code); never fails."""
    found = {key: message_for(platform, key) for key in (sub_code, code) if key}
    if (sub_code and found.get(sub_code) is None) or (
        not sub_code and code and found.get(code) is None
    ):
        log.warning(
            "payment code without a message: platform=%s code=%r sub_code=%r",
            platform,
            code,
            sub_code,
        )
    for key in (sub_code, code):
        message = found.get(key)
        if message is not None:
            return _notice(f"{platform}.{key}", message)
    return _notice(f"{platform}.unknown", msg(GENERIC))


def notice(key: str) -> Notice:
    return explain("pos", key)


def notice_with(platform: str, key: str, **params: Any) -> Notice:
    """The terminal's own notice whose text names values (a channel, an amount)."""
    return _notice(f"{platform}.{key}", msg(f"{_prefix(platform)}{key}", **params))


def notice_message(note: Notice) -> Message:
    """The catalogue message behind a notice (the generic one for an unknown code)."""
    platform, _, key = note.code.partition(".")
    return message_for(platform, key) or msg(GENERIC)


def known_codes(platform: str) -> frozenset[str]:
    prefix = _prefix(platform)
    texts = domain_texts(prefix.split(".", 1)[0])
    return frozenset(code.removeprefix(prefix) for code in texts if code.startswith(prefix))


def _notice(code: str, message: Message) -> Notice:
    return Notice(code, message.render("en"), message.render("zh_CN"))


class PaymentError(PosError):
    """A payment request the terminal refuses before anything is sent."""

    def __init__(self, note: Notice, locale: str = "en") -> None:
        platform, _, key = note.code.partition(".")
        message = message_for(platform, key)
        # A notice made on the spot (not from the catalogue) keeps its own text.
        super().__init__(message if message is not None else note.text(locale))
        self.notice = note
