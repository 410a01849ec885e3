"""Chain-wide risk on the server: analysis of every terminal's journal as it
arrives (`analysis`), the hot list pushed back to the terminals through the
signed configuration channel, and the rule lifecycle (`lifecycle`).

`RiskHook.after_upload` is the one call the journal upload makes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from pos.clock import Clock
from sync.server import configs
from sync.server.risk.analysis import ChainAnalysis, Outcome, Thresholds, hotlist_document

log = logging.getLogger(__name__)

HOTLIST_KIND = "risk_hotlist"
PUBLISH_EVERY_S = 1.0


class RiskHook:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        key: Ed25519PrivateKey | Callable[[], Ed25519PrivateKey],
        thresholds: Thresholds | None = None,
    ) -> None:
        self.analysis = ChainAnalysis(engine, clock, thresholds)
        self.engine = engine
        self.clock = clock
        # The server's current key, asked at each publication so a rotation
        # made by any process is followed.
        self.signing_key: Callable[[], Ed25519PrivateKey] = key if callable(key) else lambda: key
        self._lock = threading.Lock()
        self._last_publish: float | None = None
        self._timer: threading.Timer | None = None

    def after_upload(self, terminal_id: str, store_id: str, entries: Sequence[Any]) -> Outcome:
        """Analyse a stored batch; publish the hot list when it changed. Never
        fails the upload: the entries are stored, and the terminal's cursor
        stays behind so its next upload analyses them."""
        try:
            out = self.analysis.on_stored(terminal_id, store_id, entries)
            if out.hotlist_changed:
                self._hotlist_changed()
            return out
        except Exception:  # the upload was acknowledged; analysis catches up later
            log.exception(
                "risk analysis of %s failed; it resumes with the next upload", terminal_id
            )
            return Outcome()

    def _hotlist_changed(self) -> None:
        """Publish at once, unless this process published less than a second
        ago: then once more a second after the last (every change is in the
        database, so the later publication carries it). A busy analysis does
        not re-sign the whole list for every batch; terminals pull every 15 s."""
        with self._lock:
            now = self.clock.monotonic()
            if self._last_publish is None or now - self._last_publish >= PUBLISH_EVERY_S:
                self._last_publish = now
                wait = None
            elif self._timer is None:
                wait = PUBLISH_EVERY_S - (now - self._last_publish)
                self._timer = threading.Timer(wait, self._publish_later)
                self._timer.daemon = True
                self._timer.start()
                return
            else:
                return
        self.publish_hotlist()

    def _publish_later(self) -> None:
        with self._lock:
            self._timer = None
            self._last_publish = self.clock.monotonic()
        try:
            self.publish_hotlist()
        except Exception:
            log.exception("publishing the hot list failed; the next change publishes it")

    def publish_hotlist(self) -> int:
        now_ms = int(self.clock.now().timestamp() * 1000)
        body = hotlist_document(self.engine, now_ms)
        return configs.publish(self.engine, self.clock, self.signing_key(), HOTLIST_KIND, body)
