"""One device thread per reader: every exchange with a reader's card runs on
that reader's own thread, so two callers never interleave APDUs and the UI
thread never blocks on a card."""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class _OnDevice(Protocol):
    device_thread: DeviceThread


def on_device_thread(fn: Callable[P, T]) -> Callable[P, T]:
    """Asserts a method of a device-owning object runs on its device thread."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        owner: _OnDevice = args[0]  # type: ignore[assignment]
        owner.device_thread.assert_current()
        return fn(*args, **kwargs)

    return wrapper


class DeviceThread:
    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"device:{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller, who re-raises it
                future.set_exception(exc)

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future

    def call(self, fn: Callable[[], T]) -> T:
        """Runs `fn` on the device thread and waits for its result."""
        if threading.current_thread() is self._thread:
            return fn()
        return self.submit(fn).result()

    def assert_current(self) -> None:
        if threading.current_thread() is not self._thread:
            raise RuntimeError(
                f"reader '{self.name}' used from thread {threading.current_thread().name}"
            )

    def stop(self) -> None:
        self._jobs.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)


class DeviceThreads:
    """The thread of each reader, created on first use."""

    def __init__(self) -> None:
        self._threads: dict[str, DeviceThread] = {}
        self._lock = threading.Lock()

    def for_reader(self, reader: str) -> DeviceThread:
        with self._lock:
            thread = self._threads.get(reader)
            if thread is None:
                thread = self._threads[reader] = DeviceThread(reader)
            return thread

    def stop_all(self) -> None:
        with self._lock:
            threads, self._threads = list(self._threads.values()), {}
        for t in threads:
            t.stop()
