"""The checkout's use cases (money going back is in pos.services.refunds,
mixed in). Each call is one durable transaction: the order's
new state, any tender or refund rows, and the journal entry that describes
them commit together or not at all.

Open orders are kept in the store as they change, so a cart survives a crash
or a power cut; only business events (tender taken, sale paid, park, resume,
void, refund, approvals) go into the journal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pos.auth import Approval
from pos.barcode import DEFAULT_LAYOUTS, WeightedLayout, parse_scan
from pos.catalog import Product
from pos.clock import Clock, iso
from pos.errors import InvalidInput, NotFound
from pos.events import Event, SaleMode
from pos.messages import msg
from pos.money import DEFAULT_CURRENCY, Money
from pos.order.discounts import Discount, DiscountPolicy
from pos.order.order import Order
from pos.order.state import OrderState
from pos.order.tenders import CASH, Tender
from pos.services.catalog import CatalogRepository
from pos.services.orders import OrderRepository, StoredOrder
from pos.services.refunds import GiveBack, RefundGateway, RefundsMixin
from pos.services.revocation import refuse_if_revoked
from pos.services.risk_gate import Checked, RiskGate, RiskRefused
from pos.store.db import Connection, Database
from pos.store.journal import Journal
from pos.tax import TaxTable

# A hook that runs inside the sale's transaction once it is paid (risk
# velocity, loyalty ...): (conn, order, stored) -> None.
PaidHook = Callable[[Connection, Order, StoredOrder], None]


@dataclass(frozen=True)
class CheckoutSettings:
    currency: str = DEFAULT_CURRENCY
    tax_table: TaxTable = field(default_factory=TaxTable)
    policy: DiscountPolicy = field(default_factory=DiscountPolicy)
    timezone: str = "Asia/Shanghai"
    # The business day starts at this local hour, so a shop open past
    # midnight books late sales on the evening's day.
    day_starts_at_hour: int = 4
    weighted_layouts: tuple[WeightedLayout, ...] = DEFAULT_LAYOUTS
    receipt_prefix: str = "R"


@dataclass(frozen=True)
class SaleReceipt:
    """What a completed tender leaves: the order as stored and, when the
    order is now paid, its receipt number."""

    order: Order
    receipt_no: str | None
    business_date: str
    journal_seq: int


class CheckoutService(RefundsMixin):
    def __init__(
        self,
        db: Database,
        journal: Journal,
        clock: Clock,
        settings: CheckoutSettings | None = None,
        *,
        terminal_id: str,
        catalog: CatalogRepository | None = None,
        orders: OrderRepository | None = None,
        risk: RiskGate | None = None,
        is_online: Callable[[], bool] | None = None,
    ) -> None:
        self.db = db
        self.journal = journal
        self.clock = clock
        self.settings = settings or CheckoutSettings()
        self.terminal_id = terminal_id
        self.catalog = catalog or CatalogRepository()
        self.orders = orders or OrderRepository()
        self._tz = ZoneInfo(self.settings.timezone)
        self.paid_hooks: list[PaidHook] = []
        # Given by the composition root (pos.app); the checkout works without them.
        self.risk = risk
        self.is_online: Callable[[], bool] = is_online or (lambda: True)

    # -- time -------------------------------------------------------------------
    def _now(self) -> str:
        return iso(self.clock.now())

    def business_date(self, at: datetime | None = None) -> str:
        local = (at or self.clock.now()).astimezone(self._tz)
        return (local - timedelta(hours=self.settings.day_starts_at_hour)).date().isoformat()

    @property
    def timezone(self) -> ZoneInfo:
        return self._tz

    def local_time(self) -> datetime:
        return self.clock.now().astimezone(self._tz)

    # -- reading ------------------------------------------------------------------
    def get(self, order_id: str) -> StoredOrder:
        with self.db.read() as conn:
            return self.orders.load(conn, order_id)

    def find(self, receipt_or_order: str) -> StoredOrder:
        with self.db.read() as conn:
            return self.orders.load(conn, self.orders.find_id(conn, receipt_or_order))

    def parked(self) -> list[StoredOrder]:
        with self.db.read() as conn:
            ids = self.orders.ids_in_state(conn, [OrderState.PARKED.value])
            return [self.orders.load(conn, i) for i in ids]

    def open_orders(self) -> list[StoredOrder]:
        """Orders left open (a crash, a closed window): the till offers them back."""
        with self.db.read() as conn:
            ids = self.orders.ids_in_state(conn, [OrderState.OPEN.value])
            return [self.orders.load(conn, i) for i in ids]

    def recent(self, limit: int = 50) -> list[StoredOrder]:
        """The newest orders, newest first."""
        with self.db.read() as conn:
            return [self.orders.load(conn, i) for i in self.orders.recent_ids(conn, limit)]

    def tenders(self, order_id: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return self.orders.tenders_of(conn, order_id)

    def lookup(self, code: str) -> tuple[Product, Any]:
        """The product a scanned code or typed SKU names, with the scan."""
        code = code.strip()
        with self.db.read() as conn:
            try:
                scan = parse_scan(code, self.settings.weighted_layouts)
            except InvalidInput:
                product = self.catalog.get(conn, code)
                if product is None:
                    raise
                return product, None
            sku = self.catalog.sku_for_barcode(conn, scan.lookup_key)
            product = None if sku is None else self.catalog.get(conn, sku)
        if product is None or not product.active:
            raise NotFound(msg("order.no_product_for_barcode", code=code))
        return product, scan

    def search(self, text: str, limit: int = 20) -> list[Product]:
        with self.db.read() as conn:
            return self.catalog.search(conn, text, limit)

    # -- building the order ---------------------------------------------------------
    def new_order(self, cashier_id: str, mode: str = SaleMode.CASHIER) -> Order:
        self.journal.require_open()  # no sale on a store that went backwards
        with self.db.read() as conn:
            refuse_if_revoked(conn)
        order = Order.open(
            f"{self.terminal_id}-{uuid.uuid4().hex[:12]}",
            cashier_id,
            currency=self.settings.currency,
            tax_table=self.settings.tax_table,
            policy=self.settings.policy,
        )
        now = self._now()
        with self.db.transaction() as conn:
            self.orders.insert(conn, order, mode=mode, business_date=self.business_date(), now=now)
        return order

    def _change(self, order_id: str, change: Callable[[Order], Order]) -> Order:
        with self.db.transaction() as conn:
            stored = self.orders.load(conn, order_id)
            order = change(stored.order)
            self.orders.update(conn, order, now=self._now())
        return order

    def scan(self, order_id: str, code: str) -> Order:
        product, scan = self.lookup(code)
        if scan is None:
            return self.add_item(order_id, product.sku)
        return self._change(order_id, lambda o: o.add_scan(product, scan))

    def add_item(
        self, order_id: str, sku_or_code: str, quantity: int = 1, grams: int | None = None
    ) -> Order:
        with self.db.read() as conn:
            product = self.catalog.get(conn, sku_or_code)
        if product is None:
            product, _ = self.lookup(sku_or_code)
        if not product.active:
            raise NotFound(msg("order.not_sold_any_more", sku=product.sku))
        if grams is None:
            return self._change(order_id, lambda o: o.add_one_more(product, quantity))
        return self._change(order_id, lambda o: o.add_product(product, quantity, grams))

    def set_quantity(self, order_id: str, line_id: str, quantity: int) -> Order:
        return self._change(order_id, lambda o: o.set_quantity(line_id, quantity))

    def void_line(self, order_id: str, line_id: str) -> Order:
        return self._change(order_id, lambda o: o.remove_line(line_id))

    def discount_line(self, order_id: str, line_id: str, discount: Discount | None) -> Order:
        order = self._change(order_id, lambda o: o.discount_line(line_id, discount))
        if discount is not None and discount.approval is not None:
            self._journal_approval("discount.line", order_id, discount.approval, order.cashier_id)
        return order

    def discount_order(self, order_id: str, discount: Discount | None) -> Order:
        order = self._change(order_id, lambda o: o.discount_order(discount))
        if discount is not None and discount.approval is not None:
            self._journal_approval("discount.order", order_id, discount.approval, order.cashier_id)
        return order

    def _journal_approval(
        self, action: str, subject: str, approval: Approval, requested_by: str
    ) -> None:
        with self.db.transaction() as conn:
            self._approval_in(conn, action, subject, approval, requested_by)

    def _approval_in(
        self, conn: Connection, action: str, subject: str, approval: Approval, requested_by: str
    ) -> None:
        now = self._now()
        self.orders.insert_approval(
            conn,
            action=action,
            subject_id=subject,
            approver_id=approval.user_id,
            requested_by=requested_by,
            reason=approval.reason,
            now=now,
        )
        self.journal.append(
            conn,
            Event.APPROVAL_GRANTED,
            {
                "action": action,
                "subject_id": subject,
                "approver_id": approval.user_id,
                "requested_by": requested_by,
                "reason": approval.reason,
            },
        )

    # -- lifecycle events (journaled) ---------------------------------------------------
    def _event(
        self,
        order_id: str,
        event_type: str,
        change: Callable[[Order], Order],
        extra: dict[str, Any] | None = None,
        approval_action: str | None = None,
        approval: Approval | None = None,
    ) -> Order:
        with self.db.transaction() as conn:
            stored = self.orders.load(conn, order_id)
            order = change(stored.order)
            if approval_action and approval is not None:
                self._approval_in(conn, approval_action, order_id, approval, order.cashier_id)
            entry = self.journal.append(
                conn,
                event_type,
                {"order_id": order_id, "state": order.state.value, **(extra or {})},
            )
            self.orders.update(conn, order, now=self._now(), journal_seq=entry.seq)
        return order

    def park(self, order_id: str) -> Order:
        return self._event(order_id, Event.ORDER_PARKED, lambda o: o.park())

    def resume(self, order_id: str) -> Order:
        return self._event(order_id, Event.ORDER_RESUMED, lambda o: o.resume())

    def void(
        self,
        order_id: str,
        approval: Approval | None = None,
        reason: str = "",
        gateway: RefundGateway | None = None,
        counts_as_void: bool = True,
    ) -> Order:
        """Void an order. Once money was taken a manager must approve, and every
        tender goes back first (cash from the drawer, other channels through
        `gateway`); the void commits only when all of it has."""
        order = self.get(order_id).order
        if order.tenders:
            # Checked before any money moves, so a refused void moves none.
            order.void(approval, reason)
        refund_id = f"{order_id}-VOID"
        back = self._give_back(
            [
                GiveBack(order_id, refund_id, t.tender_id, t.channel, t.amount, t.reference, reason)
                for t in order.tenders
            ],
            gateway,
        )
        with self.db.transaction() as conn:
            stored = self.orders.load(conn, order_id)
            order = stored.order.void(approval, reason)
            now = self._now()
            rows = self._refund_rows(conn, order_id, refund_id, back, now)
            if approval is not None:
                self._approval_in(conn, "order.void", order_id, approval, order.cashier_id)
            if self.risk is not None and stored.order.lines and counts_as_void:
                self.risk.record_void(conn, stored.order, self.local_time())
            entry = self.journal.append(
                conn,
                Event.ORDER_VOIDED,
                {
                    "order_id": order_id,
                    "state": order.state.value,
                    "reason": reason,
                    "approver_id": approval.user_id if approval else None,
                    "tenders": rows,
                    "business_date": self.business_date(),
                },
            )
            self.orders.update(conn, order, now=now, journal_seq=entry.seq)
        return order

    # -- tenders --------------------------------------------------------------------------
    def take_tender(
        self,
        order_id: str,
        tender: Tender,
        *,
        intent_id: str | None = None,
        masked_pan: str | None = None,
        auth_code: str | None = None,
        extra_paid_payload: dict[str, Any] | None = None,
        risk: Checked | None = None,
    ) -> SaleReceipt:
        """Record a tender the channel has confirmed (or cash in hand). When it
        covers the rest, the sale is paid in the same transaction: receipt
        number, the full sale in the journal, and the paid hooks."""
        with self.db.transaction() as conn:
            stored = self.orders.load(conn, order_id)
            before = stored.order
            if tender.channel == CASH and tender.tendered is not None:
                order = before.tender_cash(tender.tendered, tender.reference)
            else:
                order = before.add_tender(tender)
            taken = order.tenders[-1]
            now = self._now()
            business_date = self.business_date()
            tender_row_id = f"{order_id}-{taken.tender_id}"
            self.orders.insert_tender(
                conn,
                tender_id=tender_row_id,
                order_id=order_id,
                kind="payment",
                tender=taken,
                business_date=business_date,
                now=now,
                intent_id=intent_id,
                masked_pan=masked_pan,
                auth_code=auth_code,
            )
            if risk is not None and self.risk is not None:
                self.risk.record(conn, risk, "approved")
            entry = self.journal.append(
                conn,
                Event.TENDER_TAKEN,
                {
                    "order_id": order_id,
                    "tender_row_id": tender_row_id,
                    "tender": taken.to_dict(),
                    "currency": taken.amount.currency,
                    "business_date": business_date,
                    "intent_id": intent_id,
                    "masked_pan": masked_pan,
                },
            )
            receipt_no = None
            totals = order.totals()
            if order.state is OrderState.PAID:
                receipt_no = self.orders.next_receipt_no(
                    conn, f"{self.settings.receipt_prefix}{self.terminal_id}", business_date
                )
                entry = self.journal.append(
                    conn,
                    Event.SALE_PAID,
                    {
                        "order_id": order_id,
                        "receipt_no": receipt_no,
                        "business_date": business_date,
                        "mode": stored.mode,
                        "order": order.to_dict(),
                        "totals": totals.to_dict(),
                        **(extra_paid_payload or {}),
                    },
                )
            self.orders.update(
                conn,
                order,
                now=now,
                receipt_no=receipt_no,
                journal_seq=entry.seq,
                business_date=business_date if receipt_no else None,
                totals=totals,
            )
            if receipt_no is not None:
                final = StoredOrder(
                    order, receipt_no, business_date, stored.mode, stored.created_at, now
                )
                for hook in self.paid_hooks:
                    hook(conn, order, final)
        return SaleReceipt(order, receipt_no, business_date, entry.seq)

    def pay_cash(self, order_id: str, handed: Money, risk: Checked | None = None) -> SaleReceipt:
        with self.db.read() as conn:
            refuse_if_revoked(conn)
        return self.take_tender(order_id, Tender(CASH, handed, tendered=handed), risk=risk)

    # -- risk ----------------------------------------------------------------------------
    def check_tender(
        self,
        order_id: str,
        channel: str,
        amount: Money,
        *,
        mode: str = "cashier",
        satisfied: tuple[str, ...] = (),
        card_token: str = "",
        card_bin: str = "",
        account: str = "",
    ) -> Checked | None:
        """The risk decision for one tender, before any money moves. A block or
        an unmet step-up raises RiskRefused (and is remembered as blocked)."""
        with self.db.read() as conn:
            refuse_if_revoked(conn)
        if self.risk is None:
            return None
        order = self.get(order_id).order
        ctx = self.risk.sale_context(
            order,
            channel=channel,
            amount=amount,
            mode=mode,
            online=self.is_online(),
            at=self.local_time(),
            card_token=card_token,
            card_bin=card_bin,
            account=account,
        )
        try:
            return self.risk.check(ctx, satisfied)
        except RiskRefused as refused:
            self.risk.record_refused(self.db, refused, ctx)
            raise
