"""Payment and refund intents, persisted in the terminal's store.

An intent row (with its out_trade_no / out_refund_no) is committed before any
request leaves the terminal, and `mark_sent` is committed before every send,
so that after a crash the terminal knows which attempts may have reached a
provider. A partial unique index allows at most one open (pending,
user_paying, unknown) payment intent per order. Every change is journalled in
the same transaction as the row it describes."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Protocol

from pos.clock import Clock, iso
from pos.events import Event
from pos.money import Money
from pos.payments.channel import (
    ChannelResult,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.errors import PaymentError, notice

OPEN_STATUSES = ("pending", "user_paying", "unknown")


class Store(Protocol):
    """What pos.store.Database offers."""

    def transaction(self) -> AbstractContextManager[Any]: ...

    def read(self) -> AbstractContextManager[Any]: ...


class JournalPort(Protocol):
    def append(self, conn: Any, event_type: str, payload: dict[str, Any]) -> object: ...


def _is_integrity_error(exc: BaseException) -> bool:
    return type(exc).__name__ == "IntegrityError" or isinstance(exc, sqlite3.IntegrityError)


class IntentStore:
    def __init__(self, db: Store, clock: Clock, journal: JournalPort | None = None) -> None:
        self._db = db
        self._clock = clock
        self._journal = journal

    def _now(self) -> str:
        return iso(self._clock.now())

    def new_reference(self, prefix: str) -> str:
        """An idempotency key both platforms accept: <= 32 chars of [A-Za-z0-9]."""
        stamp = (self._clock.now()).strftime("%Y%m%d%H%M%S")
        return f"{prefix}{stamp}{secrets.token_hex(8)}"

    def _log(self, conn: Any, event: str, payload: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.append(conn, event, payload)

    # -- payments ---------------------------------------------------------------------
    def open_payment(
        self, order_id: str, channel: str, mode: PaymentMode, amount: Money, subject: str = ""
    ) -> PaymentIntent:
        now = self._now()
        intent = PaymentIntent(
            intent_id=secrets.token_hex(16),
            order_id=order_id,
            channel=channel,
            mode=mode,
            amount=amount,
            out_trade_no=self.new_reference("P"),
            subject=subject,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO payment_intents (id, order_id, channel, mode, amount_minor,"
                    " currency, out_trade_no, subject, status, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        intent.intent_id,
                        order_id,
                        channel,
                        mode.value,
                        amount.minor,
                        amount.currency,
                        intent.out_trade_no,
                        subject,
                        intent.status.value,
                        now,
                        now,
                    ),
                )
                self._log(conn, Event.PAYMENT_INTENT_OPENED, _payment_payload(intent))
        except Exception as exc:
            if _is_integrity_error(exc):
                raise PaymentError(notice("open_intent")) from exc
            raise
        return intent

    def mark_sent(self, intent: PaymentIntent) -> PaymentIntent:
        now = self._now()
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE payment_intents SET sent = 1, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ?",
                (now, intent.intent_id),
            )
        return replace(intent, sent=True, updated_at=now)

    def record(self, intent: PaymentIntent, result: ChannelResult) -> PaymentIntent:
        """Store what the channel learned; journal it when the status changed."""
        now = self._now()
        status = result.status
        ref = result.channel_ref or intent.channel_ref
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT status FROM payment_intents WHERE id = ?", (intent.intent_id,)
            ).fetchone()
            before = PaymentStatus(row[0])
            if before.is_final:
                # Settled is settled: a late answer never reopens or rewrites it
                # (refunds move it on through record_refund).
                return self._payment(conn, intent.intent_id)
            conn.execute(
                "UPDATE payment_intents SET status = ?, channel_ref = ?,"
                " buyer_ref = CASE WHEN ? = '' THEN buyer_ref ELSE ? END,"
                " code = ?, sub_code = ?, updated_at = ?,"
                " final_at = CASE WHEN ? THEN coalesce(final_at, ?) ELSE NULL END WHERE id = ?",
                (
                    status.value,
                    ref,
                    result.buyer_ref,
                    result.buyer_ref,
                    result.code,
                    result.sub_code,
                    now,
                    status.is_final,
                    now,
                    intent.intent_id,
                ),
            )
            updated = self._payment(conn, intent.intent_id)
            if status != before:
                payload = _payment_payload(updated)
                payload["previous_status"] = before.value
                self._log(conn, Event.PAYMENT_INTENT_STATUS, payload)
        return updated

    def release(self, intent: PaymentIntent, reason: str) -> PaymentIntent:
        """Let go of an attempt whose outcome is not known (or a QR code that
        never reached the shopper): the order may take another tender now, and
        the background resolution settles this one (pos.services.released)."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE payment_intents SET released = 1, updated_at = ? WHERE id = ?",
                (self._now(), intent.intent_id),
            )
            updated = self._payment(conn, intent.intent_id)
            payload = _payment_payload(updated)
            payload["reason"] = reason
            self._log(conn, Event.PAYMENT_RELEASED, payload)
        return updated

    def released_settled(self, intent: PaymentIntent, action: str, amount: Money) -> None:
        """Journal the end of a let-go attempt: closed, attached, reversed, refunded."""
        with self._db.transaction() as conn:
            payload = _payment_payload(intent)
            payload.update(action=action, amount_minor=amount.minor)
            self._log(conn, Event.PAYMENT_RELEASED_SETTLED, payload)

    def released_open(self) -> list[PaymentIntent]:
        """Let-go attempts still to be made final, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"{_SELECT_PAYMENT} WHERE released = 1 AND status IN {OPEN_STATUSES}"
                " ORDER BY created_at, id"
            ).fetchall()
        return [_payment_from_row(r) for r in rows]

    def released_since(self, since: str) -> list[PaymentIntent]:
        """Let-go attempts created since `since` (ISO), any status: the manager's list."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"{_SELECT_PAYMENT} WHERE released = 1 AND created_at >= ? ORDER BY created_at",
                (since,),
            ).fetchall()
        return [_payment_from_row(r) for r in rows]

    def _payment(self, conn: Any, intent_id: str) -> PaymentIntent:
        row = conn.execute(f"{_SELECT_PAYMENT} WHERE id = ?", (intent_id,)).fetchone()
        if row is None:
            raise KeyError(intent_id)
        return _payment_from_row(row)

    def payment(self, intent_id: str) -> PaymentIntent:
        with self._db.read() as conn:
            return self._payment(conn, intent_id)

    def payment_by_out_trade_no(self, out_trade_no: str) -> PaymentIntent | None:
        with self._db.read() as conn:
            row = conn.execute(
                f"{_SELECT_PAYMENT} WHERE out_trade_no = ?", (out_trade_no,)
            ).fetchone()
        return None if row is None else _payment_from_row(row)

    def payments_for_order(self, order_id: str) -> list[PaymentIntent]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"{_SELECT_PAYMENT} WHERE order_id = ? ORDER BY created_at, id", (order_id,)
            ).fetchall()
        return [_payment_from_row(r) for r in rows]

    def open_payments(self) -> list[PaymentIntent]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"{_SELECT_PAYMENT} WHERE status IN {OPEN_STATUSES} ORDER BY created_at, id"
            ).fetchall()
        return [_payment_from_row(r) for r in rows]

    def payments_between(self, start: str, end: str) -> Iterator[PaymentIntent]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"{_SELECT_PAYMENT} WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
                (start, end),
            ).fetchall()
        return (_payment_from_row(r) for r in rows)

    # -- refunds ----------------------------------------------------------------------
    def open_refund(self, payment: PaymentIntent, amount: Money, reason: str) -> RefundIntent:
        now = self._now()
        refund = RefundIntent(
            refund_id=secrets.token_hex(16),
            payment=payment,
            amount=amount,
            out_refund_no=self.new_reference("R"),
            reason=reason,
        )
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO refund_intents (id, payment_intent_id, order_id, channel,"
                " amount_minor, currency, out_refund_no, reason, status, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    refund.refund_id,
                    payment.intent_id,
                    payment.order_id,
                    payment.channel,
                    amount.minor,
                    amount.currency,
                    refund.out_refund_no,
                    reason,
                    refund.status.value,
                    now,
                    now,
                ),
            )
            self._log(conn, Event.PAYMENT_REFUND_OPENED, _refund_payload(refund))
        return refund

    def refund_mark_sent(self, refund: RefundIntent) -> RefundIntent:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE refund_intents SET sent = 1, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ?",
                (self._now(), refund.refund_id),
            )
        return replace(refund, sent=True)

    def record_refund(self, refund: RefundIntent, result: RefundResult) -> RefundIntent:
        now = self._now()
        status = result.status
        with self._db.transaction() as conn:
            before = RefundStatus(
                conn.execute(
                    "SELECT status FROM refund_intents WHERE id = ?", (refund.refund_id,)
                ).fetchone()[0]
            )
            if before.is_final:
                return self._refund(conn, refund.refund_id)
            conn.execute(
                "UPDATE refund_intents SET status = ?, channel_ref = ?, code = ?, sub_code = ?,"
                " updated_at = ?, final_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?",
                (
                    status.value,
                    result.channel_ref or refund.channel_ref,
                    result.code,
                    result.sub_code,
                    now,
                    status.is_final,
                    now,
                    refund.refund_id,
                ),
            )
            if status == RefundStatus.SUCCEEDED:
                self._apply_refund_to_payment(conn, refund.payment.intent_id, now)
            updated = self._refund(conn, refund.refund_id)
            if status != before:
                payload = _refund_payload(updated)
                payload["previous_status"] = before.value
                self._log(conn, Event.PAYMENT_REFUND_STATUS, payload)
        return updated

    def _apply_refund_to_payment(self, conn: Any, intent_id: str, now: str) -> None:
        paid, refunded = conn.execute(
            "SELECT p.amount_minor, coalesce(sum(r.amount_minor), 0) FROM payment_intents p"
            " LEFT JOIN refund_intents r ON r.payment_intent_id = p.id AND r.status = 'succeeded'"
            " WHERE p.id = ? GROUP BY p.id",
            (intent_id,),
        ).fetchone()
        status = PaymentStatus.REFUNDED if refunded >= paid else PaymentStatus.PARTLY_REFUNDED
        conn.execute(
            "UPDATE payment_intents SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, now, intent_id),
        )

    def refunded_total(self, payment: PaymentIntent, include_open: bool = True) -> Money:
        """Money refunded (or possibly refunded, while a refund is open) for a payment."""
        statuses = ("succeeded", "pending", "unknown") if include_open else ("succeeded",)
        marks = ",".join("?" * len(statuses))
        with self._db.read() as conn:
            (minor,) = conn.execute(
                "SELECT coalesce(sum(amount_minor), 0) FROM refund_intents"
                f" WHERE payment_intent_id = ? AND status IN ({marks})",
                (payment.intent_id, *statuses),
            ).fetchone()
        return Money(int(minor), payment.amount.currency)

    def _refund(self, conn: Any, refund_id: str) -> RefundIntent:
        row = conn.execute(f"{_SELECT_REFUND} WHERE id = ?", (refund_id,)).fetchone()
        payment = self._payment(conn, row[1])
        return _refund_from_row(row, payment)

    def refund(self, refund_id: str) -> RefundIntent:
        with self._db.read() as conn:
            return self._refund(conn, refund_id)

    def refunds_for_payment(self, intent_id: str) -> list[RefundIntent]:
        with self._db.read() as conn:
            ids = conn.execute(
                "SELECT id FROM refund_intents WHERE payment_intent_id = ? ORDER BY created_at",
                (intent_id,),
            ).fetchall()
            return [self._refund(conn, r[0]) for r in ids]

    def open_refunds(self) -> list[RefundIntent]:
        with self._db.read() as conn:
            ids = conn.execute(
                "SELECT id FROM refund_intents WHERE status IN ('pending', 'unknown')"
                " ORDER BY created_at"
            ).fetchall()
            return [self._refund(conn, r[0]) for r in ids]


_SELECT_PAYMENT = (
    "SELECT id, order_id, channel, mode, amount_minor, currency, out_trade_no, subject,"
    " status, channel_ref, sent, created_at, updated_at, released FROM payment_intents"
)
_SELECT_REFUND = (
    "SELECT id, payment_intent_id, amount_minor, currency, out_refund_no, reason, status,"
    " channel_ref, sent FROM refund_intents"
)


def _payment_from_row(r: Any) -> PaymentIntent:
    return PaymentIntent(
        intent_id=r[0],
        order_id=r[1],
        channel=r[2],
        mode=PaymentMode(r[3]),
        amount=Money(int(r[4]), r[5]),
        out_trade_no=r[6],
        subject=r[7],
        status=PaymentStatus(r[8]),
        channel_ref=r[9],
        sent=bool(r[10]),
        created_at=r[11],
        updated_at=r[12],
        released=bool(r[13]),
    )


def _refund_from_row(r: Any, payment: PaymentIntent) -> RefundIntent:
    return RefundIntent(
        refund_id=r[0],
        payment=payment,
        amount=Money(int(r[2]), r[3]),
        out_refund_no=r[4],
        reason=r[5],
        status=RefundStatus(r[6]),
        channel_ref=r[7],
        sent=bool(r[8]),
    )


def _payment_payload(i: PaymentIntent) -> dict[str, Any]:
    return {
        "intent_id": i.intent_id,
        "order_id": i.order_id,
        "channel": i.channel,
        "mode": i.mode.value,
        "amount_minor": i.amount.minor,
        "currency": i.amount.currency,
        "out_trade_no": i.out_trade_no,
        "status": i.status.value,
        "channel_ref": i.channel_ref,
    }


def _refund_payload(r: RefundIntent) -> dict[str, Any]:
    return {
        "refund_id": r.refund_id,
        "intent_id": r.payment.intent_id,
        "order_id": r.payment.order_id,
        "channel": r.payment.channel,
        "amount_minor": r.amount.minor,
        "currency": r.amount.currency,
        "out_refund_no": r.out_refund_no,
        "status": r.status.value,
        "channel_ref": r.channel_ref,
    }


def as_dict(i: PaymentIntent) -> Mapping[str, Any]:
    d = dict(_payment_payload(i))
    d.update(amount=i.amount.amount_text(), sent=i.sent, created_at=i.created_at)
    return d
