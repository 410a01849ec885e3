"""The acquirer host link: one ISO 8583 exchange per TCP connection, with
the distinction every caller needs: `HostUnreachable` (nothing was sent, so
nothing can have happened) versus `NoAnswer` (the request went out and no
trustworthy answer came back: the outcome is unknown)."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from pos.errors import PosError
from pos.payments.card import iso8583 as m

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcquirerConfig:
    host: str
    port: int
    terminal_id: str = "POS00001"
    merchant_id: str = "STORE0000000001"
    connect_timeout: float = 5.0
    response_timeout: float = 20.0


class HostUnreachable(PosError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the card host cannot be reached ({detail})",
            "Nothing was sent. The card may be approved offline, or take another method.",
        )


class NoAnswer(PosError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the card host did not answer ({detail})",
            "The request went out: the payment is reversed before anything else.",
        )


class AcquirerClient:
    def __init__(self, config: AcquirerConfig) -> None:
        self.config = config

    def exchange(self, request: m.Message) -> m.Message:
        payload = m.frame(m.encode(request))
        try:
            sock = socket.create_connection(
                (self.config.host, self.config.port), timeout=self.config.connect_timeout
            )
        except OSError as exc:
            raise HostUnreachable(type(exc).__name__) from exc
        with sock:
            sock.settimeout(self.config.response_timeout)
            try:
                sock.sendall(payload)
                raw = m.read_frame(sock)
            except (OSError, m.MessageError) as exc:
                raise NoAnswer(type(exc).__name__) from exc
        if raw is None:
            raise NoAnswer("connection closed")
        try:
            response = m.decode(raw)
        except m.MessageError as exc:
            raise NoAnswer("unreadable answer") from exc
        self._check_matches(request, response)
        return response

    def _check_matches(self, request: m.Message, response: m.Message) -> None:
        expected = f"{request.mti[:2]}{int(request.mti[2]) + 1}{request.mti[3]}"
        same = all(response.get(f) == request.get(f) for f in ("11", "41"))
        if response.mti != expected or not same or not response.get("39"):
            log.warning("acquirer answer %s does not match request %s", response.mti, request.mti)
            raise NoAnswer("an answer to another message")
