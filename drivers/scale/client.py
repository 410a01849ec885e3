"""The session with one serial scale: the port, its own device thread, and the
`Scale` port (pos.scale) the till reads weights through.

Every byte to and from the scale goes through the one device thread; callers
hand it a command and wait on the answer with a deadline, so a silent,
unplugged or babbling scale costs a caller at most its timeout, never a
hang. A port that fails is closed and opened again on the next request
(scales are unplugged and plugged back in during a day).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import serial

from drivers.scale.handler import ScaleHandler
from drivers.scale.protocol import WEIGHT, ZERO, BadFrame, FrameReader, Unit, parse_frame
from pos.messages import msg
from pos.scale import ScaleError, ScaleState, Weighing

ANSWER_S = 1.0  # an 8217 scale answers within ~100 ms; a second means no scale
POLL_S = 0.1  # between weight requests while waiting for a stable weight
_READ_SLICE_S = 0.05


def open_serial(port: str) -> Any:
    """The port as an 8217 scale is set up: 9600 7E1. A pseudo-terminal (the
    emulator) has no framing to set, and Linux refuses 7E1 on one that was
    opened before, so it is opened 8N1; the frame reader drops parity bits
    either way."""
    pty = port.startswith("/dev/pts/")
    return serial.Serial(
        port,
        baudrate=9600,
        bytesize=serial.EIGHTBITS if pty else serial.SEVENBITS,
        parity=serial.PARITY_NONE if pty else serial.PARITY_EVEN,
        stopbits=serial.STOPBITS_ONE,
        timeout=_READ_SLICE_S,
        write_timeout=ANSWER_S,
    )


@dataclass
class _Request:
    command: bytes
    deadline: float
    future: Future[Weighing]


_STOP = object()


class SerialScale:
    """A Toledo 8217 scale on a serial port (or a pty, for the emulator)."""

    def __init__(
        self,
        port: str,
        unit: Unit = Unit.KG,
        opener: Callable[[str], Any] = open_serial,
        answer_s: float = ANSWER_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.unit = unit
        self._opener = opener
        self._answer_s = answer_s
        self._now = monotonic
        self._conn: Any = None
        self._requests: queue.Queue[_Request | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"scale {port}", daemon=True)
        self._thread.start()

    # -- the Scale port --------------------------------------------------

    def read(self, timeout_s: float = ANSWER_S) -> Weighing:
        return self._ask(WEIGHT, timeout_s)

    def zero(self, timeout_s: float = ANSWER_S) -> Weighing:
        return self._ask(ZERO, timeout_s)

    def read_stable(self, timeout_s: float, handler: ScaleHandler | None = None) -> Weighing:
        """Polls until the scale reports a stable weight above zero. Overload,
        below zero and a zero error need the cashier, so they end the wait at
        once; motion and an empty platter are waited out until `timeout_s`."""
        deadline = self._now() + timeout_s
        last: Weighing | None = None
        while True:
            # Each request gets the scale's full answer time; the deadline
            # bounds how long the polling goes on.
            w = self.read(self._answer_s)
            if w.stable and w.grams > 0:
                return w
            if w.state in (ScaleState.OVERLOAD, ScaleState.UNDER_ZERO, ScaleState.ZERO_ERROR):
                raise ScaleError(w.message())
            if handler is not None and (
                last is None or last.state != w.state or last.grams != w.grams
            ):
                handler.show(w.message() if not w.stable else msg("scale.empty"))
            last = w
            if self._now() + POLL_S >= deadline:
                raise ScaleError(w.message() if not w.stable else msg("scale.empty"))
            time.sleep(POLL_S)

    def close(self) -> None:
        self._requests.put(_STOP)
        self._thread.join(timeout=2 * self._answer_s + 1)

    def __enter__(self) -> SerialScale:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the caller's side ----------------------------------------------

    def _ask(self, command: bytes, timeout_s: float) -> Weighing:
        if not self._thread.is_alive():
            raise ScaleError(msg("scale.closed"))
        future: Future[Weighing] = Future()
        wait = min(timeout_s, self._answer_s)
        self._requests.put(_Request(command, self._now() + wait, future))
        try:
            # The device thread always settles the future by the deadline;
            # the margin covers a write that blocks before it looks.
            return future.result(timeout=wait + self._answer_s + 0.5)
        except FutureTimeout:
            raise ScaleError(msg("scale.no_answer", port=self.port)) from None

    # -- the device thread -----------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._requests.get()
            if item is _STOP or not isinstance(item, _Request):
                self._drop_connection()
                return
            try:
                item.future.set_result(self._exchange(item))
            except ScaleError as exc:
                item.future.set_exception(exc)
            except Exception as exc:
                self._drop_connection()
                item.future.set_exception(
                    ScaleError(msg("scale.disconnected", port=self.port, reason=str(exc)))
                )

    def _connection(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self._opener(self.port)
            except (serial.SerialException, OSError, ValueError) as exc:
                raise ScaleError(
                    msg("scale.cannot_open", port=self.port, reason=_reason(exc))
                ) from None
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                conn.close()

    def _exchange(self, request: _Request) -> Weighing:
        if threading.current_thread() is not self._thread:
            raise RuntimeError("scale I/O outside its device thread")  # a programming error
        conn = self._connection()
        try:
            conn.reset_input_buffer()  # a late answer to an earlier request is stale
            conn.write(request.command)
            reader = FrameReader()
            bad = 0
            while self._now() < request.deadline:
                for frame in reader.feed(conn.read(64)):
                    try:
                        return parse_frame(frame, self.unit).weighing
                    except BadFrame:
                        bad += 1
        except (serial.SerialException, OSError) as exc:
            self._drop_connection()
            raise ScaleError(
                msg("scale.disconnected", port=self.port, reason=_reason(exc))
            ) from None
        if bad or reader.dropped:
            raise ScaleError(msg("scale.garbled", port=self.port))
        raise ScaleError(msg("scale.no_answer", port=self.port))


def _reason(exc: BaseException) -> str:
    """The system's words for what failed (pyserial wraps errno and text)."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return str(exc) or type(exc).__name__
