"""HTTP to a payment gateway, with the one distinction that matters for money:
did the request certainly not leave (safe to treat as not charged), or may it
have been received (the outcome is unknown and must be resolved by query)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx


class GatewayUnreachable(Exception):
    """The request certainly did not reach the gateway (connection refused, DNS)."""


class OutcomeUnknown(Exception):
    """The request may have reached the gateway; no usable answer came back."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport:
    """One keep-alive client per gateway; safe to share between threads."""

    def __init__(self, timeout: float = 15.0, connect_timeout: float = 5.0) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout), trust_env=False
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> HttpReply:
        try:
            resp = self._client.request(method, url, headers=headers, content=content)
            body = resp.read()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise GatewayUnreachable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            # Read/write timeouts, torn connections, protocol errors: the gateway
            # may have acted on what it received.
            raise OutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        return HttpReply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body)

    def close(self) -> None:
        self._client.close()
