"""vsmartcard's vpcd protocol, card side. pcscd's vpcd reader driver listens
on TCP (35963 for its first slot, 35964 for the second); a virtual card
connects as the client. Every message is a 2-byte big-endian length and a
payload; a 1-byte payload is a control code (0 power off, 1 power on,
2 reset, 4 send the ATR), anything longer is a command APDU the card
answers. Connecting is inserting the card; closing the socket pulls it."""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from typing import Protocol

from pos.digits import is_digits
from pos.errors import PosError

log = logging.getLogger(__name__)

VPCD_PORT = 35963
# A test bench running its own pcscd (tests/integration/card) names its vpcd port here.
PORT_ENV = "POS_VPCD_PORT"


def default_port() -> int:
    """The vpcd port of the first slot: $POS_VPCD_PORT, else vsmartcard's 35963."""
    value = os.environ.get(PORT_ENV, "")
    return int(value) if is_digits(value) else VPCD_PORT


CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


class Card(Protocol):
    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def respond(self, apdu: bytes) -> bytes: ...


class VpcdUnavailable(PosError):
    pass


def _quickack(sock: socket.socket) -> None:
    # The reader driver writes the length and the payload separately; with
    # Nagle on its side and delayed ACKs on ours, every APDU would wait 40 ms.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        _quickack(sock)
        buf += chunk
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


class VirtualCardSlot:
    """Inserts a card into one vpcd slot and serves it on its own thread.

    `pull_after` makes the card vanish (socket closed) when that many APDUs
    have been asked, to emulate a card pulled in mid-transaction."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host, self.port = host, default_port() if port is None else port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._card: Card | None = None
        self.pull_after: int | None = None
        self.apdus = 0

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, card: Card) -> None:
        if self._sock is not None:
            self.remove()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
        except OSError as exc:
            raise VpcdUnavailable(
                f"cannot reach the virtual reader on {self.host}:{self.port}: {exc}",
                "Start pcscd with the vpcd reader: bash scripts/pcscd-vpcd.sh start",
            ) from exc
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._card, self._sock, self.apdus = card, sock, 0
        self._thread = threading.Thread(
            target=self._serve, args=(sock, card), name=f"vpcd-card-{self.port}", daemon=True
        )
        self._thread.start()

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("card socket already closed")
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _serve(self, sock: socket.socket, card: Card) -> None:
        try:
            while True:
                head = _recv_exact(sock, 2)
                if head is None:
                    return
                (length,) = struct.unpack(">H", head)
                payload = _recv_exact(sock, length)
                if payload is None:
                    return
                if length == 1:
                    if payload[0] == CTRL_ATR:
                        _send(sock, card.atr)
                    elif payload[0] in (CTRL_ON, CTRL_RESET):
                        card.power_on()
                    continue
                self.apdus += 1
                if self.pull_after is not None and self.apdus > self.pull_after:
                    sock.close()
                    self._sock = None
                    return
                _send(sock, card.respond(payload))
        except OSError:
            # The slot was removed from another thread: the card is gone.
            return

    def __enter__(self) -> VirtualCardSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
