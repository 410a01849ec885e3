"""The kiosk's tower lamp (the light on a pole that tells staff a kiosk needs
them): lit when the kiosk calls its attendant, off when one has come.

`pos` defines what it asks of a lamp (pos.flows.ports.AttendantLamp); this
module holds the implementations. `LoggedLamp` keeps the lamp's state and
writes each change to the log and, when given a path, to a small JSON file a
lamp controller (or a test, or the demo) watches; a wired lamp (a USB relay,
a networked signal tower) is one more class with the same two methods."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "tower_lamp.json"


@dataclass(frozen=True, slots=True)
class LampState:
    lit: bool
    reason: str = ""
    calls: int = 0  # times it was lit since the kiosk started


class LoggedLamp:
    """An emulated lamp: its state in memory, in the log, and in `path`."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._state = LampState(False)

    @property
    def state(self) -> LampState:
        with self._lock:
            return self._state

    def call(self, reason: str) -> None:
        with self._lock:
            self._state = LampState(True, reason, self._state.calls + 1)
            state = self._state
        log.warning("tower lamp on: %s", reason)
        self._write(state)

    def clear(self) -> None:
        with self._lock:
            self._state = LampState(False, "", self._state.calls)
            state = self._state
        log.info("tower lamp off")
        self._write(state)

    def _write(self, state: LampState) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        try:
            tmp.write_text(
                json.dumps({"lit": state.lit, "reason": state.reason, "calls": state.calls})
            )
            os.replace(tmp, self._path)
        except OSError as exc:  # the lamp's file is a convenience; the journal is the record
            log.warning("tower lamp state not written: %s", exc)


def open_tower_lamp(data_dir: Path) -> LoggedLamp:
    """The lamp for this terminal: the emulated one, its state in the data directory."""
    return LoggedLamp(data_dir / STATE_FILE)
