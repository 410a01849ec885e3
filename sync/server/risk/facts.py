"""What the chain-wide analysis reads from a journal entry.

Only `risk.decision` entries (every payment attempt and refund the risk
engine decided, with its outcome, the keyed card token and the wallet buyer
id) and `order.voided` entries carry facts; every other entry type is passed
over on its type alone, which is what keeps the analysis ahead of ingest.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime

from pos.events import Event

FACT_TYPES = frozenset({Event.RISK_DECISION, Event.ORDER_VOIDED})


@dataclass(frozen=True, slots=True)
class Fact:
    terminal_id: str
    seq: int
    store_id: str
    at_ms: int
    kind: str  # sale | refund | void
    outcome: str  # approved | declined | blocked | cancelled
    amount_minor: int
    currency: str
    channel: str
    card_token: str
    account: str
    cashier_id: str
    no_receipt: bool
    action: str
    ctx: str  # the risk.decision payload as stored

    def row(self) -> tuple[object, ...]:
        return (
            self.terminal_id, self.seq, self.store_id, self.at_ms, self.kind, self.outcome,
            self.amount_minor, self.currency, self.channel, self.card_token, self.account,
            self.cashier_id, int(self.no_receipt), self.action, self.ctx,
        )  # fmt: skip


FACT_COLUMNS = (
    "terminal_id", "seq", "store_id", "at_ms", "kind", "outcome", "amount_minor", "currency",
    "channel", "card_token", "account", "cashier_id", "no_receipt", "action", "ctx",
)  # fmt: skip


def _ms(time_text: str) -> int:
    return int(datetime.fromisoformat(time_text).timestamp() * 1000)


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def fact_of(
    terminal_id: str, store_id: str, seq: int, etype: str, time_text: str, payload: str
) -> Fact | None:
    """The fact an entry carries, or None. Entries were verified at ingest;
    a field of the wrong type still reads as empty rather than failing."""
    if etype not in FACT_TYPES:
        return None
    try:
        p = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(p, dict):
        return None
    if etype == Event.ORDER_VOIDED:
        amount = sum(
            _int(t.get("amount_minor")) for t in p.get("tenders") or () if isinstance(t, dict)
        )
        return Fact(
            terminal_id, seq, store_id, _ms(time_text), "void", "approved", amount, "CNY", "",
            "", "", _text(p.get("cashier_id"), 64), False, "", "{}",
        )  # fmt: skip
    kind = p.get("kind")
    if kind not in ("sale", "refund"):
        return None
    context = p.get("context")
    at_ms = None
    if isinstance(context, dict) and isinstance(context.get("at"), str):
        # The moment of the decision (the journal entry follows it at once).
        with contextlib.suppress(ValueError):
            at_ms = _ms(context["at"])
    if at_ms is None:
        at_ms = _ms(time_text)
    return Fact(
        terminal_id=terminal_id,
        seq=seq,
        store_id=store_id,
        at_ms=at_ms,
        kind=str(kind),
        outcome=_text(p.get("outcome"), 16),
        amount_minor=_int(p.get("amount_minor")),
        currency=_text(p.get("currency"), 3),
        channel=_text(p.get("channel"), 32),
        card_token=_text(p.get("card_token"), 128),
        account=_text(p.get("account"), 128),
        cashier_id=_text(p.get("cashier_id"), 64),
        no_receipt=p.get("refund_no_receipt") is True,
        action=_text(p.get("action"), 8),
        ctx=payload,  # the whole decision; its "context" is what a backtest replays
    )
