"""The terminal's HTTP link to the server: signed requests, and every failure
sorted into what the caller can do about it.

- `Unreachable`: the request never left (no route, refused, DNS). Safe to retry.
- `OutcomeUnknown`: it may have reached the server (timeout, connection
  dropped after sending, 5xx, a body that is not the answer). Never guessed:
  the next push asks again, and the server's idempotency makes that safe.
- `ServerRefused`: the server answered with a refusal it explains.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from pos import canonical
from pos.errors import InvalidInput
from sync.failover import ServerChoice, healthz
from sync.protocol import RequestSigner
from sync.schemas import (
    Ack,
    CardKeyDelivery,
    CardKeyRequest,
    ConfigList,
    EnrolRequest,
    EnrolResponse,
    KeyChain,
    StoreAlerts,
    UploadRequest,
    WireEntry,
)

M = TypeVar("M", bound=BaseModel)


class LinkError(Exception):
    pass


class Unreachable(LinkError):
    pass


class OutcomeUnknown(LinkError):
    pass


@dataclass
class ServerRefused(LinkError):
    status: int
    error: str
    detail: str
    remedy: str = ""
    hwm: int | None = None

    def __str__(self) -> str:
        return f"server refused ({self.status} {self.error}): {self.detail}"


def _refusal(resp: httpx.Response) -> ServerRefused:
    try:
        body = resp.json()
        return ServerRefused(
            resp.status_code,
            str(body.get("error", "refused")),
            str(body.get("detail", "")),
            str(body.get("remedy", "")),
            body.get("hwm") if isinstance(body.get("hwm"), int) else None,
        )
    except (ValueError, AttributeError):
        return ServerRefused(resp.status_code, "refused", resp.text[:200])


class Link:
    """Signed requests to the server, through whichever of its URLs answers
    (sync.failover): a request that never left is sent again to the next
    URL; a request whose outcome is unknown is not (the caller asks again)."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        signer: RequestSigner,
        *,
        ca_file: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        choice: ServerChoice | None = None,
    ) -> None:
        self._signer = signer
        try:
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=ca_file) if ca_file else True
            )
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(
                f"cannot use the CA certificate {ca_file}: {exc}",
                "Give the PEM file of the CA that signed the server's certificate (--ca-file).",
            ) from exc
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=verify,
            transport=transport,
            headers={"User-Agent": "store-checkout-terminal/1"},
        )
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.choice = choice or ServerChoice(urls, probe=lambda u: healthz(self._http, u))

    @property
    def base_url(self) -> str:
        """The URL in use."""
        return self.choice.in_use

    def close(self) -> None:
        self._http.close()

    def _send(
        self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None
    ) -> Any:
        tried: set[str] = set()
        while True:
            url = self.choice.pick()
            if url in tried:
                raise Unreachable(f"cannot reach any of {', '.join(self.choice.urls)}")
            tried.add(url)
            request = self._http.build_request(
                method,
                url + path,
                content=body,
                params=params,
                headers={"Content-Type": "application/json"} if body else None,
            )
            self._signer.sign_request(request)
            try:
                resp = self._http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                self.choice.failed(url)  # never sent: the next URL may take it
                continue
            except httpx.HTTPError as exc:
                self.choice.failed(url)
                raise OutcomeUnknown(f"no answer from {url}: {type(exc).__name__}") from exc
            if resp.status_code >= 500:
                self.choice.failed(url)
                raise OutcomeUnknown(f"server error {resp.status_code} from {url}")
            self.choice.answered(url)
            if resp.status_code >= 400:
                raise _refusal(resp)
            try:
                return resp.json()
            except ValueError as exc:
                raise OutcomeUnknown("the server's answer was cut short or is not JSON") from exc

    def enroll(self, req: EnrolRequest) -> EnrolResponse:
        data = self._send("POST", "/v1/enroll", canonical.dumps(req.model_dump()))
        return _parse(EnrolResponse, data)

    def journal_state(self) -> Ack:
        return _parse(Ack, self._send("GET", "/v1/journal/state"))

    def upload(self, terminal_id: str, entries: list[WireEntry]) -> Ack:
        body = UploadRequest(terminal_id=terminal_id, entries=entries)
        return self.upload_body(body.model_dump_json().encode())

    def upload_body(self, body: bytes, follows: int | None = None) -> Ack:
        """Uploads a body already written (sync.wire.upload_body). `follows`:
        the last sequence of a batch sent just before this one and not yet
        acknowledged (the server stores that one first)."""
        params = None if follows is None else {"after": follows}
        return _parse(Ack, self._send("POST", "/v1/journal", body, params=params))

    def server_keys(self) -> KeyChain:
        return _parse(KeyChain, self._send("GET", "/v1/server-keys"))

    def card_key(self, box_key: str) -> CardKeyDelivery:
        body = canonical.dumps(CardKeyRequest(box_key=box_key).model_dump())
        return _parse(CardKeyDelivery, self._send("POST", "/v1/card-key", body))

    def store_alerts(self) -> StoreAlerts:
        return _parse(StoreAlerts, self._send("GET", "/v1/risk/store-alerts"))

    def config_after(self, version: int) -> ConfigList:
        return _parse(ConfigList, self._send("GET", "/v1/config", params={"after": version}))


def _parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A 2xx body of the wrong shape: a proxy or a mangled answer, not the server's word.
        raise OutcomeUnknown(f"unexpected answer: {json.dumps(data)[:200]}") from exc
