"""The background worker: full-jitter backoff while the server is away, and
recovery once it is back."""

from __future__ import annotations

import random
import threading
from typing import Any

from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, SyncReport, enroll, status
from sync.worker import SyncWorker, backoff_delay


def test_backoff_grows_exponentially_within_its_cap_and_is_jittered() -> None:
    rng = random.Random(1)
    for failures in range(1, 12):
        bound = min(60.0, 0.5 * 2**failures)
        samples = [backoff_delay(failures, rng, base=0.5, cap=60.0) for _ in range(200)]
        assert all(0 <= s <= bound for s in samples)
        assert max(samples) > bound * 0.8  # spread over the whole window ...
        assert len({round(s, 6) for s in samples}) > 150  # ... not in step
    assert backoff_delay(0, rng) == 0.0
    assert backoff_delay(10_000, rng, base=1, cap=300) <= 300


def test_the_worker_backs_off_while_offline_and_catches_up_when_the_server_returns(
    shop: TerminalServices, server: Any, ring_up: Any
) -> None:
    enroll(shop.terminal, server.url, server.code())
    server.stop()
    ring_up(shop, 10)
    events: list[str] = []
    caught_up = threading.Event()

    def on_report(report: SyncReport | None, exc: Exception | None) -> None:
        events.append("fail" if exc else "ok")
        if report is not None and status(shop.terminal).backlog == 0:
            caught_up.set()

    worker = SyncWorker(
        lambda: SyncClient.for_terminal(shop.terminal, {}, timeout=2.0),
        interval=0.05,
        base_backoff=0.02,
        max_backoff=0.2,
        on_report=on_report,
    )
    worker.start()
    try:
        while events.count("fail") < 3:
            threading.Event().wait(0.05)
        assert worker.failures >= 3
        assert worker.next_delay() <= 0.2
        back = server.restart()
        try:
            assert caught_up.wait(30)
            assert worker.failures == 0
        finally:
            worker.stop()
            back.stop()
    finally:
        worker.stop()
    st = status(shop.terminal)
    assert st.online and st.backlog == 0 and st.last_success_at
