"""The ledger's client: signed requests on the terminal's protocol, and every
failure sorted into what the channel may conclude from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from pos import canonical
from sync.protocol import RequestSigner


class LedgerUnreachable(Exception):
    """The request never left: nothing was recorded."""


class LedgerUnknown(Exception):
    """It may have been recorded: ask again under the same key."""


@dataclass
class LedgerRefusal(Exception):
    status: int
    error: str
    detail: str
    balance: int | None = None

    def __str__(self) -> str:
        return f"ledger refused ({self.status} {self.error}): {self.detail}"


class LedgerClient:
    def __init__(
        self, base_url: str, signer: RequestSigner, *, timeout: float = 10.0, verify: Any = True
    ) -> None:
        self._base = base_url.rstrip("/")
        self._signer = signer
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), verify=verify
        )

    def close(self) -> None:
        self._http.close()

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: str
    ) -> dict[str, Any]:
        content = canonical.dumps(body) if body is not None else b""
        request = self._http.build_request(
            method,
            self._base + path,
            content=content,
            params=params or None,
            headers={"Content-Type": "application/json"} if body is not None else None,
        )
        self._signer.sign_request(request)
        try:
            resp = self._http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise LedgerUnreachable(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise LedgerUnknown(type(exc).__name__) from exc
        if resp.status_code >= 500:
            raise LedgerUnknown(f"server error {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise LedgerUnknown("an answer that is not JSON") from exc
        if resp.status_code >= 400:
            if resp.status_code == 401 and data.get("error") == "replay":
                raise LedgerUnknown("replay")
            raise LedgerRefusal(
                resp.status_code,
                str(data.get("error", "refused")),
                str(data.get("detail", "")),
                data.get("balance") if isinstance(data.get("balance"), int) else None,
            )
        if not isinstance(data, dict):
            raise LedgerUnknown("an answer of the wrong shape")
        return data

    def create_member(self, name: str, pin: str) -> dict[str, Any]:
        return self._send("POST", "/v1/ledger/members", {"name": name, "pin": pin})

    def activity(self, **ask: Any) -> dict[str, Any]:
        return self._send("POST", "/v1/ledger/activities", ask)

    def find(self, key: str) -> dict[str, Any] | None:
        try:
            return self._send("GET", "/v1/ledger/activities", key=key)
        except LedgerRefusal as exc:
            if exc.error == "unknown-activity":
                return None
            raise

    def void(self, key: str, kind: str) -> dict[str, Any]:
        return self._send("POST", "/v1/ledger/void", {"key": key, "kind": kind})

    def member(self, number_or_code: str) -> dict[str, Any]:
        return self._send("GET", f"/v1/ledger/members/{number_or_code}")

    def code_key(self) -> bytes:
        return bytes.fromhex(str(self._send("GET", "/v1/ledger/code-key")["key"]))
