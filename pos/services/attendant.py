"""A kiosk calling its attendant, journalled: the entry goes to the server
with the next sync, where it raises an alert for the store's staff."""

from __future__ import annotations

from pos.events import Event
from pos.store.db import Database
from pos.store.journal import Journal

# Why a kiosk calls: the shopper pressed the button, a payment failed or is
# being checked, or an action needs staff.
REASONS = ("shopper", "payment_failed", "payment_unknown", "needs_staff", "left_open")


def record_attendant_call(db: Database, journal: Journal, reason: str, order_id: str = "") -> int:
    """Journal the call; returns the entry's sequence number."""
    with db.transaction() as conn:
        entry = journal.append(
            conn, Event.KIOSK_ATTENDANT_CALLED, {"reason": reason, "order_id": order_id or None}
        )
    return int(entry.seq)
