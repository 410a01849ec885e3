"""Risk at the till: every tender and refund is decided before money moves,
and the decision is remembered (velocity, history) and journaled in the same
transaction as the outcome it led to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pos.errors import NotAllowed
from pos.events import Event, StepUp
from pos.money import Money
from pos.order.order import Order
from pos.risk import BasketFacts, Decision, RefundFacts, RiskContext, RiskEngine, journal_payload
from pos.risk.decision import BLOCK, REVIEW
from pos.store.db import Connection, Database
from pos.store.journal import Journal

GIFT_CARD_PREFIX = "GFT-"

STEP_UP_REMEDY: dict[str, str] = {
    StepUp.MANAGER_PIN: "A manager approves with their PIN (--approver).",
    StepUp.CHECK_ID: "Check the shopper's ID, then confirm (--id-checked).",
    StepUp.ONLINE_ONLY: "Take an online payment instead (a QR wallet, or the card online).",
}


def step_ups_met(
    payment_mode: str, *, manager: bool = False, id_checked: bool = False
) -> tuple[StepUp, ...]:
    """The step-ups a tender already meets, the one rule for every front end:
    a manager's approval, the shopper's ID checked, and "online only" for every
    tender but cash. QR wallets and payment codes are online by nature; the
    card channel approves offline only on an outright allow of the risk rules
    (pos.app.offline_risk), so under a review a card is approved online or
    not at all."""
    met = []
    if manager:
        met.append(StepUp.MANAGER_PIN)
    if id_checked:
        met.append(StepUp.CHECK_ID)
    if payment_mode != "cash":
        met.append(StepUp.ONLINE_ONLY)
    return tuple(met)


class RiskRefused(NotAllowed):
    """Blocked, or a review whose step-ups are not met. Carries the decision."""

    def __init__(self, decision: Decision, missing: tuple[str, ...] = ()) -> None:
        reasons = "; ".join(decision.explain("en")) or "a risk rule"
        if decision.action == BLOCK:
            message = f"payment blocked: {reasons}"
            remedy = "Take another payment method, or call the manager."
        else:
            message = f"payment needs a second check: {reasons}"
            remedy = " ".join(STEP_UP_REMEDY.get(s, s) for s in missing)
        super().__init__(message, remedy)
        self.decision = decision
        self.missing = missing


@dataclass(frozen=True)
class Checked:
    """A decision taken for one tender, and what it was about."""

    ctx: RiskContext
    decision: Decision
    satisfied: frozenset[str] = field(default_factory=frozenset)


def basket_of(order: Order) -> BasketFacts:
    return BasketFacts(
        items=sum(1 if ln.grams is not None else ln.quantity for ln in order.lines),
        lines=len(order.lines),
        tax_classes=frozenset(ln.tax_class for ln in order.lines),
        gift_cards=sum(ln.quantity for ln in order.lines if ln.sku.startswith(GIFT_CARD_PREFIX)),
    )


class RiskGate:
    def __init__(
        self, engine: RiskEngine, journal: Journal, terminal_id: str, store_id: str
    ) -> None:
        self.engine = engine
        self.journal = journal
        self.terminal_id = terminal_id
        self.store_id = store_id

    @classmethod
    def open(
        cls, db: Database, journal: Journal, now: datetime, terminal_id: str, store_id: str
    ) -> RiskGate:
        with db.read() as conn:
            engine = RiskEngine.open(conn, now=now)
        return cls(engine, journal, terminal_id, store_id)

    def sale_context(
        self,
        order: Order,
        *,
        channel: str,
        amount: Money,
        mode: str,
        online: bool,
        at: datetime,
        card_token: str = "",
        card_bin: str = "",
        account: str = "",
    ) -> RiskContext:
        return RiskContext(
            amount=amount,
            channel=channel,
            mode=mode,
            online=online,
            at=at,
            terminal_id=self.terminal_id,
            cashier_id=order.cashier_id,
            store_id=self.store_id,
            card_token=card_token,
            card_bin=card_bin,
            account=account,
            basket=basket_of(order),
        )

    def refund_context(
        self,
        order: Order,
        *,
        channel: str,
        amount: Money,
        cashier_id: str,
        at: datetime,
        sale_at: datetime | None,
        has_receipt: bool,
    ) -> RiskContext:
        return RiskContext(
            amount=amount,
            channel=channel,
            mode="cashier",
            online=True,
            at=at,
            terminal_id=self.terminal_id,
            kind="refund",
            cashier_id=cashier_id,
            store_id=self.store_id,
            basket=basket_of(order),
            refund=RefundFacts(
                has_receipt=has_receipt,
                same_cashier=cashier_id == order.cashier_id,
                sale_age=None if sale_at is None else at - sale_at,
            ),
        )

    def check(self, ctx: RiskContext, satisfied: Iterable[str] = ()) -> Checked:
        """Decide; raise RiskRefused on a block or an unmet step-up."""
        decision = self.engine.decide(ctx)
        met = frozenset(satisfied)
        if decision.action == BLOCK:
            raise RiskRefused(decision)
        if decision.action == REVIEW:
            missing = tuple(s for s in decision.step_ups if s not in met)
            if missing:
                raise RiskRefused(decision, missing)
        return Checked(ctx, decision, met)

    def record(self, conn: Connection, checked: Checked, outcome: str) -> None:
        """In the outcome's own transaction: velocity, history and the journal."""
        self.engine.record(conn, checked.ctx, outcome, checked.decision)
        payload = journal_payload(checked.decision, checked.ctx, outcome)
        payload["step_ups_met"] = sorted(checked.satisfied)
        self.journal.append(conn, Event.RISK_DECISION, payload)

    def record_refused(self, db: Database, refused: RiskRefused, ctx: RiskContext) -> None:
        """A refused attempt counts too (declines velocity, the back office)."""
        with db.transaction() as conn:
            self.record(conn, Checked(ctx, refused.decision), "blocked")

    def record_void(self, conn: Connection, order: Order, at: datetime) -> None:
        self.engine.record_cashier_action(
            conn,
            action="void",
            cashier_id=order.cashier_id,
            terminal_id=self.terminal_id,
            at=at,
            amount=order.total,
        )
