"""Data object lists (EMV Book 3, 5.4): a card names tags and lengths (PDOL,
CDOL1, CDOL2) and the terminal answers with the values concatenated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pos.payments.card.tlv import TlvError, read_length, read_tag

# Tags of format n (BCD): padded and truncated on the left; all others on the right.
NUMERIC_TAGS = frozenset(
    {0x9F02, 0x9F03, 0x9F1A, 0x5F2A, 0x9A, 0x9C, 0x9F21, 0x5F24, 0x5F25, 0x5F34, 0x9F41}
)


@dataclass(frozen=True)
class DolEntry:
    tag: int
    length: int


def parse_dol(data: bytes) -> list[DolEntry]:
    out: list[DolEntry] = []
    pos = 0
    while pos < len(data):
        tag, pos = read_tag(data, pos)
        length, pos = read_length(data, pos)
        out.append(DolEntry(tag, length))
    return out


def fit(tag: int, value: bytes, length: int) -> bytes:
    if len(value) == length:
        return value
    if tag in NUMERIC_TAGS:
        return value[-length:] if len(value) > length else bytes(length - len(value)) + value
    return value[:length] if len(value) > length else value + bytes(length - len(value))


def build_dol(dol: list[DolEntry], values: Mapping[int, bytes]) -> bytes:
    """The DOL's data: values the terminal lacks are zeros, as the spec says."""
    return b"".join(fit(e.tag, values.get(e.tag, b""), e.length) for e in dol)


def split_dol(dol: list[DolEntry], data: bytes) -> dict[int, bytes]:
    """The card's side: the terminal's concatenated data back into values."""
    need = sum(e.length for e in dol)
    if len(data) != need:
        raise TlvError(f"DOL data is {len(data)} bytes, {need} expected")
    out: dict[int, bytes] = {}
    pos = 0
    for e in dol:
        out[e.tag] = data[pos : pos + e.length]
        pos += e.length
    return out
