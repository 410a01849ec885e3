"""An in-process card on the same T=0-aware exchange the PC/SC transport uses."""

from __future__ import annotations

from datetime import datetime

from drivers.emv.config import TerminalConfig
from drivers.emv.kernel import EmvKernel, TransactionInput
from drivers.emv.selection import Candidate
from drivers.pcsc.t0 import ApduExchange, split_response
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import CardProfile

WHEN = datetime(2026, 1, 5, 10, 30, 0)
CNY = bytes.fromhex("0156")


def exchange_for(card: EmvCard) -> ApduExchange:
    return ApduExchange(lambda apdu: split_response(card.respond(apdu)))


def first_choice(candidates: list[Candidate]) -> Candidate:
    return candidates[0]


def kernel_for(profile: CardProfile, config: TerminalConfig | None = None, choose=first_choice):
    card = EmvCard(profile)
    ex = exchange_for(card)
    return card, ex, EmvKernel(ex, config or TerminalConfig(), choose)


def txn(amount: int = 1234, offline_allowed: bool = True) -> TransactionInput:
    return TransactionInput(amount, CNY, WHEN, offline_allowed)
