"""The Mettler Toledo 8217 point-of-sale scale protocol ("8217 weight only"),
as retail scales (Toledo Ariva/Viva, Rice Lake BenchPro, Brecknell,
Datalogic scanner-scales) speak it on RS-232: 9600 baud, 7 data bits, even
parity, 1 stop bit.

The host sends one ASCII command byte, no terminator:

    W   request weight        Z   zero the scale

The scale answers with one frame, STX ... CR:

    STX "01.234" CR           a stable weight (kg: 2.3 digits; lb: 2.2 or
                              3.2; grams: 6 digits, no point; 'N' may follow
                              when it is a net weight)
    STX "?" status CR         no valid weight, or the answer to Z / an
                              unknown command

Status byte: bit 0 in motion, bit 1 over capacity, bit 2 under zero,
bit 3 outside the zero capture range, bit 4 at centre of zero; bits 5 and 6
are fixed (0 or 1 by make), bit 7 is parity. Units are not sent: the scale is
set to kg, g or lb, and the driver is told which.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from pos.scale import ScaleState, Weighing

STX = 0x02
CR = 0x0D
WEIGHT = b"W"
ZERO = b"Z"
MAX_FRAME = 16  # longer without a CR is noise, not a frame

MOTION = 0x01
OVER_CAPACITY = 0x02
UNDER_ZERO = 0x04
OUTSIDE_ZERO_RANGE = 0x08
CENTER_OF_ZERO = 0x10
FIXED_BITS = 0x60

_WEIGHT = re.compile(rb" *(-?)([0-9]{1,7}(?:\.[0-9]{1,4})?) *(N?)")
_LB_GRAMS = Decimal("453.59237")


class Unit(enum.Enum):
    KG = "kg"
    G = "g"
    LB = "lb"

    def to_grams(self, text: str) -> int:
        value = Decimal(text)
        if self is Unit.KG:
            value *= 1000
        elif self is Unit.LB:
            value *= _LB_GRAMS
        return int(value.to_integral_value())


class BadFrame(ValueError):
    """A frame with STX and CR whose content is not an 8217 answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A parsed frame: a weighing (from a weight or a status frame)."""

    weighing: Weighing
    net: bool = False


def status_weighing(status: int) -> Weighing:
    """The state a status byte reports; the worst condition wins."""
    at_zero = bool(status & CENTER_OF_ZERO)
    if status & OVER_CAPACITY:
        return Weighing(0, ScaleState.OVERLOAD)
    if status & UNDER_ZERO:
        return Weighing(0, ScaleState.UNDER_ZERO)
    if status & OUTSIDE_ZERO_RANGE:
        return Weighing(0, ScaleState.ZERO_ERROR)
    if status & MOTION:
        return Weighing(0, ScaleState.MOTION, at_zero)
    return Weighing(0, ScaleState.STABLE, at_zero)


def parse_frame(body: bytes, unit: Unit) -> Answer:
    """The bytes between STX and CR (parity bits already stripped)."""
    if body[:1] == b"?":
        if len(body) != 2:
            raise BadFrame(f"status frame of {len(body)} bytes")
        return Answer(status_weighing(body[1]))
    m = _WEIGHT.fullmatch(body)
    if m is None:
        raise BadFrame("not a weight")
    if unit is Unit.G and b"." in m.group(2):
        raise BadFrame("a decimal point in a gram weight")
    grams = unit.to_grams(m.group(2).decode("ascii"))
    if m.group(1):
        grams = -grams
    state = ScaleState.UNDER_ZERO if grams < 0 else ScaleState.STABLE
    return Answer(Weighing(grams, state, grams == 0), net=bool(m.group(3)))


class FrameReader:
    """Cuts a byte stream into frames. Bytes outside STX ... CR (line noise,
    a scale set to another protocol) are dropped and counted, so one bad
    byte never costs more than the frame it hit."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        for byte in data:
            byte &= 0x7F  # 7 data bits: the eighth is parity
            if byte == STX:
                self.dropped += len(self._buf)
                self._buf = bytearray([STX])
            elif not self._buf:
                self.dropped += 1
            elif byte == CR:
                frames.append(bytes(self._buf[1:]))
                self._buf = bytearray()
            elif len(self._buf) >= MAX_FRAME:
                self.dropped += len(self._buf) + 1
                self._buf = bytearray()
            else:
                self._buf.append(byte)
        return frames


def weight_frame(grams: int, unit: Unit, net: bool = False) -> bytes:
    """What a scale set to `unit` sends for a stable `grams` (the emulator's side)."""
    if unit is Unit.KG:
        text = f"{grams // 1000:02d}.{grams % 1000:03d}"
    elif unit is Unit.G:
        text = f"{grams:06d}"
    else:
        hundredths = int((Decimal(grams) * 100 / _LB_GRAMS).to_integral_value())
        text = f"{hundredths // 100:02d}.{hundredths % 100:02d}"
    return bytes([STX]) + text.encode("ascii") + (b"N" if net else b"") + bytes([CR])


def status_frame(status: int) -> bytes:
    return bytes([STX]) + b"?" + bytes([FIXED_BITS | status]) + bytes([CR])
