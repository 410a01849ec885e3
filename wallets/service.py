"""The till service (`pos.till_services` entry `wallets`) that reconciles the
offline member spends with the chain's ledger beside the journal's sync: at
once when the till opens, after each sale, and every `interval` seconds."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from wallets.client import LedgerUnknown, LedgerUnreachable
from wallets.link import MemberLink
from wallets.offline import OfflineBook

if TYPE_CHECKING:
    from pos.app.till import Till

log = logging.getLogger(__name__)


class WalletSync:
    def __init__(self, link: MemberLink, interval: float) -> None:
        self._link = link
        self._interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wallet-sync", daemon=True)

    def start(self) -> WalletSync:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._link.reconcile()
            except (LedgerUnreachable, LedgerUnknown) as exc:
                log.info("offline member spends wait for the server: %s", exc)
            self._wake.wait(self._interval)
            self._wake.clear()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(10)


def start_for_till(till: Till, interval: float = 15.0) -> WalletSync | None:
    """None unless the terminal is enrolled and takes stored value or points.
    With nothing to send, a pass makes no request."""
    from sync.client import enrolment
    from wallets.channel import MemberChannel

    router = till.router
    takes = any(isinstance(router.channel(n), MemberChannel) for n in router.channel_names)
    if not takes or enrolment(till.terminal) is None:
        return None
    return WalletSync(MemberLink(till.terminal, OfflineBook(till.data_dir)), interval).start()
