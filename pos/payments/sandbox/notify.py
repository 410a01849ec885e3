"""The sandbox platforms' asynchronous notifications: when a trade with a
notify_url becomes paid, the platform's signed message is POSTed there, and
sent again with growing pauses until the terminal acknowledges it (Alipay:
the text "success"; WeChat Pay: 200 or 204), as the real platforms do, only
sooner. Only loopback addresses are notified: the sandbox never calls out.

The thread also moves waiting trades along their scenarios, so a shopper who
pays after N seconds is notified then, not when someone next asks."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from pos.payments.sandbox.state import SandboxState, Trade

log = logging.getLogger(__name__)
RETRY_AFTER = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # seconds; the platforms use minutes
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

Build = Callable[[Trade], tuple[dict[str, str], bytes]]


@dataclass(frozen=True)
class Delivery:
    platform: str
    out_trade_no: str
    url: str
    headers: dict[str, str]
    body: bytes
    attempt: int = 0


def _acknowledged(platform: str, resp: httpx.Response) -> bool:
    if platform == "alipay":
        return resp.status_code == 200 and resp.content.strip() == b"success"
    return resp.status_code in (200, 204)


class Notifier:
    def __init__(self, state: SandboxState, builders: Mapping[str, Build]) -> None:
        self.state = state
        self._builders = dict(builders)
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.acknowledged: list[Delivery] = []
        self.given_up: list[Delivery] = []
        state.on_paid.append(self._paid)

    def _paid(self, trade: Trade) -> None:
        """Called under the state's lock as the trade becomes paid."""
        host = urlsplit(trade.notify_url).hostname if trade.notify_url else None
        if host not in _LOOPBACK or trade.platform not in self._builders:
            return
        headers, body = self._builders[trade.platform](trade)
        self._queue.put(
            Delivery(trade.platform, trade.out_trade_no, trade.notify_url, headers, body)
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while not self._stopping.is_set():
                try:
                    delivery = self._queue.get(timeout=0.2)
                except queue.Empty:
                    self.state.view()  # trades move on (and may become paid) as time passes
                    continue
                self._deliver(client, delivery)

    def _deliver(self, client: httpx.Client, d: Delivery) -> None:
        try:
            resp = client.post(d.url, headers=d.headers, content=d.body)
            done = _acknowledged(d.platform, resp)
            why = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            done, why = False, f"{type(exc).__name__}"
        if done:
            self.acknowledged.append(d)
            return
        if d.attempt >= len(RETRY_AFTER):
            log.warning("sandbox: gave up notifying %s to %s (%s)", d.out_trade_no, d.url, why)
            self.given_up.append(d)
            return
        again = Delivery(d.platform, d.out_trade_no, d.url, d.headers, d.body, d.attempt + 1)
        timer = threading.Timer(RETRY_AFTER[d.attempt], self._queue.put, [again])
        timer.daemon = True
        timer.start()
