"""Orders, tenders and refunds in the store. Every method runs on a connection
the caller owns, so a service commits data and its journal entry together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pos.canonical import dumps, loads
from pos.errors import NotFound
from pos.messages import msg
from pos.money import Money
from pos.order.order import Order
from pos.order.tenders import Tender
from pos.order.totals import Totals


@dataclass(frozen=True, slots=True)
class StoredOrder:
    order: Order
    receipt_no: str | None
    business_date: str
    mode: str
    created_at: str
    updated_at: str


def _order_columns(order: Order, totals: Totals | None = None) -> dict[str, Any]:
    t = totals or order.totals()
    return {
        "state": order.state.value,
        "currency": order.currency,
        "subtotal_minor": t.subtotal.minor,
        "discount_minor": t.discount.minor,
        "tax_minor": t.tax.minor,
        "total_minor": t.total.minor,
        "change_minor": sum(tn.change.minor for tn in order.tenders),
        "refunded_minor": order.refunded_minor,
        "doc": dumps(order.to_dict()).decode(),
    }


class OrderRepository:
    def insert(self, conn: Any, order: Order, *, mode: str, business_date: str, now: str) -> None:
        cols = _order_columns(order)
        conn.execute(
            "INSERT INTO orders (id, state, currency, subtotal_minor, discount_minor, tax_minor,"
            " total_minor, change_minor, refunded_minor, cashier_id, mode, business_date,"
            " created_at, updated_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                order.order_id,
                cols["state"],
                cols["currency"],
                cols["subtotal_minor"],
                cols["discount_minor"],
                cols["tax_minor"],
                cols["total_minor"],
                cols["change_minor"],
                cols["refunded_minor"],
                order.cashier_id,
                mode,
                business_date,
                now,
                now,
                cols["doc"],
            ),
        )

    def update(
        self,
        conn: Any,
        order: Order,
        *,
        now: str,
        receipt_no: str | None = None,
        journal_seq: int | None = None,
        business_date: str | None = None,
        totals: Totals | None = None,
    ) -> None:
        cols = _order_columns(order, totals)
        sets = ", ".join(f"{k} = ?" for k in cols)
        values: list[Any] = [*cols.values(), now]
        extra = ""
        for name, value in (
            ("receipt_no", receipt_no),
            ("journal_seq", journal_seq),
            ("business_date", business_date),
        ):
            if value is not None:
                extra += f", {name} = ?"
                values.append(value)
        cur = conn.execute(
            f"UPDATE orders SET {sets}, updated_at = ?{extra} WHERE id = ?",
            (*values, order.order_id),
        )
        if cur.rowcount != 1:
            raise NotFound(msg("order.not_in_store", order_id=order.order_id))

    def load(self, conn: Any, order_id: str) -> StoredOrder:
        row = conn.execute(
            "SELECT doc, receipt_no, business_date, mode, created_at, updated_at"
            " FROM orders WHERE id = ?",
            (order_id,),
        ).fetchone()
        if row is None:
            raise NotFound(msg("order.no_such_order", order_id=order_id))
        return StoredOrder(Order.from_dict(loads(row[0])), row[1], row[2], row[3], row[4], row[5])

    def find_id(self, conn: Any, receipt_or_order: str) -> str:
        row = conn.execute(
            "SELECT id FROM orders WHERE receipt_no = ? OR id = ?",
            (receipt_or_order, receipt_or_order),
        ).fetchone()
        if row is None:
            raise NotFound(
                msg("order.no_such_sale", number=receipt_or_order),
            )
        return str(row[0])

    def ids_in_state(self, conn: Any, states: Sequence[str]) -> list[str]:
        marks = ",".join("?" * len(states))
        return [
            r[0]
            for r in conn.execute(
                f"SELECT id FROM orders WHERE state IN ({marks}) ORDER BY updated_at", tuple(states)
            )
        ]

    def recent_ids(self, conn: Any, limit: int) -> list[str]:
        """The newest orders first, whatever their state."""
        return [
            r[0]
            for r in conn.execute(
                "SELECT id FROM orders ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
            )
        ]

    def next_receipt_no(self, conn: Any, prefix: str, business_date: str) -> str:
        """Gap-free per business date: the counter moves in the sale's transaction."""
        row = conn.execute(
            "INSERT INTO receipt_counters (business_date, last_no) VALUES (?, 1)"
            " ON CONFLICT(business_date) DO UPDATE SET last_no = last_no + 1 RETURNING last_no",
            (business_date,),
        ).fetchone()
        return f"{prefix}-{business_date.replace('-', '')}-{int(row[0]):04d}"

    def insert_tender(
        self,
        conn: Any,
        *,
        tender_id: str,
        order_id: str,
        kind: str,
        tender: Tender,
        business_date: str,
        now: str,
        intent_id: str | None = None,
        refund_id: str | None = None,
        masked_pan: str | None = None,
        auth_code: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO tenders (id, order_id, kind, channel, amount_minor, tendered_minor,"
            " change_minor, currency, reference, intent_id, card_masked_pan, auth_code,"
            " refund_id, business_date, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                tender_id,
                order_id,
                kind,
                tender.channel,
                tender.amount.minor,
                None if tender.tendered is None else tender.tendered.minor,
                tender.change.minor,
                tender.amount.currency,
                tender.reference,
                intent_id,
                masked_pan,
                auth_code,
                refund_id,
                business_date,
                now,
            ),
        )

    def tenders_of(self, conn: Any, order_id: str) -> list[dict[str, Any]]:
        cur = conn.execute(
            "SELECT id, kind, channel, amount_minor, tendered_minor, change_minor, currency,"
            " reference, intent_id, card_masked_pan, auth_code, refund_id, created_at"
            " FROM tenders WHERE order_id = ? ORDER BY created_at, id",
            (order_id,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def insert_refund(
        self,
        conn: Any,
        *,
        refund_id: str,
        order_id: str,
        amount: Money,
        approver_id: str,
        cashier_id: str,
        reason: str,
        business_date: str,
        now: str,
        journal_seq: int,
        doc: dict[str, Any],
    ) -> None:
        conn.execute(
            "INSERT INTO refunds (id, order_id, amount_minor, currency, approver_id, cashier_id,"
            " reason, business_date, created_at, journal_seq, doc)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                refund_id,
                order_id,
                amount.minor,
                amount.currency,
                approver_id,
                cashier_id,
                reason,
                business_date,
                now,
                journal_seq,
                dumps(doc).decode(),
            ),
        )

    def insert_approval(
        self,
        conn: Any,
        *,
        action: str,
        subject_id: str,
        approver_id: str,
        requested_by: str,
        reason: str,
        now: str,
    ) -> None:
        conn.execute(
            "INSERT INTO approvals (action, subject_id, approver_id, requested_by, reason,"
            " created_at) VALUES (?,?,?,?,?,?)",
            (action, subject_id, approver_id, requested_by, reason, now),
        )
