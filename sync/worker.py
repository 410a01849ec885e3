"""The background sync worker: one thread that pushes and pulls while the
terminal runs, backs off with jitter while the server is away, and wakes
early when a sale is made (`nudge`)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pos.errors import PosError
from sync.client import SyncClient, SyncReport
from sync.transport import LinkError

if TYPE_CHECKING:
    from pos.app import Till

log = logging.getLogger(__name__)


def backoff_delay(
    failures: int, rng: random.Random, base: float = 1.0, cap: float = 300.0
) -> float:
    """'Full jitter' exponential backoff: uniform in [0, min(cap, base * 2^n)],
    so a store's terminals coming back after an outage do not arrive in step."""
    if failures <= 0:
        return 0.0
    return rng.uniform(0.0, min(cap, base * 2 ** min(failures, 30)))


class SyncWorker:
    def __init__(
        self,
        make_client: Callable[[], SyncClient],
        *,
        interval: float = 15.0,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
        on_report: Callable[[SyncReport | None, Exception | None], None] | None = None,
    ) -> None:
        self._make_client = make_client
        self._interval = interval
        self._base = base_backoff
        self._cap = max_backoff
        self._rng = rng or random.Random()
        self._on_report = on_report
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self._other_server = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="pos-sync", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Sync soon (after a sale), unless backing off from a failure."""
        if self.failures == 0:
            self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def next_delay(self) -> float:
        if self.failures == 0:
            return self._interval
        if self._other_server:
            # Another of the server's URLs is not resting: try it soon (the
            # failed one rests; sync.failover), still jittered.
            return self._rng.uniform(0.05, min(0.5, self._base))
        return max(0.05, backoff_delay(self.failures, self._rng, self._base, self._cap))

    def run_once(self, client: SyncClient) -> SyncReport | None:
        self._other_server = False
        try:
            report = client.sync_once()
        except (LinkError, PosError) as exc:
            self._other_server = client.link.choice.alternative()
            self.failures += 1
            log.info("sync failed (%d in a row): %s", self.failures, exc)
            if self._on_report:
                self._on_report(None, exc)
            return None
        self.failures = 0
        if self._on_report:
            self._on_report(report, None)
        return report

    def _run(self) -> None:
        client = self._make_client()
        try:
            while not self._stop.is_set():
                self.run_once(client)
                self._wake.wait(self.next_delay())
                self._wake.clear()
        finally:
            client.close()


def start_for_till(till: Till, interval: float = 15.0) -> SyncWorker | None:
    """The `pos.till_services` entry: on an enrolled terminal, the worker that
    pushes the till's journal from the moment the till opens (its first sync
    runs at once), reporting the link to the till's connectivity, which the
    risk rules read. None on a terminal that is not enrolled."""
    from sync.apply import default_handlers
    from sync.client import enrolment

    terminal = till.terminal
    if enrolment(terminal) is None:
        return None

    def report(r: SyncReport | None, exc: Exception | None) -> None:
        till.connectivity.link(not isinstance(exc, LinkError))

    worker = SyncWorker(
        lambda: SyncClient.for_terminal(terminal, default_handlers(), timeout=10.0),
        interval=interval,
        on_report=report,
    )
    worker.start()
    return worker
