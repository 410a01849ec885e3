"""Operations off the UI thread (after Anki's CollectionOp/QueryOp).

Two lanes: `store`, one thread that owns the terminal's database connection
(every flow call that reads or writes the store runs there, in order), and
`io`, a small pool for gateway polls, card sessions, exports and sync, which
may take minutes and must not hold up the till.

A result comes back to the UI thread by a queued signal. Each operation
belongs to a `Scope` (a screen, a dialog); when the scope is left, results
that arrive later are dropped instead of redrawing a screen that has moved on,
and its running operations are asked to cancel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pos.flows.cancel import CancelToken
from ui.qt import QObject, Signal

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Bridge(QObject):
    """Lives on the UI thread; a callable emitted from a worker runs there."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(lambda fn: fn())


class Scope:
    """What an operation's result is for. `leave()` drops late results."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.generation = 0
        self._running: set[Op[Any]] = set()

    def leave(self) -> None:
        self.generation += 1
        for op in list(self._running):
            op.cancel.cancel()
        self._running.clear()


@dataclass(eq=False)
class Op(Generic[T]):
    name: str
    scope: Scope
    generation: int
    cancel: CancelToken = field(default_factory=CancelToken)
    on_progress: Callable[[int, int], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def current(self) -> bool:
        return self.generation == self.scope.generation

    def progress(self, done: int, total: int) -> None:
        """Called by the worker; shown on the UI thread if the scope is current."""
        cb = self.on_progress
        if cb is not None:
            self._ops._post(lambda: cb(done, total) if self.current else None)

    _ops: Ops = field(init=False, repr=False)


class Ops:
    def __init__(self, io_threads: int = 3) -> None:
        self._bridge = _Bridge()
        self._store = ThreadPoolExecutor(1, thread_name_prefix="pos-store")
        self._io = ThreadPoolExecutor(io_threads, thread_name_prefix="pos-io")
        self._pending = 0
        self._closed = False
        self._lock = threading.Lock()
        self.on_error: Callable[[str, BaseException], None] = _log_error

    def _post(self, fn: Callable[[], None]) -> None:
        self._bridge.call.emit(fn)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def run(
        self,
        name: str,
        fn: Callable[[Op[T]], T],
        scope: Scope,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        lane: str = "store",
    ) -> Op[T]:
        """Run `fn(op)` on a worker; `on_done(result)` or `on_error(exc)` runs on
        the UI thread, only if `scope` has not been left meanwhile."""
        op: Op[T] = Op(name, scope, scope.generation, on_progress=on_progress)
        op._ops = self
        if self._closed:
            # The app is shutting down (a last timer tick): nothing runs any more.
            log.debug("not running %s: shutting down", name)
            op.cancel.cancel()
            op.done.set()
            return op
        scope._running.add(op)
        with self._lock:
            self._pending += 1
        pool = self._io if lane == "io" else self._store

        def work() -> None:
            try:
                result = fn(op)
            except BaseException as exc:  # delivered to the screen, never lost
                error = exc
                self._post(lambda: self._finish(op, None, error, on_done, on_error))
            else:
                self._post(lambda: self._finish(op, result, None, on_done, on_error))

        pool.submit(work)
        return op

    def _finish(
        self,
        op: Op[T],
        result: T | None,
        exc: BaseException | None,
        on_done: Callable[[T], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        with self._lock:
            self._pending -= 1
        op.scope._running.discard(op)
        op.done.set()
        if not op.current:
            log.debug("dropped late result of %s for %s", op.name, op.scope.name)
            return
        if exc is not None:
            (on_error or (lambda e: self.on_error(op.name, e)))(exc)
        elif on_done is not None:
            on_done(result)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        self._closed = True
        self._io.shutdown(wait=False, cancel_futures=True)
        self._store.shutdown(wait=True, cancel_futures=True)


def _log_error(name: str, exc: BaseException) -> None:
    log.error("operation %s failed: %s", name, exc, exc_info=exc)
