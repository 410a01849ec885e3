"""A circuit breaker per channel: after a run of failures the channel is not
offered for new payments until a cool-down has passed; then one trial is let
through, and its outcome closes or re-opens the breaker. Resolution of open
intents ignores the breaker: money already in flight is always chased."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from pos.clock import Clock


class BreakerState(StrEnum):
    CLOSED = "closed"  # healthy
    OPEN = "open"  # failing: not offered
    HALF_OPEN = "half_open"  # one trial in flight


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 3
    cooldown: float = 30.0


class CircuitBreaker:
    def __init__(self, clock: Clock, policy: BreakerPolicy | None = None) -> None:
        self._clock = clock
        self._policy = policy or BreakerPolicy()
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock.monotonic() - self._opened_at < self._policy.cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def available(self) -> bool:
        """May a new payment be offered on this channel (without taking the trial)?"""
        with self._lock:
            state = self._state()
            return state == BreakerState.CLOSED or (
                state == BreakerState.HALF_OPEN and not self._trial
            )

    def acquire(self) -> bool:
        """Take permission for a new payment; in half-open only one caller gets it."""
        with self._lock:
            state = self._state()
            if state == BreakerState.CLOSED:
                return True
            if state == BreakerState.HALF_OPEN and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self._policy.failure_threshold:
                self._opened_at = self._clock.monotonic()
            self._trial = False
