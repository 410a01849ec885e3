"""The one interface every payment channel implements: Alipay, WeChat Pay, card, cash.

A channel is a blocking, Qt-free object. The router (pos.payments.router) owns
the lifecycle around it; a channel only performs single operations against its
provider and reports what it learned as a `ChannelResult`.

Contract
--------
* ``start(intent, handler, auth_code)`` sends the payment. It may return a final
  status at once (cash, card, a payment code confirmed immediately) or a
  non-final one (QR order created and shown, shopper still confirming); the
  router then polls ``query`` at ``capabilities().poll_interval`` until the
  status is final or ``capabilities().payment_timeout`` has passed, and then
  calls ``cancel``. A channel that runs a long interactive flow of its own
  (a card on a reader) may block inside ``start`` and should check
  ``handler.cancel_requested()`` where it can stop safely.
* Outcomes: a channel NEVER guesses. If a request may have reached the
  provider but no valid answer came back (timeout after sending, 5xx, torn
  connection, an answer whose signature does not verify), the result is
  ``UNKNOWN``. ``FAILED`` and ``CLOSED`` mean the provider has certainly not
  taken money for this ``out_trade_no`` (or has given it back), which is what
  allows the router to offer another channel.
* Idempotency: the intent's ``out_trade_no`` (and a refund's
  ``out_refund_no``) is persisted before ``start``/``refund`` are called, and
  every retry of the same operation re-uses it, so a provider never sees two
  charges for one intent.
* Operational errors that involve no money (missing key file, bad
  configuration) raise ``PosError`` subclasses; everything about money comes
  back as a result.
* Secrets: a payment code (``auth_code``) is passed in and never persisted or
  logged; card data never leaves the card channel except as a masked PAN.

Channels are found through the ``pos.payment_channels`` entry-point group:
each entry point names a callable ``factory(env: ChannelEnv) -> PaymentChannel``
(a class whose ``__init__`` takes the env is such a callable).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pos.clock import Clock
from pos.money import Money

if TYPE_CHECKING:
    from pos.store.db import Database
    from pos.store.journal import Journal


class PaymentStatus(StrEnum):
    """One status model for every channel."""

    PENDING = "pending"  # recorded; the provider has no order yet, or it awaits the shopper
    USER_PAYING = "user_paying"  # the shopper is confirming (Alipay 10003, WeChat USERPAYING)
    UNKNOWN = "unknown"  # a request went out and no trustworthy answer came back
    SUCCEEDED = "succeeded"  # money taken
    FAILED = "failed"  # declined or never sent: certainly no money taken
    CLOSED = "closed"  # cancelled, closed or reversed: no money kept
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"

    @property
    def is_final(self) -> bool:
        """The payment attempt is over; polling and resolution stop."""
        return self in _FINAL

    @property
    def took_money(self) -> bool:
        return self in _TOOK_MONEY

    @property
    def known_no_money(self) -> bool:
        """Certainly no money kept: the only states that allow offering another channel."""
        return self in (PaymentStatus.FAILED, PaymentStatus.CLOSED)


_TOOK_MONEY = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED}
)
_FINAL = _TOOK_MONEY | {PaymentStatus.FAILED, PaymentStatus.CLOSED}


class RefundStatus(StrEnum):
    PENDING = "pending"  # recorded or accepted and still processing at the provider
    UNKNOWN = "unknown"  # sent, answer not trustworthy: resolve by refund query
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # refused: certainly no money returned

    @property
    def is_final(self) -> bool:
        return self in (RefundStatus.SUCCEEDED, RefundStatus.FAILED)


class PaymentMode(StrEnum):
    QR = "qr"  # merchant-presented code: the shopper scans the terminal's QR
    PAYMENT_CODE = "payment_code"  # the cashier scans the shopper's payment code
    CARD = "card"  # card presented on a reader
    CASH = "cash"


@dataclass(frozen=True, slots=True)
class Capabilities:
    modes: frozenset[PaymentMode]
    currencies: frozenset[str] = frozenset({"CNY"})
    refund: bool = True
    partial_refund: bool = True
    needs_network: bool = True
    gives_change: bool = False
    poll_interval: float = 3.0  # seconds between status queries while the shopper pays
    payment_timeout: float = 120.0  # after this the router cancels a payment still waiting


@dataclass(frozen=True, slots=True)
class Notice:
    """A short message for the cashier or shopper, in both languages."""

    code: str
    en: str
    zh: str

    def text(self, locale: str = "en") -> str:
        return self.zh if locale.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """A payment attempt as persisted before anything is sent (pos.payments.intents)."""

    intent_id: str
    order_id: str
    channel: str
    mode: PaymentMode
    amount: Money
    out_trade_no: str
    status: PaymentStatus = PaymentStatus.PENDING
    subject: str = ""
    channel_ref: str = ""  # the provider's trade number once known
    sent: bool = False  # a request has left the terminal at least once
    created_at: str = ""
    updated_at: str = ""
    # The till let go of it (outcome unknown): resolved in the background while
    # the order takes another tender; no longer holds the order.
    released: bool = False


@dataclass(frozen=True, slots=True)
class RefundIntent:
    refund_id: str
    payment: PaymentIntent
    amount: Money
    out_refund_no: str
    reason: str = ""
    status: RefundStatus = RefundStatus.PENDING
    channel_ref: str = ""
    sent: bool = False


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """What one operation learned. ``code``/``sub_code`` are the provider's raw codes."""

    status: PaymentStatus
    channel_ref: str = ""
    qr_payload: str = ""  # set by start() in QR mode: what the terminal shows
    paid_amount: Money | None = None
    buyer_ref: str = ""  # provider's masked buyer account, for risk and receipts
    code: str = ""
    sub_code: str = ""
    message: str = ""  # provider's own text, for the log
    retry_later: bool = False  # e.g. a cancel the provider asks to repeat
    details: Mapping[str, str] = field(default_factory=dict)  # masked PAN, auth code ...


@dataclass(frozen=True, slots=True)
class RefundResult:
    status: RefundStatus
    channel_ref: str = ""
    refunded_amount: Money | None = None
    code: str = ""
    sub_code: str = ""
    message: str = ""


class CancelToken:
    """Set from any thread (the UI's cancel button); read between polls."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class PaymentHandler(Protocol):
    """What a running payment asks of the person at the counter. The CLI prints;
    the Qt app forwards to its dialog by signal (calls arrive on a worker thread)."""

    def show_qr(self, payload: str) -> None: ...

    def status(self, notice: Notice) -> None: ...

    def cancel_requested(self) -> bool: ...


@dataclass(frozen=True)
class ChannelEnv:
    """What a channel factory receives from the till (pos.app): its
    configuration section, where the terminal keeps files, the clock, a way to
    read named secrets, and the opened till's parts a channel may need: the
    store (database, journal, card-token key), the risk gate's offline
    question, and the device handler (what a reader asks of the person at the
    terminal: the Qt dialog's relay, or the console). Outside a till (a
    look at the configuration) the last three are None."""

    name: str
    config: Mapping[str, Any]
    data_dir: Path
    clock: Clock
    secret: SecretSource | None = None
    store: OpenedStore | None = None
    # Asked before an offline approval: "" allows it, any other text says why not.
    # Its query type belongs to the channel that asks (pos.payments.card.channel).
    offline_risk: Callable[[Any], str] | None = None
    handler: Any = None  # the device handler; its shape belongs to the device's driver


class OpenedStore(Protocol):
    """The terminal's opened store, as a channel sees it (pos.store.terminal.Terminal)."""

    @property
    def db(self) -> Database: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def card_token_key(self) -> bytes: ...


class SecretSource(Protocol):
    def get_secret(self, name: str) -> bytes | None: ...


@runtime_checkable
class PaymentChannel(Protocol):
    name: str

    def capabilities(self) -> Capabilities: ...

    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult: ...

    def query(self, intent: PaymentIntent) -> ChannelResult: ...

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        """Undo the payment whatever its state: close if unpaid, reverse/refund if
        paid. FAILED/CLOSED result = no money kept; SUCCEEDED = the provider refused
        because the trade is paid and cannot be reversed."""
        ...

    def close(self, intent: PaymentIntent) -> ChannelResult:
        """Close an unpaid order so it can no longer be paid."""
        ...

    def refund(self, refund: RefundIntent) -> RefundResult: ...

    def refund_query(self, refund: RefundIntent) -> RefundResult: ...
