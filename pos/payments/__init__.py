"""Payments: one PaymentChannel interface (channel.py), persisted intents
(intents.py), the router (router.py), and the channels: cash, alipay, wechat,
card (drivers/card_channel.py). See docs/payments.md."""

from __future__ import annotations

from pos.payments.channel import (
    CancelToken,
    Capabilities,
    ChannelEnv,
    ChannelResult,
    Notice,
    PaymentChannel,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)

__all__ = [
    "CancelToken",
    "Capabilities",
    "ChannelEnv",
    "ChannelResult",
    "Notice",
    "PaymentChannel",
    "PaymentHandler",
    "PaymentIntent",
    "PaymentMode",
    "PaymentStatus",
    "RefundIntent",
    "RefundResult",
    "RefundStatus",
]
