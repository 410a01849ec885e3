"""The journal's byte format: how an entry is hashed, signed and checked.

No database here, so the sync server verifies entries with exactly this code.
docs/store.md specifies the bytes for implementations in other languages.

    hash      = SHA-256( DOMAIN || canonical_json(header) || 0x0A || payload )
    header    = {"prev_hash", "seq", "terminal_id", "time", "type"}
    payload   = canonical JSON of the event payload (pos.canonical.dumps)
    signature = Ed25519( signing key, the 32 raw bytes of hash )

Hashes, signatures and public keys travel as lower-case hex.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pos import canonical

DOMAIN = b"pos-journal-entry-v1\n"
GENESIS_HASH = "0" * 64
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
# The one format pos.clock.iso writes.
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


class JournalFormatError(ValueError):
    """A record that is not even well-formed (wrong types, bad hex, bad JSON)."""


@dataclass(frozen=True)
class JournalRecord:
    """One entry exactly as stored and as sent to the server."""

    terminal_id: str
    seq: int
    time: str
    type: str
    payload: str  # canonical JSON text: the exact bytes that were hashed
    prev_hash: str
    hash: str
    signature: str

    def payload_data(self) -> dict[str, Any]:
        data = canonical.loads(self.payload)
        if not isinstance(data, dict):
            raise JournalFormatError(f"entry {self.seq}: payload is not a JSON object")
        return data

    def to_dict(self) -> dict[str, Any]:
        return {
            "terminal_id": self.terminal_id,
            "seq": self.seq,
            "time": self.time,
            "type": self.type,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalRecord:
        """Parse a record from untrusted input (a request body, a file)."""
        if not isinstance(data, Mapping):
            raise JournalFormatError("a journal record must be a JSON object")
        fields: dict[str, Any] = {}
        for name in ("terminal_id", "time", "type", "payload", "prev_hash", "hash", "signature"):
            value = data.get(name)
            if not isinstance(value, str):
                raise JournalFormatError(f"journal record field {name!r} must be a string")
            fields[name] = value
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise JournalFormatError("journal record field 'seq' must be a positive integer")
        return cls(seq=seq, **fields)


def hash_input(
    terminal_id: str, seq: int, time: str, event_type: str, payload: bytes, prev_hash: str
) -> bytes:
    # Exactly pos.canonical.dumps of the header; its fields are only str and int,
    # so the type walk canonical.dumps does for arbitrary payloads is skipped.
    header = json.dumps(
        {
            "prev_hash": str(prev_hash),
            "seq": int(seq),
            "terminal_id": str(terminal_id),
            "time": str(time),
            "type": str(event_type),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return DOMAIN + header + b"\n" + payload


def compute_hash(
    terminal_id: str, seq: int, time: str, event_type: str, payload: bytes, prev_hash: str
) -> str:
    data = hash_input(terminal_id, seq, time, event_type, payload, prev_hash)
    return hashlib.sha256(data).hexdigest()


def record_hash(record: JournalRecord) -> str:
    return compute_hash(
        record.terminal_id,
        record.seq,
        record.time,
        record.type,
        record.payload.encode("utf-8"),
        record.prev_hash,
    )


def sign_hash(private_key: Ed25519PrivateKey, entry_hash: str) -> str:
    return private_key.sign(bytes.fromhex(entry_hash)).hex()


def load_public_key(public_key_hex: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(public_key_hex)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise JournalFormatError("a public key must be 32 bytes of Ed25519 key as hex") from exc


def public_key_hex(private_key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def signature_valid(public_key: Ed25519PublicKey, entry_hash: str, signature: str) -> bool:
    if not (_HEX64.fullmatch(entry_hash) and _HEX128.fullmatch(signature)):
        return False
    try:
        public_key.verify(bytes.fromhex(signature), bytes.fromhex(entry_hash))
    except InvalidSignature:
        return False
    return True


def make_record(
    private_key: Ed25519PrivateKey,
    terminal_id: str,
    seq: int,
    time: str,
    event_type: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> JournalRecord:
    payload_bytes = canonical.dumps(dict(payload))
    entry_hash = compute_hash(terminal_id, seq, time, event_type, payload_bytes, prev_hash)
    return JournalRecord(
        terminal_id=terminal_id,
        seq=seq,
        time=time,
        type=event_type,
        payload=payload_bytes.decode("utf-8"),
        prev_hash=prev_hash,
        hash=entry_hash,
        signature=sign_hash(private_key, entry_hash),
    )


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a chain: which sequence number, and why."""

    seq: int
    kind: str  # missing | out_of_order | terminal | malformed | edited | signature | chain
    reason: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.reason}"


class ChainChecker:
    """Checks records one by one, in order, against one terminal's public key.

    Start it at the genesis (seq 1) or, for a server receiving a batch, just
    after the last entry it already accepted. After the first problem the
    chain is untrusted and every later `check` repeats that problem.
    """

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        terminal_id: str,
        next_seq: int = 1,
        prev_hash: str = GENESIS_HASH,
    ) -> None:
        self.public_key = public_key
        self.terminal_id = terminal_id
        self.next_seq = next_seq
        self.prev_hash = prev_hash
        self.checked = 0
        self.problem: Problem | None = None

    def check(self, record: JournalRecord) -> Problem | None:
        if self.problem is None:
            self.problem = self._check(record)
            if self.problem is None:
                self.checked += 1
                self.next_seq = record.seq + 1
                self.prev_hash = record.hash
        return self.problem

    def _check(self, rec: JournalRecord) -> Problem | None:
        n = self.next_seq
        if rec.seq > n:
            missing = f"{n}" if rec.seq == n + 1 else f"{n}..{rec.seq - 1}"
            return Problem(
                n, "missing", f"missing: the journal jumps to {rec.seq} (entry {missing} deleted)"
            )
        if rec.seq < n:
            return Problem(
                rec.seq, "out_of_order", f"appears again or out of order after entry {n - 1}"
            )
        if rec.terminal_id != self.terminal_id:
            return Problem(
                n, "terminal", f"belongs to terminal {rec.terminal_id!r}, not {self.terminal_id!r}"
            )
        malformed = _malformed(rec)
        if malformed:
            return Problem(n, "malformed", malformed)
        if record_hash(rec) != rec.hash:
            return Problem(n, "edited", "content does not match its hash (edited, or moved here)")
        if not signature_valid(self.public_key, rec.hash, rec.signature):
            return Problem(
                n,
                "signature",
                "signature is not this terminal's (re-signed with another key or forged)",
            )
        if rec.prev_hash != self.prev_hash:
            return Problem(
                n,
                "chain",
                f"does not follow entry {n - 1} (an entry was inserted, removed or replaced)",
            )
        return None


def _malformed(rec: JournalRecord) -> str:
    if not EVENT_TYPE.fullmatch(rec.type):
        return f"event type {rec.type!r} is malformed"
    if not _TIME.fullmatch(rec.time):
        return f"time {rec.time!r} is not a journal timestamp"
    if not (_HEX64.fullmatch(rec.prev_hash) and _HEX64.fullmatch(rec.hash)):
        return "hash fields are not 64 lower-case hex digits"
    try:
        data = canonical.loads(rec.payload)
        if not isinstance(data, dict) or canonical.dumps(data).decode("utf-8") != rec.payload:
            return "payload is not canonical JSON of an object"
    except (ValueError, canonical.CanonicalError):
        return "payload is not canonical JSON of an object"
    return ""
