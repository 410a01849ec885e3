"""The flows the screens drive, as Qt-free state machines: checkout, tender,
refund, kiosk session, day close. They talk to the core through the small
ports in `pos.flows.ports` and hand screens immutable snapshots
(`pos.flows.views`).

Threading: a flow's blocking methods (those that call a port) run on a worker
thread, one at a time per flow; the screen reads only the snapshots those
calls return. `cancel` methods are safe from any thread.
"""

from __future__ import annotations

from pos.flows.cancel import Cancelled, CancelToken
from pos.flows.checkout import ApprovalRequired, CheckoutFlow, CheckoutState, payment_code_channel
from pos.flows.dayclose import DayCloseFlow, DayCloseState
from pos.flows.kiosk import KioskConfig, KioskSession, KioskState, TickAction
from pos.flows.refund import RefundFlow, RefundState
from pos.flows.tender import OnlineOnly, TenderFlow, TenderState, suggest_cash
from pos.flows.text import FlowError, Text, text_of

__all__ = [
    "ApprovalRequired",
    "CancelToken",
    "Cancelled",
    "CheckoutFlow",
    "CheckoutState",
    "DayCloseFlow",
    "DayCloseState",
    "FlowError",
    "KioskConfig",
    "KioskSession",
    "KioskState",
    "OnlineOnly",
    "RefundFlow",
    "RefundState",
    "TenderFlow",
    "TenderState",
    "Text",
    "TickAction",
    "payment_code_channel",
    "suggest_cash",
    "text_of",
]
