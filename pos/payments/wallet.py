"""What the QR wallets (Alipay, WeChat Pay) share: a code shown or the
shopper's payment code scanned, status polled, a notify URL, and the two ways a
gateway call can end without an answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from pos.payments.channel import (
    Capabilities,
    ChannelEnv,
    ChannelResult,
    PaymentMode,
    PaymentStatus,
    RefundResult,
    RefundStatus,
)
from pos.payments.settings import Section
from pos.payments.transport import GatewayUnreachable, OutcomeUnknown

T = TypeVar("T")


class _ConfiguredClient(Protocol):
    config: Any  # a frozen dataclass with a notify_url


MAX_QR_TEXT = 1024  # the providers' codes are short URLs; a QR holds ~2,300 characters at most


def showable_qr(text: str) -> bool:
    """A code the till can paint and a phone can read: short printable ASCII."""
    return 0 < len(text) <= MAX_QR_TEXT and text.isascii() and text.isprintable()


def unknown(exc: Exception) -> ChannelResult:
    """The request may have reached the gateway: only a query can tell."""
    return ChannelResult(PaymentStatus.UNKNOWN, message=str(exc))


def started(call: Callable[[], T]) -> T | ChannelResult:
    """A payment request: unreachable means it never left (safe to try another
    channel); a lost answer means the shopper may have paid."""
    try:
        return call()
    except GatewayUnreachable as exc:
        return ChannelResult(PaymentStatus.FAILED, code="unreachable", message=str(exc))
    except OutcomeUnknown as exc:
        return unknown(exc)


def asked(call: Callable[[], T]) -> T | ChannelResult:
    """A query, cancel or close: no answer means the state is still unknown."""
    try:
        return call()
    except (GatewayUnreachable, OutcomeUnknown) as exc:
        return unknown(exc)


def refund_sent(call: Callable[[], T]) -> T | RefundResult:
    """A refund request: unreachable means nothing was sent (safe to try again
    or elsewhere); a lost answer means the refund may have happened."""
    try:
        return call()
    except GatewayUnreachable as exc:
        return RefundResult(RefundStatus.FAILED, code="unreachable", message=str(exc))
    except OutcomeUnknown as exc:
        return RefundResult(RefundStatus.UNKNOWN, message=str(exc))


def refund_asked(call: Callable[[], T]) -> T | RefundResult:
    try:
        return call()
    except (GatewayUnreachable, OutcomeUnknown) as exc:
        return RefundResult(RefundStatus.UNKNOWN, message=str(exc))


class WalletChannel:
    """The shared part of a wallet channel; subclasses set `client`."""

    client: _ConfiguredClient

    def __init__(self, env: ChannelEnv, s: Section) -> None:
        self.name = env.name
        self._clock = env.clock
        # Both providers' face-to-face guidance: query every few seconds, give
        # up (and cancel) after about two minutes.
        self._caps = Capabilities(
            modes=frozenset({PaymentMode.QR, PaymentMode.PAYMENT_CODE}),
            poll_interval=s.number("poll_interval", 3.0),
            payment_timeout=s.number("payment_timeout", 120.0),
        )

    def capabilities(self) -> Capabilities:
        return self._caps

    def use_notify_url(self, url: str) -> None:
        self.client.config = replace(self.client.config, notify_url=url)
