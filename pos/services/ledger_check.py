"""The ledgers beside orders and tenders: refunds, approvals and the risk
history. Each row must be what a signed journal entry says, and each such
entry must still have its row: a deleted refund puts its money back in the
drawer count, a deleted approval hides who let a void through, a deleted or
edited risk event resets a velocity limit. Run by `pos journal verify`
through the records check."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from pos.canonical import dumps, loads
from pos.events import Event

_EVENTS = (
    Event.REFUND_COMPLETED,
    Event.APPROVAL_GRANTED,
    Event.DAY_CLOSED,
    Event.RISK_DECISION,
    Event.SALE_PAID,
    Event.TENDER_TAKEN,
)
_ORDER_COLUMNS = (
    "currency",
    "subtotal_minor",
    "discount_minor",
    "tax_minor",
    "change_minor",
    "cashier_id",
    "mode",
    "business_date",
)
_CLOSED_BY = re.compile(r".*\((?P<user>[^()]*)\)$")


def ledgers_agree_with_journal(conn: Any) -> list[str]:
    refunds: dict[str, tuple[Any, ...]] = {}
    approvals: Counter[tuple[Any, ...]] = Counter()
    decisions: Counter[tuple[Any, ...]] = Counter()
    sold: dict[str, tuple[Any, ...]] = {}
    taken: dict[str, tuple[Any, ...]] = {}
    for seq, etype, raw in conn.execute(
        "SELECT seq, type, payload FROM journal WHERE type IN (?, ?, ?, ?, ?, ?)", _EVENTS
    ):
        p = loads(raw)
        if etype == Event.REFUND_COMPLETED and isinstance(p.get("refund"), dict):
            r = p["refund"]
            refunds[str(r.get("refund_id"))] = _refund(p, r, int(seq))
        elif etype == Event.APPROVAL_GRANTED:
            approvals[_approval(p)] += 1
        elif etype == Event.DAY_CLOSED and isinstance(p.get("report"), dict):
            approvals[_day_close(p)] += 1
        elif etype == Event.RISK_DECISION and isinstance(p.get("context"), dict):
            decisions[_decision(p)] += 1
        elif etype == Event.SALE_PAID and isinstance(p.get("order"), dict):
            sold[str(p.get("order_id"))] = _sale(p)
        elif etype == Event.TENDER_TAKEN and isinstance(p.get("tender"), dict):
            t = p["tender"]
            taken[str(p.get("tender_row_id"))] = (
                p.get("order_id"),
                p.get("currency"),
                t.get("tendered_minor"),
                t.get("change_minor"),
                t.get("reference"),
                p.get("intent_id"),
                p.get("masked_pan"),
            )
    problems = _refunds_agree(conn, refunds)
    problems += _orders_agree(conn, sold)
    for row in conn.execute(
        "SELECT id, order_id, currency, tendered_minor, change_minor, reference, intent_id,"
        " card_masked_pan FROM tenders WHERE kind = 'payment'"
    ):
        want = taken.get(str(row[0]))
        if want is not None and tuple(row[1:]) != want:
            problems.append(f"tender {row[0]}: the stored tender differs from its signed entry")
    rows = Counter(
        _approval_row(r)
        for r in conn.execute(
            "SELECT action, subject_id, approver_id, requested_by, reason FROM approvals"
        )
    )
    problems += _counted("approval", rows, approvals)
    rows = Counter(
        tuple(r)
        for r in conn.execute(
            "SELECT ctx, kind, outcome, amount_minor, currency, channel, cashier_id, card_token,"
            " account, action, rule_ids, ruleset_version, at_ms, hour_of_week, terminal_id,"
            " items, no_receipt FROM risk_events WHERE ctx IS NOT NULL"
        )
    )
    problems += _counted("risk event", rows, decisions)
    return problems


def _refund(p: dict[str, Any], r: dict[str, Any], seq: int) -> tuple[Any, ...]:
    found = r.get("approval")
    approval: dict[str, Any] = found if isinstance(found, dict) else {}
    return (
        p.get("order_id"),
        r.get("amount_minor"),
        r.get("currency"),
        approval.get("user_id"),
        p.get("cashier_id"),
        r.get("reason", ""),
        p.get("business_date"),
        seq,
        dumps(r).decode(),
    )


def _sale(p: dict[str, Any]) -> tuple[Any, ...]:
    order: dict[str, Any] = p["order"]
    found = p.get("totals")
    totals: dict[str, Any] = found if isinstance(found, dict) else {}
    listed = order.get("tenders")
    tenders: list[Any] = listed if isinstance(listed, list) else []
    return (
        order.get("currency"),
        totals.get("subtotal_minor"),
        totals.get("discount_minor"),
        totals.get("tax_minor"),
        sum(int(t.get("change_minor") or 0) for t in tenders if isinstance(t, dict)),
        order.get("cashier_id"),
        p.get("mode"),
        p.get("business_date"),
        dumps(order).decode(),
    )


def _orders_agree(conn: Any, sold: dict[str, tuple[Any, ...]]) -> list[str]:
    """A sold order's amounts, cashier, mode and day as its signed sale says."""
    problems: list[str] = []
    for row in conn.execute(f"SELECT id, {', '.join(_ORDER_COLUMNS)}, state, doc FROM orders"):
        want = sold.get(str(row[0]))
        if want is None:
            continue  # not sold (open, parked, voided unpaid): the order checks judge it
        got_doc, signed_doc = row[-1], want[-1]
        if row[-2] == "paid" and got_doc != signed_doc:
            # Refunds and voids rewrite the document; a paid one is the sale's.
            problems.append(f"order {row[0]}: its stored document differs from the paid sale")
        for name, got, signed in zip(_ORDER_COLUMNS, row[1:-2], want[:-1], strict=True):
            if got != signed:
                problems.append(f"order {row[0]}: table {name} {got!r}, its sale {signed!r}")
    return problems


def _refunds_agree(conn: Any, expected: dict[str, tuple[Any, ...]]) -> list[str]:
    problems: list[str] = []
    for row in conn.execute(
        "SELECT id, order_id, amount_minor, currency, approver_id, cashier_id, reason,"
        " business_date, journal_seq, doc FROM refunds"
    ):
        want = expected.pop(str(row[0]), None)
        if want is None:
            problems.append(f"refund {row[0]} is in its table but no signed refund made it")
        elif tuple(row[1:]) != want:
            problems.append(f"refund {row[0]}: the stored refund differs from its signed entry")
    problems += [f"refund {key} is in the journal but not in its table" for key in expected]
    return problems


def _approval(p: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("action", "subject_id", "approver_id", "requested_by")
    return (*(p.get(k) for k in keys), str(p.get("reason") or "").strip())


def _day_close(p: dict[str, Any]) -> tuple[Any, ...]:
    report = p["report"]
    closed_by = str(report.get("closed_by", ""))
    found = _CLOSED_BY.match(closed_by)
    user = found.group("user") if found else closed_by
    found = report.get("cash")
    cash: dict[str, Any] = found if isinstance(found, dict) else {}
    reason = str(cash.get("reason") or "").strip()
    return ("day.close", p.get("business_date"), user, user, reason)


def _approval_row(r: Any) -> tuple[Any, ...]:
    return (r[0], r[1], r[2], r[3], str(r[4] or "").strip())


def _decision(p: dict[str, Any]) -> tuple[Any, ...]:
    found = p.get("rule_ids")
    rule_ids: list[Any] = found if isinstance(found, list) else []
    return (
        dumps(p["context"]).decode(),
        p.get("kind"),
        p.get("outcome"),
        p.get("amount_minor"),
        p.get("currency"),
        p.get("channel"),
        p.get("cashier_id"),
        p.get("card_token"),
        p.get("account"),
        p.get("action"),
        ",".join(str(i) for i in rule_ids),
        p.get("ruleset_version"),
        *_derived(p["context"]),
        int(bool(p.get("refund_no_receipt"))),
    )


def _derived(ctx: dict[str, Any]) -> tuple[Any, ...]:
    """The columns the velocity rules key on, as the engine derives them."""
    try:
        at = datetime.fromisoformat(str(ctx.get("at")))
    except ValueError:
        return (None, None, None, None)
    basket = ctx.get("basket") if isinstance(ctx.get("basket"), dict) else {}
    return (
        int(at.timestamp() * 1000),
        at.weekday() * 24 + at.hour,
        ctx.get("terminal_id"),
        basket.get("items") if basket else None,
    )


def _counted(
    what: str, rows: Counter[tuple[Any, ...]], signed: Counter[tuple[Any, ...]]
) -> list[str]:
    """Rows keep no journal seq: compared as multisets of what was signed."""
    problems = [
        f"{what} {key[0]} {key[1]}: in its table but not as the journal signed it"
        for key in (rows - signed)
    ]
    problems += [
        f"{what} {key[0]} {key[1]}: signed in the journal but missing from its table"
        for key in (signed - rows)
    ]
    return problems
