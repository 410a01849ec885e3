"""The scale port: what the till asks of a weighing scale, whatever its make.

A weight is integer grams, never a float, with the scale's own word on
whether it is stable. Only a stable weight may price a line: legal-for-trade
scales refuse to report one in motion, over capacity or below zero, and so
does this port (as a `ScaleError` that says what to do).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pos.errors import InvalidInput, PosError
from pos.messages import Message, msg


class ScaleState(enum.Enum):
    STABLE = "stable"
    MOTION = "motion"  # the load is still settling
    OVERLOAD = "overload"  # over capacity: no weight shown
    UNDER_ZERO = "under_zero"  # below zero: the scale needs zeroing
    ZERO_ERROR = "zero_error"  # outside the zero capture range at power-up


@dataclass(frozen=True, slots=True)
class Weighing:
    """One reading. `grams` is meaningful only when `state` is STABLE or MOTION."""

    grams: int
    state: ScaleState
    at_zero: bool = False

    @property
    def stable(self) -> bool:
        return self.state is ScaleState.STABLE

    def message(self) -> Message:
        """What the cashier is told about this reading."""
        if self.state is ScaleState.STABLE:
            return msg("scale.reading.stable", kg=kilograms(self.grams))
        return msg(f"scale.state.{self.state.value}")


class ScaleError(PosError):
    """The scale cannot give a weight now: unplugged, silent, overloaded..."""

    exit_code = 1


class Scale(Protocol):
    """A weighing scale the till reads. Implementations run their device I/O
    on their own thread; these calls block the caller at most `timeout_s`,
    so the UI calls them from an operation, never from its own thread."""

    def read(self, timeout_s: float) -> Weighing:
        """The current reading, stable or not; ScaleError when there is none."""
        ...

    def read_stable(self, timeout_s: float) -> Weighing:
        """Waits up to `timeout_s` for a stable, positive weight; ScaleError
        saying why (still moving, overloaded, below zero, no answer) if none."""
        ...

    def zero(self, timeout_s: float) -> Weighing: ...

    def close(self) -> None: ...


def kilograms(grams: int) -> str:
    """Grams as the kilogram text shoppers read on the scale ("1.234")."""
    sign = "-" if grams < 0 else ""
    whole, rest = divmod(abs(grams), 1000)
    return f"{sign}{whole}.{rest:03d}"


SCALE_GROUP = "pos.scales"  # entry points: name -> factory(port, unit) -> Scale


def open_scale(
    port: str | None,
    unit: str = "kg",
    kind: str = "serial",
    environ: Mapping[str, str] | None = None,
) -> Scale:
    """The scale on `port` (else POS_SCALE), from the driver registered under
    `kind` in the `pos.scales` entry-point group: the core names no driver."""
    port = port or (os.environ if environ is None else environ).get("POS_SCALE")
    if not port:
        raise InvalidInput(msg("scale.no_port"))
    from importlib.metadata import entry_points  # scanning costs ~20 ms: only here

    found = [ep for ep in entry_points(group=SCALE_GROUP) if ep.name == kind]
    if not found:
        raise ScaleError(msg("scale.no_driver", kind=kind))
    factory: Callable[[str, str], Scale] = found[0].load()
    return factory(port, unit)


def weigh(scale: Scale, timeout_s: float) -> int:
    """Grams of a stable weight on `scale`, which is closed afterwards."""
    try:
        return scale.read_stable(timeout_s).grams
    finally:
        scale.close()
