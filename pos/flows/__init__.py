"""The flows the screens drive, as Qt-free state machines: checkout, tender,
refund, kiosk session, day close. They talk to the core through the small
ports in `pos.flows.ports` and hand screens immutable snapshots
(`pos.flows.views`).

Threading: a flow's blocking methods (those that call a port) run on a worker
thread, one at a time per flow; the screen reads only the snapshots those
calls return. `cancel` methods are safe from any thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos.flows.cancel import Cancelled, CancelToken
    from pos.flows.checkout import (
        ApprovalRequired,
        CheckoutFlow,
        CheckoutState,
        payment_code_channel,
    )
    from pos.flows.dayclose import DayCloseFlow, DayCloseState
    from pos.flows.kiosk import KioskConfig, KioskSession, KioskState, TickAction
    from pos.flows.refund import RefundFlow, RefundState
    from pos.flows.tender import OnlineOnly, TenderFlow, TenderState, suggest_cash
    from pos.flows.text import FlowError, Said, message_of

# Each flow is imported when first used: a front end that drives one flow
# (the command line's tender) does not load the others.
_WHERE = {
    "ApprovalRequired": "pos.flows.checkout",
    "CancelToken": "pos.flows.cancel",
    "Cancelled": "pos.flows.cancel",
    "CheckoutFlow": "pos.flows.checkout",
    "CheckoutState": "pos.flows.checkout",
    "DayCloseFlow": "pos.flows.dayclose",
    "DayCloseState": "pos.flows.dayclose",
    "FlowError": "pos.flows.text",
    "KioskConfig": "pos.flows.kiosk",
    "KioskSession": "pos.flows.kiosk",
    "KioskState": "pos.flows.kiosk",
    "OnlineOnly": "pos.flows.tender",
    "RefundFlow": "pos.flows.refund",
    "RefundState": "pos.flows.refund",
    "TenderFlow": "pos.flows.tender",
    "TenderState": "pos.flows.tender",
    "Text": "pos.flows.text",
    "TickAction": "pos.flows.kiosk",
    "payment_code_channel": "pos.flows.checkout",
    "suggest_cash": "pos.flows.tender",
    "message_of": "pos.flows.text",
    "Said": "pos.flows.text",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'pos.flows' has no attribute {name!r}")
    return getattr(importlib.import_module(where), name)


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
    "Said",
    "TenderFlow",
    "TenderState",
    "Text",
    "TickAction",
    "message_of",
    "payment_code_channel",
    "suggest_cash",
]
