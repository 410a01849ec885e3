"""Money going back to the shopper, as the checkout's use cases: refunds of
lines or an amount to the original tenders, and the give-back part of a void.
Non-cash parts go back on their channel through a `RefundGateway` first; the
refund commits only when every part is confirmed, in one transaction with its
journal entry. Mixed into CheckoutService (pos.services.checkout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pos.auth import Approval
from pos.canonical import loads
from pos.clock import parse_iso
from pos.errors import NotAllowed
from pos.events import Event, StepUp
from pos.messages import msg
from pos.money import Money
from pos.order.order import Order
from pos.order.refunds import Refund, RefundPlan, plan_refund
from pos.order.tenders import CASH, Tender, channel_label
from pos.services.badges import require_badge_above
from pos.services.orders import OrderRepository, StoredOrder
from pos.services.risk_gate import Checked, RiskGate, RiskRefused
from pos.store.db import Connection, Database
from pos.store.journal import Journal


@dataclass(frozen=True)
class GiveBack:
    """One tender's money going back to the shopper (a refund or a void)."""

    order_id: str
    refund_id: str  # the idempotency key: a retry re-uses it
    tender_id: str
    channel: str
    amount: Money
    original_reference: str | None
    reason: str = ""


# Gives one non-cash part back on its channel and returns the channel's refund
# reference; raises when the money could not go back.
RefundGateway = Callable[[GiveBack], str]


class RefundsMixin:
    """What CheckoutService does to give money back."""

    db: Database
    journal: Journal
    orders: OrderRepository
    risk: RiskGate | None

    if TYPE_CHECKING:

        def _now(self) -> str: ...

        def business_date(self, at: datetime | None = None) -> str: ...

        def local_time(self) -> datetime: ...

        def get(self, order_id: str) -> StoredOrder: ...

        def tenders(self, order_id: str) -> list[dict[str, Any]]: ...

        def _approval_in(
            self,
            conn: Connection,
            action: str,
            subject: str,
            approval: Approval,
            requested_by: str,
        ) -> None: ...

    def _give_back(
        self, parts: list[GiveBack], gateway: RefundGateway | None
    ) -> list[tuple[GiveBack, str | None]]:
        done: list[tuple[GiveBack, str | None]] = []
        for part in parts:
            if part.channel == CASH:
                done.append((part, None))
                continue
            if gateway is None:
                raise NotAllowed(
                    msg("order.refund_channel_missing", channel=channel_label(part.channel))
                )
            done.append((part, gateway(part)))
        return done

    def _refund_rows(
        self,
        conn: Connection,
        order_id: str,
        refund_id: str,
        back: list[tuple[GiveBack, str | None]],
        now: str,
    ) -> list[dict[str, Any]]:
        business_date = self.business_date()
        rows = []
        for i, (part, reference) in enumerate(back, start=1):
            row_id = f"{refund_id}-{i}"
            rows.append(
                {
                    "row_id": row_id,
                    "tender_id": part.tender_id,
                    "channel": part.channel,
                    "amount_minor": part.amount.minor,
                    "reference": reference,
                }
            )
            self.orders.insert_tender(
                conn,
                tender_id=row_id,
                order_id=order_id,
                kind="refund",
                tender=Tender(part.channel, part.amount, reference=reference),
                business_date=business_date,
                now=now,
                refund_id=refund_id,
            )
        return rows

    # -- refunds -------------------------------------------------------------------------
    def prior_refunds(self, order_id: str) -> list[Refund]:
        with self.db.read() as conn:
            return self._prior_refunds(conn, order_id)

    def _prior_refunds(self, conn: Connection, order_id: str) -> list[Refund]:
        rows = conn.execute(
            "SELECT doc FROM refunds WHERE order_id = ? ORDER BY created_at, id", (order_id,)
        ).fetchall()
        return [Refund.from_dict(loads(r[0])) for r in rows]

    def plan_refund(
        self,
        order_id: str,
        *,
        lines: dict[str, int] | None = None,
        amount: Money | None = None,
    ) -> RefundPlan:
        with self.db.read() as conn:
            order = self.orders.load(conn, order_id).order
            return plan_refund(
                order, self._prior_refunds(conn, order_id), lines=lines, amount=amount
            )

    def refund(
        self,
        order_id: str,
        *,
        approval: Approval,
        cashier_id: str,
        lines: dict[str, int] | None = None,
        amount: Money | None = None,
        reason: str = "",
        gateway: RefundGateway | None = None,
        has_receipt: bool = True,
        satisfied: tuple[str, ...] = (StepUp.MANAGER_PIN,),
    ) -> tuple[Order, Refund]:
        """Refund lines or an amount to the original tenders. Money goes back on
        each non-cash channel through `gateway` first; the refund is committed
        only when every part is confirmed, so a refund that fails half way can
        be tried again with the same refund id and no tender pays twice."""
        plan = self.plan_refund(order_id, lines=lines, amount=amount)
        with self.db.read() as conn:
            require_badge_above(conn, approval, plan.amount, msg("badge.action_refund"))
        # The refund id follows from the refunds before it, so a retry after a
        # failure half way re-uses it and a channel never pays back twice.
        refund = plan.approve(
            approval, f"{order_id}-RF{len(self.prior_refunds(order_id)) + 1}", reason
        )
        checked = self._check_refund(order_id, refund, cashier_id, has_receipt, satisfied)
        back = self._give_back(
            [
                GiveBack(
                    order_id,
                    refund.refund_id,
                    t.tender_id,
                    t.channel,
                    t.amount,
                    t.reference,
                    reason,
                )
                for t in refund.tenders
            ],
            gateway,
        )
        return self._commit_refund(order_id, refund, back, cashier_id, checked), refund

    def _check_refund(
        self,
        order_id: str,
        refund: Refund,
        cashier_id: str,
        has_receipt: bool,
        satisfied: tuple[str, ...],
    ) -> Checked | None:
        if self.risk is None:
            return None
        stored = self.get(order_id)
        rows = [r for r in self.tenders(order_id) if r["kind"] == "payment"]
        sale_at = parse_iso(max(r["created_at"] for r in rows)) if rows else None
        ctx = self.risk.refund_context(
            stored.order,
            channel=refund.tenders[0].channel if refund.tenders else CASH,
            amount=refund.amount,
            cashier_id=cashier_id,
            at=self.local_time(),
            sale_at=sale_at,
            has_receipt=has_receipt,
        )
        try:
            return self.risk.check(ctx, satisfied)
        except RiskRefused as refused:
            self.risk.record_refused(self.db, refused, ctx)
            raise

    def _commit_refund(
        self,
        order_id: str,
        refund: Refund,
        back: list[tuple[GiveBack, str | None]],
        cashier_id: str,
        checked: Checked | None = None,
    ) -> Order:
        with self.db.transaction() as conn:
            stored = self.orders.load(conn, order_id)
            order = stored.order.apply_refund(refund)
            if checked is not None and self.risk is not None:
                self.risk.record(conn, checked, "approved")
            now = self._now()
            business_date = self.business_date()
            rows = self._refund_rows(conn, order_id, refund.refund_id, back, now)
            self._approval_in(conn, "order.refund", order_id, refund.approval, cashier_id)
            entry = self.journal.append(
                conn,
                Event.REFUND_COMPLETED,
                {
                    "order_id": order_id,
                    "refund": refund.to_dict(),
                    "tenders": rows,
                    "state": order.state.value,
                    "refunded_minor": order.refunded_minor,
                    "business_date": business_date,
                    "cashier_id": cashier_id,
                },
            )
            self.orders.insert_refund(
                conn,
                refund_id=refund.refund_id,
                order_id=order_id,
                amount=refund.amount,
                approver_id=refund.approval.user_id,
                cashier_id=cashier_id,
                reason=refund.reason,
                business_date=business_date,
                now=now,
                journal_seq=entry.seq,
                doc=refund.to_dict(),
            )
            self.orders.update(conn, order, now=now, journal_seq=entry.seq)
        return order
