"""Every journal event type, defined once: its name, the payload fields every
entry carries, and the payload's version. Writers append `Event` members and
readers compare with them (reports, journal checks, the back office, the
server's settlement extraction, risk); no other module spells an event name.

An `Event` is a `str` (its journal name), so it goes into SQL parameters and
the journal as it is. A payload whose meaning changes gets a new version here;
readers keep reading the old versions still in the chain.

Also the small vocabularies payloads carry: the sale's mode and the risk
step-ups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Event(StrEnum):
    # the terminal and its people
    TERMINAL_PROVISIONED = "terminal.provisioned"
    USER_ADDED = "user.added"
    USER_LOGIN = "user.login"
    USER_APPROVAL_FAILED = "user.approval_failed"
    APPROVAL_GRANTED = "approval.granted"
    CONFIG_CHANGED = "config.changed"
    CONFIG_APPLIED = "config.applied"
    CONFIG_SKIPPED = "config.skipped"
    CATALOG_IMPORTED = "catalog.imported"
    SYNC_ENROLLED = "sync.enrolled"
    SYNC_SERVER_KEY_CHANGED = "sync.server_key_changed"
    # staff badges on the card reader; the server's revocation of this terminal
    BADGE_ENROLLED = "badge.enrolled"
    BADGE_REVOKED = "badge.revoked"
    BADGE_LOGIN = "badge.login"
    BADGE_APPROVAL = "badge.approval"
    TERMINAL_REVOKED = "terminal.revoked"
    TERMINAL_REINSTATED = "terminal.reinstated"
    # the store's own integrity
    STORE_SEALED = "store.sealed"
    STORE_LOSS_ACKNOWLEDGED = "store.loss_acknowledged"
    DRAWER_OPENED = "drawer.opened"
    # the sale
    ORDER_PARKED = "order.parked"
    ORDER_RESUMED = "order.resumed"
    ORDER_VOIDED = "order.voided"
    TENDER_TAKEN = "tender.taken"
    SALE_PAID = "sale.paid"
    REFUND_COMPLETED = "refund.completed"
    # payments through the router
    PAYMENT_INTENT_OPENED = "payment.intent_opened"
    PAYMENT_INTENT_STATUS = "payment.intent_status"
    PAYMENT_REFUND_OPENED = "payment.refund_opened"
    PAYMENT_REFUND_STATUS = "payment.refund_status"
    PAYMENT_RELEASED = "payment.released"
    PAYMENT_RELEASED_SETTLED = "payment.released_settled"
    # the kiosk
    KIOSK_ATTENDANT_CALLED = "kiosk.attendant_called"
    # the card ledger
    CARD_APPROVED = "card.approved"
    CARD_DECLINED = "card.declined"
    CARD_REVERSED = "card.reversed"
    CARD_REVERSAL_PENDING = "card.reversal_pending"
    CARD_OFFLINE_APPROVED = "card.offline_approved"
    CARD_OFFLINE_VOIDED = "card.offline_voided"
    CARD_FORWARDED = "card.forwarded"
    CARD_FORWARD_DECLINED = "card.forward_declined"
    CARD_FORWARD_DECLINE_REVIEWED = "card.forward_decline_reviewed"
    # risk, day close, reconciliation
    RISK_DECISION = "risk.decision"
    RISK_RULESET_INSTALLED = "risk.ruleset_installed"
    RISK_LIST_CHANGED = "risk.list_changed"
    DAY_CLOSED = "day.closed"
    RECONCILE_DONE = "reconcile.done"


@dataclass(frozen=True)
class EventSchema:
    """The payload fields every entry of the event carries (others may be
    added), and the version of that shape."""

    version: int
    fields: frozenset[str]
    doc: str = ""


def _s(version: int, doc: str, *fields: str) -> EventSchema:
    return EventSchema(version, frozenset(fields), doc)


SCHEMAS: Mapping[Event, EventSchema] = {
    Event.TERMINAL_PROVISIONED: _s(1, "the terminal's identity and keys", "terminal_id"),
    Event.USER_ADDED: _s(1, "a cashier or manager added", "user_id"),
    Event.USER_LOGIN: _s(1, "a PIN tried at login", "user_id", "ok"),
    Event.APPROVAL_GRANTED: _s(
        1, "a manager approved an action", "action", "subject_id", "approver_id"
    ),
    Event.CONFIG_CHANGED: _s(1, "a terminal setting changed", "key", "value"),
    Event.CONFIG_APPLIED: _s(1, "configuration from the server applied"),
    Event.CONFIG_SKIPPED: _s(1, "configuration from the server refused"),
    Event.CATALOG_IMPORTED: _s(1, "products imported"),
    Event.SYNC_ENROLLED: _s(1, "the terminal enrolled with a server"),
    Event.DRAWER_OPENED: _s(1, "the drawer opened without a sale", "approver_id", "no_sale"),
    Event.ORDER_PARKED: _s(1, "a sale put aside", "order_id", "state"),
    Event.ORDER_RESUMED: _s(1, "a parked sale taken up again", "order_id", "state"),
    # v2: business_date, so a void is reported on its own day.
    Event.ORDER_VOIDED: _s(
        2, "a sale voided; tenders given back", "order_id", "state", "tenders", "business_date"
    ),
    Event.TENDER_TAKEN: _s(
        1, "one payment taken", "order_id", "tender_row_id", "tender", "business_date"
    ),
    Event.SALE_PAID: _s(
        1, "a sale paid in full", "order_id", "receipt_no", "business_date", "order", "totals"
    ),
    Event.REFUND_COMPLETED: _s(
        1, "money given back", "order_id", "refund", "tenders", "business_date"
    ),
    Event.PAYMENT_INTENT_OPENED: _s(1, "a payment attempt recorded before sending", "intent_id"),
    Event.PAYMENT_INTENT_STATUS: _s(1, "a payment attempt's status changed", "intent_id"),
    Event.PAYMENT_REFUND_OPENED: _s(1, "a refund recorded before sending", "refund_id"),
    Event.PAYMENT_REFUND_STATUS: _s(1, "a refund's status changed", "refund_id"),
    Event.PAYMENT_RELEASED: _s(
        1,
        "the till let go of an attempt whose outcome is not known; resolved in the background",
        "intent_id",
        "order_id",
        "reason",
    ),
    Event.PAYMENT_RELEASED_SETTLED: _s(
        1,
        "a let-go attempt reached its end: closed, attached, reversed or refunded",
        "intent_id",
        "order_id",
        "action",
        "amount_minor",
    ),
    Event.KIOSK_ATTENDANT_CALLED: _s(1, "a kiosk called its attendant", "reason", "order_id"),
    Event.CARD_APPROVED: _s(1, "a card payment approved online", "intent_id"),
    Event.CARD_DECLINED: _s(1, "a card payment declined", "intent_id"),
    Event.CARD_REVERSED: _s(1, "a card payment reversed", "intent_id"),
    Event.CARD_REVERSAL_PENDING: _s(1, "a reversal to send again", "intent_id"),
    Event.CARD_OFFLINE_APPROVED: _s(1, "a card approved offline, to forward", "intent_id"),
    Event.CARD_OFFLINE_VOIDED: _s(1, "an offline approval voided", "intent_id"),
    Event.CARD_FORWARDED: _s(1, "an offline approval accepted by the acquirer", "intent_id"),
    Event.CARD_FORWARD_DECLINED: _s(1, "an offline approval declined later", "intent_id"),
    Event.CARD_FORWARD_DECLINE_REVIEWED: _s(1, "a manager reviewed a late decline", "intent_id"),
    Event.RISK_DECISION: _s(1, "the risk rules decided a tender or refund", "action"),
    Event.RISK_RULESET_INSTALLED: _s(1, "risk rules installed"),
    Event.RISK_LIST_CHANGED: _s(1, "a risk list changed"),
    Event.DAY_CLOSED: _s(1, "the business day closed: its Z report", "business_date"),
    Event.RECONCILE_DONE: _s(1, "the day reconciled with the providers' bills"),
    Event.USER_APPROVAL_FAILED: _s(1, "a wrong PIN given for an approval", "user_id", "action"),
    Event.SYNC_SERVER_KEY_CHANGED: _s(1, "the terminal followed the server's key", "from", "to"),
    Event.BADGE_ENROLLED: _s(
        1,
        "a staff badge enrolled: its key on the card, the public key here",
        "badge_id",
        "user_id",
        "key_fingerprint",
        "approver_id",
    ),
    Event.BADGE_REVOKED: _s(1, "a staff badge revoked", "badge_id", "user_id", "approver_id"),
    Event.BADGE_LOGIN: _s(
        1, "a badge tapped to sign in; refused ones name why", "badge_id", "user_id", "ok", "reason"
    ),
    Event.BADGE_APPROVAL: _s(
        1, "a badge and PIN tried for a manager's approval", "badge_id", "user_id", "ok", "reason"
    ),
    Event.TERMINAL_REVOKED: _s(1, "the server revoked this terminal: no sales", "detail"),
    Event.TERMINAL_REINSTATED: _s(1, "the terminal enrolled again after a revocation"),
    Event.STORE_SEALED: _s(1, "digests of the tables that decide money", "tables"),
    Event.STORE_LOSS_ACKNOWLEDGED: _s(
        1, "a manager acknowledged commits lost to a rollback", "approver_id", "losses"
    ),
}

# The events that move money at the till, as settlement reads them.
MONEY_EVENTS = frozenset({Event.TENDER_TAKEN, Event.REFUND_COMPLETED, Event.ORDER_VOIDED})
# The events the orders and tenders tables are checked against.
ORDER_EVENTS = (Event.TENDER_TAKEN, Event.SALE_PAID, Event.REFUND_COMPLETED, Event.ORDER_VOIDED)


def missing_fields(event: Event, payload: Mapping[str, Any]) -> frozenset[str]:
    """The fields this payload lacks for its event's current version."""
    return SCHEMAS[event].fields - payload.keys()


def sql_list(events: tuple[Event, ...] | frozenset[Event]) -> str:
    """`(?, ?, ...)` for `type IN ...`; pass the events as parameters."""
    return "(" + ", ".join("?" for _ in events) + ")"


class SaleMode(StrEnum):
    """Who rings the sale up: a cashier at the counter, or the shopper at a kiosk."""

    CASHIER = "cashier"
    KIOSK = "kiosk"


class StepUp(StrEnum):
    """What a risk review asks for before the tender may go on."""

    MANAGER_PIN = "manager_pin"
    CHECK_ID = "check_id"
    ONLINE_ONLY = "online_only"
