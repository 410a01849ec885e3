"""The CardTerminal port: what the card channel asks of a card reader.
drivers/ implements it over PC/SC with an EMV kernel; the core never sees
APDUs, only these results.

A session is: `read_card` (application selection to the first GENERATE AC),
then, when the card asked to go online, `complete` with the host's answer
(or None when the host could not be reached), then `end`. The full PAN and
track 2 cross this port only to be sent to the acquirer; they are left out
of every repr and must not be stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pos.errors import PosError
from pos.messages import msg
from pos.money import Money

# ISO 4217 numeric codes (EMV 5F2A, ISO 8583 field 49) of the currencies the
# store can sell in.
_NUMERIC_CURRENCY = {"CNY": "156", "HKD": "344", "MOP": "446", "USD": "840", "EUR": "978"}


def numeric_currency(code: str) -> str:
    try:
        return _NUMERIC_CURRENCY[code]
    except KeyError:
        raise PosError(msg("card.error.currency", currency=code)) from None


class CardSessionLost(PosError):
    """The card was pulled or the reader went away mid-transaction: what the
    card did last is known, what comes after it is not."""


class CardWaitCancelled(PosError):
    """The cashier cancelled while the reader waited for the card."""


class CardNotInserted(PosError):
    """No card came before the reader stopped waiting."""


def _never() -> bool:
    return False


@dataclass(frozen=True)
class CardRequest:
    amount: Money
    when: datetime  # the terminal's local time, for the card's transaction date
    offline_allowed: bool  # the terminal's caps and the risk decision allow an offline approval
    cancelled: Callable[[], bool] = _never  # polled while the reader waits for the card


@dataclass(frozen=True)
class CardRead:
    """The card's answer to the first GENERATE AC and what the terminal learnt."""

    decision: str  # "online" (ARQC), "offline" (TC), "declined" (AAC)
    decline_reason: str
    masked_pan: str
    expiry: str  # YYMM
    psn: str | None
    aid: str
    label: str
    brand: str
    atc: int
    cryptogram: str
    cryptogram_type: str
    tvr: str
    tsi: str
    cvm: str  # "signature" or "no_cvm"
    icc_data: bytes  # field 55: BER-TLV, no PAN or track data
    apdu_count: int
    elapsed_ms: float
    pan: str = field(repr=False, default="")
    track2: str = field(repr=False, default="")


@dataclass(frozen=True)
class CardCompletion:
    """The card's final word (second GENERATE AC)."""

    approved: bool
    cryptogram_type: str  # "TC" or "AAC"
    cryptogram: str
    icc_data: bytes
    tvr: str
    decline_reason: str


class CardTerminal(Protocol):
    def read_card(self, request: CardRequest) -> CardRead: ...

    def complete(self, arc: str | None, issuer_auth: bytes | None) -> CardCompletion: ...

    def end(self, message: str) -> None:
        """Tells the cardholder to take the card, and closes the session."""
        ...
