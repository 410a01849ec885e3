"""Application identifiers the terminal supports when the card has no PSE
(EMV Book 1, 12.3.3), with the brand each belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownAid:
    aid: bytes
    brand: str
    # Partial selection: the card may hold longer AIDs that start with this one.
    partial: bool = True


SUPPORTED_AIDS: tuple[KnownAid, ...] = (
    KnownAid(bytes.fromhex("A0000000031010"), "Visa"),
    KnownAid(bytes.fromhex("A0000000032010"), "Visa Electron"),
    KnownAid(bytes.fromhex("A0000000041010"), "Mastercard"),
    KnownAid(bytes.fromhex("A0000000043060"), "Maestro"),
    KnownAid(bytes.fromhex("A000000333010101"), "UnionPay Debit"),
    KnownAid(bytes.fromhex("A000000333010102"), "UnionPay Credit"),
    KnownAid(bytes.fromhex("A000000333010103"), "UnionPay Quasi-credit"),
    KnownAid(bytes.fromhex("A00000002501"), "American Express"),
    KnownAid(bytes.fromhex("A0000000651010"), "JCB"),
    KnownAid(bytes.fromhex("A0000001523010"), "Discover"),
)

PSE_NAME = b"1PAY.SYS.DDF01"


def brand_of(aid: bytes) -> str:
    best_len, name = 0, "Card"
    for k in SUPPORTED_AIDS:
        if aid.startswith(k.aid) and len(k.aid) > best_len:
            best_len, name = len(k.aid), k.brand
    return name


def is_supported(aid: bytes) -> bool:
    return any(aid.startswith(k.aid) for k in SUPPORTED_AIDS)
