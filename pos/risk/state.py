"""What the engine remembers between payments, in memory and rebuilt from the
store at start: velocity per subject, the terminal's history, and each
cashier's actions this shift."""

from __future__ import annotations

from datetime import datetime

from pos.risk.history import History
from pos.risk.repository import (
    Connection,
    EventRow,
    events_since,
    history_amounts,
    history_baskets,
)
from pos.risk.velocity import HORIZON_MS, Series, VelocityIndex

# Cashier actions counted per shift.
SHIFT_ACTIONS = ("void", "no_sale", "refund", "refund_no_receipt")
_SHIFT_FEATURES = {
    "void": "shift.voids",
    "no_sale": "shift.no_sales",
    "refund": "shift.refunds",
    "refund_no_receipt": "shift.refunds_no_receipt",
}
# A series drops its own old events as it grows; subjects not seen for a whole
# horizon are swept out once per horizon of event time, not on every payment.
_SWEEP_EVERY_MS = HORIZON_MS


class RiskState:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.velocity = VelocityIndex()
        self.history = History()
        self.shift: dict[tuple[str, str], Series] = {}
        self._last_sweep_ms: int | None = None

    @classmethod
    def load(cls, conn: Connection, currency: str, now_ms: int) -> RiskState:
        """Rebuild from the store: the last 24 h of events and the history sample."""
        state = cls(currency)
        for how, amounts in history_amounts(conn, currency, now_ms):
            bucket = state.history.amounts[how]
            for a in amounts:
                bucket.add(a)
        for items in history_baskets(conn, currency, now_ms):
            state.history.baskets.add(items)
        for ev in events_since(conn, now_ms - HORIZON_MS, now_ms):
            state.apply(ev, history=False)
        return state

    def apply(self, ev: EventRow, *, history: bool = True) -> None:
        """Take one event into account. `history=False` when the history sample
        was already loaded separately."""
        if ev.kind == "sale":
            approved = ev.outcome == "approved"
            counted = approved or ev.outcome in ("declined", "blocked")
            if counted:
                self.velocity.add(
                    (
                        ("card", ev.card_token),
                        ("account", ev.account),
                        ("terminal", ev.terminal_id),
                        ("cashier", ev.cashier_id),
                    ),
                    ev.currency,
                    ev.at_ms,
                    ev.amount,
                    approved,
                )
            if approved and history and ev.currency == self.currency:
                self.history.add(ev.hour_of_week, ev.amount, ev.items)
        elif ev.outcome == "approved" and ev.cashier_id:
            self._shift_add(ev.cashier_id, ev.kind, ev.at_ms)
            if ev.kind == "refund" and ev.no_receipt:
                self._shift_add(ev.cashier_id, "refund_no_receipt", ev.at_ms)
        if self._last_sweep_ms is None:
            self._last_sweep_ms = ev.at_ms
        elif ev.at_ms - self._last_sweep_ms >= _SWEEP_EVERY_MS:
            self._last_sweep_ms = ev.at_ms
            self.prune(ev.at_ms)

    def _shift_add(self, cashier_id: str, action: str, at_ms: int) -> None:
        key = (cashier_id, action)
        series = self.shift.get(key)
        if series is None:
            series = self.shift[key] = Series()
        series.add(at_ms, 0)

    def shift_features(
        self, cashier_id: str, shift_start: datetime, now_ms: int, out: dict[str, object]
    ) -> None:
        start_ms = max(int(shift_start.timestamp() * 1000), now_ms - HORIZON_MS)
        for action, name in _SHIFT_FEATURES.items():
            series = self.shift.get((cashier_id, action)) if cashier_id else None
            out[name] = series.count_since(start_ms, now_ms) if series is not None else 0

    def prune(self, now_ms: int) -> None:
        self.velocity.prune(now_ms)
        cutoff = now_ms - HORIZON_MS
        for key in list(self.shift):
            series = self.shift[key]
            series.prune(cutoff)
            if not series.times:
                del self.shift[key]
