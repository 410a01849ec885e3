"""A terminal reduced to what the server sees, for server tests: an id, an
enrolled key and a chain of journal records it makes and uploads."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos.clock import SystemClock, iso
from pos.store.journal_format import GENESIS_HASH, JournalRecord, make_record, public_key_hex
from sync.protocol import RequestSigner
from sync.schemas import EnrolRequest, WireEntry
from sync.server import enrolment
from sync.transport import Link


class Device:
    """A terminal reduced to what the server sees: an id, a key, a chain."""

    def __init__(self, server: Any, terminal_id: str = "T-1", store_id: str = "S001") -> None:
        self.server = server
        self.id = terminal_id
        self.key = Ed25519PrivateKey.generate()
        self.clock = SystemClock()
        self.chain: list[JournalRecord] = []
        self.link = Link(server.url, RequestSigner(self.id, self.key, self.clock))
        code = enrolment.create_code(server.engine, SystemClock(), store_id)
        self.link.enroll(
            EnrolRequest(
                code=code,
                terminal_id=self.id,
                store_id=store_id,
                public_key=public_key_hex(self.key),
            )
        )

    def make(self, n: int, etype: str = "tender.taken") -> list[JournalRecord]:
        out = []
        for _ in range(n):
            prev = self.chain[-1].hash if self.chain else GENESIS_HASH
            seq = len(self.chain) + 1
            payload = {
                "order_id": f"O{seq}",
                "tender": {"channel": "cash", "amount_minor": 100 * seq},
            }
            rec = make_record(self.key, self.id, seq, iso(self.clock.now()), etype, payload, prev)
            self.chain.append(rec)
            out.append(rec)
        return out

    def upload(self, records: list[JournalRecord]) -> Any:
        # Sent as the terminal's client sends them: not checked on the way out.
        return self.link.upload(self.id, [WireEntry.of(r, validate=False) for r in records])
