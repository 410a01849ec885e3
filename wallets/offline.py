"""What a till keeps to spend a member's balance offline: the server's signed
allowances (a cap and an expiry per member and kind, each with what has been
spent on it here) and the spends not yet reconciled with the server. Files in
the terminal's data directory, each rewritten atomically under one lock."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos.store.files import atomic_write
from sync.protocol import check_signed_document

ALLOWANCE_PURPOSE = "pos-wallet-allowance"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PendingSpend:
    """An offline spend (or its cancellation) the server has not recorded yet."""

    key: str
    member_id: str
    kind: str
    type: str
    amount: int
    reference: str
    refers_to: str | None = None


class OfflineBook:
    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir / "wallets"
        self._allowances = self._dir / "allowances.json"
        self._pending = self._dir / "pending.json"

    def _read(self, path: Path) -> dict[str, Any]:
        if not path.exists():
            return {}
        data = json.loads(path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, sort_keys=True).encode(), 0o600)

    def keep_allowance(self, allowance: dict[str, Any], server_key: Ed25519PublicKey) -> bool:
        """Cache a fresh allowance the server signed; False if it does not verify."""
        fields, signature = allowance.get("fields"), allowance.get("signature")
        if not isinstance(fields, dict) or not isinstance(signature, str):
            return False
        if fields.get("purpose") != ALLOWANCE_PURPOSE:
            return False
        if not check_signed_document(fields, signature, server_key):
            return False
        with _LOCK:
            data = self._read(self._allowances)
            data[f"{fields['kind']}:{fields['number']}"] = {
                "fields": fields,
                "signature": signature,
                "spent": 0,
            }
            self._write(self._allowances, data)
        return True

    def spend(
        self,
        number: str,
        kind: str,
        amount: int,
        now: datetime,
        server_key: Ed25519PublicKey,
        pending: PendingSpend | None = None,
    ) -> tuple[str, int]:
        """("", left) and the spend recorded when the allowance covers it, else
        (why not: "none", "expired" or "over", what is left)."""
        with _LOCK:
            data = self._read(self._allowances)
            held = data.get(f"{kind}:{number}")
            if held is None or not check_signed_document(
                held["fields"], held["signature"], server_key
            ):
                return "none", 0
            fields = held["fields"]
            left = int(fields["cap"]) - int(held["spent"])
            if datetime.fromisoformat(str(fields["expires_at"])) <= now:
                return "expired", left
            if amount > left:
                return "over", left
            if pending is None:
                return "", left
            held["spent"] = int(held["spent"]) + amount
            queue = self._read(self._pending)
            queue[pending.key] = {**pending.__dict__, "member_id": fields["member_id"]}
            self._write(self._pending, queue)
            self._write(self._allowances, data)
            return "", left - amount

    def member_id(self, number: str, kind: str) -> str:
        with _LOCK:
            held = self._read(self._allowances).get(f"{kind}:{number}")
        return "" if held is None else str(held["fields"]["member_id"])

    def pending(self) -> list[PendingSpend]:
        with _LOCK:
            return [PendingSpend(**v) for v in self._read(self._pending).values()]

    def find(self, key: str) -> PendingSpend | None:
        with _LOCK:
            found = self._read(self._pending).get(key)
        return None if found is None else PendingSpend(**found)

    def add(self, spend: PendingSpend) -> None:
        with _LOCK:
            queue = self._read(self._pending)
            queue[spend.key] = spend.__dict__
            self._write(self._pending, queue)

    def done(self, key: str) -> None:
        with _LOCK:
            queue = self._read(self._pending)
            if queue.pop(key, None) is not None:
                self._write(self._pending, queue)
