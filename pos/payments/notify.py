"""Asynchronous payment notifications: a small HTTP receiver the terminal runs.

A provider POSTs to ``<base>/notify/<channel>`` when a payment changes. The
channel verifies the message by its platform's rules (Alipay RSA2 over the
form, ``sign`` and ``sign_type`` left out; WeChat Pay v3 Wechatpay-*
signature and the AEAD_AES_256_GCM resource) and checks it names this
merchant; the receiver then checks it against the terminal's own intent
(out_trade_no, channel, amount). Only then is it handed to the router as a
hint: the router queries the provider, and only that answer changes
anything. A notification never marks money taken by itself; a forged or
mismatched one is refused and changes nothing.

Configuration (payments.json)::

    "notify": {"listen": "127.0.0.1:0", "public_url": "https://till-7.example.com/pos"}

``listen`` is host:port (port 0: any free port); ``public_url`` is the
address the providers can reach, when it is not the listening address
itself (a reverse proxy or tunnel in front of the till)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol, runtime_checkable

from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money
from pos.payments.channel import PaymentStatus
from pos.payments.httpd import QuietHandler
from pos.payments.router import PaymentRouter
from pos.payments.settings import CONFIG_FILE, load_payments_config

log = logging.getLogger(__name__)
SECTION = "notify"
MAX_BODY = 64 * 1024  # a notification is a few KB; anything larger is refused unread


class NotificationRefused(Exception):
    """Not a genuine notification for this merchant, or not one the terminal can use."""


@dataclass(frozen=True, slots=True)
class Notification:
    """What a verified notification claims. A claim, not a fact: the router
    confirms it by query."""

    channel: str
    out_trade_no: str
    status: PaymentStatus
    amount: Money | None
    channel_ref: str = ""


@dataclass(frozen=True, slots=True)
class NotifyReply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain;charset=utf-8"


@runtime_checkable
class NotifyingChannel(Protocol):
    """A channel whose provider sends notifications."""

    name: str

    def use_notify_url(self, url: str) -> None:
        """Where the provider should send this channel's notifications from now on."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify and read one notification (header names lower-cased); raise
        NotificationRefused when it is not genuine or not for this merchant."""
        ...

    def notification_reply(self, accepted: bool, reason: str = "") -> NotifyReply:
        """The answer the provider expects (Alipay: "success"; WeChat Pay: 204)."""
        ...


@dataclass(frozen=True, slots=True)
class Received:
    channel: str
    accepted: bool
    out_trade_no: str = ""
    reason: str = ""


class NotificationReceiver:
    """Runs on its own threads; feeds verified notifications to the router."""

    def __init__(
        self,
        router: PaymentRouter,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str = "",
    ) -> None:
        self.router = router
        self._public_url = public_url.rstrip("/")
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._seen = threading.Condition()
        self.received: list[Received] = []

    @property
    def base_url(self) -> str:
        if self._public_url:
            return self._public_url
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url_for(self, channel: str) -> str:
        return f"{self.base_url}/notify/{channel}"

    def start(self) -> NotificationReceiver:
        """Listen, and tell every notifying channel of the router where to send."""
        for name in self.router.channel_names:
            channel = self.router.channel(name)
            if isinstance(channel, NotifyingChannel):
                channel.use_notify_url(self.url_for(name))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="payment-notifications", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()  # waits for serve_forever, so only once it runs
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> NotificationReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float) -> bool:
        """True once `count` notifications have been handled (for demos and tests)."""
        with self._seen:
            return self._seen.wait_for(lambda: len(self.received) >= count, timeout)

    # -- one notification ----------------------------------------------------------------
    def handle(self, channel_name: str, headers: Mapping[str, str], body: bytes) -> NotifyReply:
        if channel_name not in self.router.channel_names:
            return NotifyReply(404, b"no such channel")
        channel = self.router.channel(channel_name)
        if not isinstance(channel, NotifyingChannel):
            return NotifyReply(404, b"this channel takes no notifications")
        try:
            note = channel.parse_notification(headers, body)
            self._check_against_intent(channel_name, note)
        except NotificationRefused as exc:
            log.warning("notification on %s refused: %s", channel_name, exc)
            self._record(Received(channel_name, False, reason=str(exc)))
            return channel.notification_reply(False, str(exc))
        self._record(Received(channel_name, True, note.out_trade_no))
        return channel.notification_reply(True)

    def _check_against_intent(self, channel_name: str, note: Notification) -> None:
        intent = self.router.intents.payment_by_out_trade_no(note.out_trade_no)
        if intent is None or intent.channel != channel_name:
            raise NotificationRefused(f"no {channel_name} payment {note.out_trade_no} here")
        if note.amount is not None and note.amount != intent.amount:
            raise NotificationRefused(
                f"payment {note.out_trade_no} is {intent.amount.amount_text()},"
                f" the notification says {note.amount.amount_text()}"
            )
        log.info(
            "notification: %s payment %s says %s; confirming by query",
            channel_name,
            note.out_trade_no,
            note.status.value,
        )
        self.router.hint(intent)

    def _record(self, item: Received) -> None:
        with self._seen:
            self.received.append(item)
            self._seen.notify_all()


def _make_handler(receiver: NotificationReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        log_name = "notifications"

        def do_POST(self) -> None:
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if len(parts) != 2 or parts[0] != "notify":
                reply = NotifyReply(404, b"not found")
            elif not 0 < length <= MAX_BODY:
                reply = NotifyReply(413 if length > MAX_BODY else 400, b"bad body")
                self.close_connection = True
            else:
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = receiver.handle(parts[1], headers, body)
            self.answer(reply.status, reply.body, reply.content_type)

        def do_GET(self) -> None:
            self.answer(405, b"POST notifications here", "text/plain")

    return Handler


def receiver_from_config(data_dir: Path, router: PaymentRouter) -> NotificationReceiver | None:
    """The receiver payments.json asks for (its "notify" section), not yet started;
    None when notifications are not configured."""
    section = load_payments_config(data_dir).get(SECTION)
    if section is None:
        return None
    listen = section.get("listen", "127.0.0.1:0")
    public_url = section.get("public_url", "")
    host, _, port = str(listen).rpartition(":")
    if not host or not is_digits(port) or not isinstance(public_url, str):
        raise InvalidInput(
            msg(
                "payments.config.notify",
                section=SECTION,
                file=CONFIG_FILE,
                listen=repr(listen),
                example='{"listen": "127.0.0.1:0", "public_url": "https://..."}',
            )
        )
    return NotificationReceiver(router, host.strip("[]"), int(port), public_url)
