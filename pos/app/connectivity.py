"""Whether the till is online, as the risk rules ask it before every tender:
the sync link's last answer and the payment channels' circuit breakers."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Connectivity:
    """Online until something says otherwise: the sync worker reports each
    attempt (`link`), and a till whose every network channel has its breaker
    open is offline whatever the link said."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._link_up = True
        self._channels_up: Callable[[], bool] = lambda: True

    def link(self, up: bool) -> None:
        """The sync link's latest attempt reached the server, or did not."""
        with self._lock:
            self._link_up = up

    def watch_channels(self, channels_up: Callable[[], bool]) -> None:
        self._channels_up = channels_up

    def __call__(self) -> bool:
        with self._lock:
            link_up = self._link_up
        return link_up and self._channels_up()
