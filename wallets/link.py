"""The channels' way to the chain's ledger from one terminal: its enrolment
(server URL, pinned server key), its signing key, the member-code key kept
in the terminal's keystore, and the reconciliation of offline spends."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos.errors import NotFound
from pos.messages import msg
from sync.client import enrolment, signing_key
from sync.protocol import RequestSigner, public_key_from_hex
from wallets.client import LedgerClient, LedgerRefusal, LedgerUnknown, LedgerUnreachable
from wallets.offline import OfflineBook

if TYPE_CHECKING:
    from pos.store.terminal import Terminal

log = logging.getLogger(__name__)
CODE_KEY = "member-code-key"


class MemberLink:
    def __init__(self, terminal: Terminal, book: OfflineBook, server_url: Any = None) -> None:
        self._terminal = terminal
        self._book = book
        self._url = str(server_url) if server_url else ""
        self._client: LedgerClient | None = None
        self._lock = threading.Lock()

    def _enrolment(self) -> tuple[str, str]:
        e = enrolment(self._terminal)
        if e is None:
            raise NotFound(msg("wallet.not_enrolled"))
        return self._url or e.server_url, e.server_key

    def client(self) -> LedgerClient:
        with self._lock:
            if self._client is None:
                url, _ = self._enrolment()
                t = self._terminal
                signer = RequestSigner(t.terminal_id, signing_key(t), t.clock)
                self._client = LedgerClient(url, signer)
            return self._client

    def has_client(self) -> bool:
        return self._client is not None

    def now(self) -> datetime:
        return self._terminal.clock.now()

    def server_key(self) -> str:
        return self._enrolment()[1]

    def _pinned(self) -> Ed25519PublicKey:
        return public_key_from_hex(self.server_key())

    def code_key(self) -> bytes | None:
        """The member-code key, fetched when missing and the server answers."""
        held = self._terminal.keystore.get(CODE_KEY)
        if held is not None:
            return held
        try:
            key = self.client().code_key()
        except (LedgerUnreachable, LedgerUnknown, LedgerRefusal):
            return None
        self._terminal.keystore.set(CODE_KEY, key)
        return key

    def after_online(self, answer: dict[str, Any]) -> None:
        """Keep what an online answer brings for the next offline spend."""
        allowance = answer.get("allowance")
        if isinstance(allowance, dict) and not self._book.keep_allowance(allowance, self._pinned()):
            log.warning("an allowance that does not verify with the pinned server key was dropped")
        self.code_key()

    def refresh(self, number: str) -> dict[str, Any]:
        """The member's balances, caching fresh allowances for both kinds."""
        found = self.client().member(number)
        for allowance in found.get("allowances", {}).values():
            self._book.keep_allowance(allowance, self._pinned())
        self.code_key()
        return found

    def reconcile(self) -> int:
        """Record the offline spends at the server; how many were recorded.
        Stops at the first that cannot reach it (LedgerUnreachable/Unknown
        propagate, so the caller knows the server is not there)."""
        recorded = 0
        for spend in self._book.pending():
            try:
                self.client().activity(
                    member_id=spend.member_id, kind=spend.kind, type=spend.type,
                    amount=spend.amount, key=spend.key, reference=spend.reference,
                    refers_to=spend.refers_to, source="offline",
                )  # fmt: skip
            except LedgerRefusal as exc:
                # The server will never take it as it is: kept for a manager, logged.
                log.error("offline spend %s refused at reconciliation: %s", spend.key, exc)
                continue
            self._book.done(spend.key)
            recorded += 1
        return recorded
