"""An 8217 scale on a pseudo-terminal, for tests and the demo: the driver
opens its `port` (/dev/pts/N) exactly as it opens /dev/ttyUSB0.

The emulator answers W and Z as a scale does. Its platter is set from the
outside: `place(grams, settle=n)` answers the next n weight requests "in
motion" before the weight is stable; `overload()`, `below_zero()`,
`noise(bytes)` and `silent()` put it in the other states; `unplug()` closes
the master side, which the driver sees as a lost device.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty

from drivers.scale.protocol import (
    CENTER_OF_ZERO,
    MOTION,
    OVER_CAPACITY,
    UNDER_ZERO,
    WEIGHT,
    ZERO,
    Unit,
    status_frame,
    weight_frame,
)


class EmulatedScale:
    def __init__(self, unit: Unit = Unit.KG, capacity_g: int = 15_000) -> None:
        self.unit = unit
        self.capacity_g = capacity_g
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: bytes as sent
        self.port = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._grams = 0
        self._unsettled = 0
        self._under_zero = False
        self._noise = b""
        self._silent = False
        self._stop = threading.Event()
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._run, name="emulated scale", daemon=True)

    # -- the platter -----------------------------------------------------

    @property
    def grams(self) -> int:
        with self._lock:
            return self._grams

    def place(self, grams: int, settle: int = 0) -> None:
        """Put `grams` on the platter; the next `settle` readings are in motion."""
        with self._lock:
            self._grams, self._unsettled, self._under_zero = grams, settle, False

    def overload(self) -> None:
        self.place(self.capacity_g + 1)

    def below_zero(self) -> None:
        with self._lock:
            self._grams, self._unsettled, self._under_zero = 0, 0, True

    def noise(self, data: bytes) -> None:
        """Bytes sent before every answer (and only those, if `silent`)."""
        with self._lock:
            self._noise = data

    def silent(self, on: bool = True) -> None:
        with self._lock:
            self._silent = on

    def unplug(self) -> None:
        """The cable is pulled: the driver's next read fails."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- running -----------------------------------------------------------

    def start(self) -> EmulatedScale:
        self._thread.start()
        return self

    def __enter__(self) -> EmulatedScale:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.unplug()

    def answer(self, command: bytes) -> bytes:
        """The scale's reply to one command byte."""
        with self._lock:
            self.requests.append(command)
            prefix = self._noise
            if self._silent:
                return prefix
            if command == ZERO:
                if self._grams <= self.capacity_g // 50:  # zero range: 2% of capacity
                    self._grams, self._under_zero = 0, False
                return prefix + status_frame(self._status())
            if command != WEIGHT:
                return prefix + status_frame(self._status())
            status = self._status()
            if self._unsettled:
                self._unsettled -= 1
                status |= MOTION
            if status & (MOTION | OVER_CAPACITY | UNDER_ZERO):
                return prefix + status_frame(status)
            return prefix + weight_frame(self._grams, self.unit)

    def _status(self) -> int:
        status = 0
        if self._under_zero:
            status |= UNDER_ZERO
        elif self._grams > self.capacity_g:
            status |= OVER_CAPACITY
        elif self._grams == 0:
            status |= CENTER_OF_ZERO
        return status

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self._master, 64)
            except OSError:
                return
            for byte in data:
                reply = self.answer(bytes([byte & 0x7F]))
                if reply:
                    try:
                        os.write(self._master, reply)
                    except OSError:
                        return
