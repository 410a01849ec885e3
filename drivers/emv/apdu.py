"""Command APDUs the kernel sends and the transport it sends them over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pos.errors import PosError


@dataclass(frozen=True)
class Response:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def sw_text(self) -> str:
        return f"{self.sw:04X}"


class Transport(Protocol):
    """One APDU out, the card's final answer back (the transport does any
    T=0 GET RESPONSE / re-send with Le itself)."""

    def transmit(self, apdu: bytes) -> Response: ...


class CardError(PosError):
    """The card answered in a way the payment cannot continue with."""


def _case4(cla: int, ins: int, p1: int, p2: int, data: bytes) -> bytes:
    if not 0 < len(data) < 256:
        raise CardError("command data does not fit a short APDU", "Use another card.")
    return bytes([cla, ins, p1, p2, len(data)]) + data + b"\x00"


def select(name: bytes, *, next_occurrence: bool = False) -> bytes:
    return _case4(0x00, 0xA4, 0x04, 0x02 if next_occurrence else 0x00, name)


def read_record(sfi: int, record: int) -> bytes:
    return bytes([0x00, 0xB2, record, (sfi << 3) | 0x04, 0x00])


def get_processing_options(pdol_data: bytes) -> bytes:
    return _case4(0x80, 0xA8, 0x00, 0x00, bytes([0x83, len(pdol_data)]) + pdol_data)


def generate_ac(reference_control: int, cdol_data: bytes) -> bytes:
    return _case4(0x80, 0xAE, reference_control, 0x00, cdol_data)


def get_data(tag: int) -> bytes:
    return bytes([0x80, 0xCA, (tag >> 8) & 0xFF, tag & 0xFF, 0x00])


def get_response(le: int) -> bytes:
    return bytes([0x00, 0xC0, 0x00, 0x00, le])


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with its Le replaced (the 6CXX re-send)."""
    return apdu[:-1] + bytes([le]) if _has_le(apdu) else apdu + bytes([le])


def _has_le(apdu: bytes) -> bool:
    if len(apdu) == 5:
        return True
    return len(apdu) > 5 and len(apdu) == 5 + apdu[4] + 1
