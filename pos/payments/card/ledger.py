"""The card channel's own records (migration 0005): one row per card payment
attempt, the offline store-and-forward queue, refunds, and the trace number.
Every change of state is journalled in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pos.clock import Clock, iso, parse_iso
from pos.errors import NotFound
from pos.events import Event
from pos.messages import msg
from pos.store import Database, Journal

_STAN_MAX = 999_999


@dataclass(frozen=True)
class OfflineItem:
    intent_id: str
    stan: str
    rrn: str
    amount_minor: int
    currency: str
    stored_at: datetime
    sealed_card: str
    icc_data: bytes
    forward_state: str
    response_code: str
    masked_pan: str


def _as_dict(row: Any) -> dict[str, Any]:
    return dict(zip(row.keys(), tuple(row), strict=True))


class CardLedger:
    def __init__(self, db: Database, journal: Journal, clock: Clock) -> None:
        self.db = db
        self.journal = journal
        self.clock = clock

    def _now(self) -> str:
        return iso(self.clock.now())

    def next_stan(self, conn: Any) -> str:
        row = conn.execute("SELECT value FROM card_counters WHERE name = 'stan'").fetchone()
        value = 1 if row is None else row[0] % _STAN_MAX + 1
        conn.execute(
            "INSERT INTO card_counters(name, value) VALUES ('stan', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (value,),
        )
        return f"{value:06d}"

    def open(
        self, intent_id: str, order_id: str, out_trade_no: str, amount_minor: int, currency: str
    ) -> tuple[str, str]:
        """The row for a new attempt, written before the card is read; (STAN, RRN)."""
        now = self.clock.now()
        with self.db.transaction() as conn:
            existing = conn.execute(
                "SELECT stan, rrn FROM card_payments WHERE intent_id = ?", (intent_id,)
            ).fetchone()
            if existing is not None:
                return str(existing[0]), str(existing[1])
            stan = self.next_stan(conn)
            rrn = now.strftime("%y%j%H") + stan[-5:]
            conn.execute(
                "INSERT INTO card_payments(intent_id, order_id, out_trade_no, stan, rrn, "
                "amount_minor, currency, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'reading', ?, ?)",
                (
                    intent_id,
                    order_id,
                    out_trade_no,
                    stan,
                    rrn,
                    amount_minor,
                    currency,
                    iso(now),
                    iso(now),
                ),
            )
        return stan, rrn

    def update(self, intent_id: str, state: str, event: str | None = None, **columns: Any) -> None:
        sets = ", ".join(f"{c} = ?" for c in columns)
        with self.db.transaction() as conn:
            conn.execute(
                f"UPDATE card_payments SET state = ?, updated_at = ?{', ' if sets else ''}{sets} "
                "WHERE intent_id = ?",
                (state, self._now(), *columns.values(), intent_id),
            )
            if event is not None:
                self._journal(conn, event, intent_id)

    def _journal(self, conn: Any, event: str, intent_id: str, **extra: Any) -> None:
        row = conn.execute(
            "SELECT order_id, amount_minor, currency, masked_pan, card_token, brand, aid, "
            "response_code, auth_code, state, rrn FROM card_payments WHERE intent_id = ?",
            (intent_id,),
        ).fetchone()
        payload = {"intent_id": intent_id, **_as_dict(row), **extra}
        self.journal.append(conn, event, payload)

    def get(self, intent_id: str) -> Mapping[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM card_payments WHERE intent_id = ?", (intent_id,)
            ).fetchone()
        return None if row is None else _as_dict(row)

    # -- offline --------------------------------------------------------------

    def store_offline(
        self, intent_id: str, sealed_card: str, icc_data: bytes, **columns: Any
    ) -> None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT amount_minor, currency FROM card_payments WHERE intent_id = ?",
                (intent_id,),
            ).fetchone()
            sets = "".join(f", {c} = ?" for c in columns)
            conn.execute(
                f"UPDATE card_payments SET state = 'offline_approved', updated_at = ?{sets} "
                "WHERE intent_id = ?",
                (self._now(), *columns.values(), intent_id),
            )
            conn.execute(
                "INSERT INTO card_offline(intent_id, amount_minor, currency, stored_at, "
                "sealed_card, icc_data) VALUES (?, ?, ?, ?, ?, ?)",
                (intent_id, row[0], row[1], self._now(), sealed_card, icc_data),
            )
            self._journal(conn, Event.CARD_OFFLINE_APPROVED, intent_id)

    def offline_totals(self) -> tuple[int, datetime | None]:
        """Amount waiting to be forwarded, and when the oldest was stored."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(amount_minor), 0), MIN(stored_at) FROM card_offline "
                "WHERE forward_state = 'pending'"
            ).fetchone()
        return int(row[0]), parse_iso(row[1]) if row[1] else None

    def offline_items(self, forward_state: str) -> list[OfflineItem]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT o.*, p.stan, p.rrn, p.masked_pan FROM card_offline o "
                "JOIN card_payments p USING (intent_id) WHERE o.forward_state = ? "
                "ORDER BY o.stored_at",
                (forward_state,),
            ).fetchall()
        return [
            OfflineItem(
                r["intent_id"],
                r["stan"],
                r["rrn"],
                r["amount_minor"],
                r["currency"],
                parse_iso(r["stored_at"]),
                r["sealed_card"],
                bytes(r["icc_data"]),
                r["forward_state"],
                r["response_code"],
                r["masked_pan"],
            )
            for r in rows
        ]

    def forwarded(self, intent_id: str, forward_state: str, response_code: str) -> None:
        event = {"accepted": Event.CARD_FORWARDED, "declined": Event.CARD_FORWARD_DECLINED}.get(
            forward_state, Event.CARD_OFFLINE_VOIDED
        )
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE card_offline SET forward_state = ?, response_code = ?, forwarded_at = ?, "
                "attempts = attempts + 1 WHERE intent_id = ?",
                (forward_state, response_code, self._now(), intent_id),
            )
            if forward_state == "voided":
                conn.execute(
                    "UPDATE card_payments SET state = 'reversed', updated_at = ? "
                    "WHERE intent_id = ?",
                    (self._now(), intent_id),
                )
            self._journal(conn, event, intent_id, forward_response=response_code)

    def forward_attempted(self, intent_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE card_offline SET attempts = attempts + 1 WHERE intent_id = ?",
                (intent_id,),
            )

    def review(self, intent_id: str, manager_id: str, note: str = "") -> None:
        """A manager saw a decline after forwarding; journalled with who and the note."""
        with self.db.transaction() as conn:
            changed = conn.execute(
                "UPDATE card_offline SET reviewed_by = ?, reviewed_at = ? "
                "WHERE intent_id = ? AND forward_state = 'declined' AND reviewed_by IS NULL",
                (manager_id, self._now(), intent_id),
            ).rowcount
            if changed != 1:
                raise NotFound(msg("card.error.no_decline_to_review", intent_id=intent_id))
            self._journal(
                conn, Event.CARD_FORWARD_DECLINE_REVIEWED, intent_id, manager=manager_id, note=note
            )

    def unreviewed_declines(self) -> list[OfflineItem]:
        with self.db.read() as conn:
            ids = {
                r[0]
                for r in conn.execute(
                    "SELECT intent_id FROM card_offline WHERE forward_state = 'declined' "
                    "AND reviewed_by IS NULL"
                ).fetchall()
            }
        return [i for i in self.offline_items("declined") if i.intent_id in ids]

    # -- refunds --------------------------------------------------------------

    def open_refund(self, refund_id: str, intent_id: str, amount_minor: int) -> str:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT stan FROM card_refunds WHERE refund_id = ?", (refund_id,)
            ).fetchone()
            if row is not None:
                return str(row[0])
            stan = self.next_stan(conn)
            conn.execute(
                "INSERT INTO card_refunds(refund_id, intent_id, stan, amount_minor, state, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 'sent', ?, ?)",
                (refund_id, intent_id, stan, amount_minor, self._now(), self._now()),
            )
        return stan

    def refund_done(self, refund_id: str, state: str, code: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE card_refunds SET state = ?, response_code = ?, updated_at = ? "
                "WHERE refund_id = ?",
                (state, code, self._now(), refund_id),
            )
            row = conn.execute(
                "SELECT intent_id FROM card_refunds WHERE refund_id = ?", (refund_id,)
            ).fetchone()
            self._journal(conn, f"card.refund_{state}", row[0], refund_id=refund_id)


def age_exceeded(stored_at: datetime | None, now: datetime, max_age_s: int) -> bool:
    return stored_at is not None and now - stored_at > timedelta(seconds=max_age_s)
