"""Do the payment tables say what the journal says, and do payments and
tenders agree?

Registered in the ``pos.journal_checks`` entry-point group, so `pos journal
verify` runs it. It replays the journal's payment events (intent opened,
status changed, refund opened, refund status) and compares the result with
the payment_intents and refund_intents tables, so an edit to a table that
leaves the signed journal intact is found. Then every payment tender that
names an intent must name a payment that took that money on that channel for
that order, and every payment that kept money must be a tender."""

from __future__ import annotations

from typing import Any

from pos.canonical import loads
from pos.events import Event, sql_list

_TOOK_MONEY = ("succeeded", "partly_refunded", "refunded")
_KEPT_MONEY = ("succeeded", "partly_refunded")
_INTENT_FIELDS = ("order_id", "channel", "mode", "amount_minor", "currency", "out_trade_no")
_EVENTS = (
    Event.PAYMENT_INTENT_OPENED,
    Event.PAYMENT_INTENT_STATUS,
    Event.PAYMENT_REFUND_OPENED,
    Event.PAYMENT_REFUND_STATUS,
    Event.PAYMENT_RELEASED,
)
_REFUND_FIELDS = ("intent_id", "amount_minor", "currency", "out_refund_no")


def _replay(conn: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    intents: dict[str, dict[str, Any]] = {}
    refunds: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        f"SELECT type, payload FROM journal WHERE type IN {sql_list(_EVENTS)} ORDER BY seq",
        _EVENTS,
    )
    for etype, raw in rows:
        p = loads(raw)
        if etype == Event.PAYMENT_INTENT_OPENED:
            intents[p["intent_id"]] = {k: p[k] for k in (*_INTENT_FIELDS, "status")}
            intents[p["intent_id"]]["released"] = 0
        elif etype == Event.PAYMENT_RELEASED and p["intent_id"] in intents:
            # A let-go attempt may take no other tender's place: the flag is signed.
            intents[p["intent_id"]]["released"] = 1
        elif etype == Event.PAYMENT_INTENT_STATUS and p["intent_id"] in intents:
            intents[p["intent_id"]]["status"] = p["status"]
        elif etype == Event.PAYMENT_REFUND_OPENED:
            refunds[p["refund_id"]] = {k: p[k] for k in (*_REFUND_FIELDS, "status")}
        elif etype == Event.PAYMENT_REFUND_STATUS and p["refund_id"] in refunds:
            refunds[p["refund_id"]]["status"] = p["status"]
            payment = intents.get(p["intent_id"])
            if p["status"] == "succeeded" and payment is not None:
                # A confirmed refund moves its payment on in the same transaction.
                back = sum(
                    r["amount_minor"]
                    for r in refunds.values()
                    if r["intent_id"] == p["intent_id"] and r["status"] == "succeeded"
                )
                full = back >= payment["amount_minor"]
                payment["status"] = "refunded" if full else "partly_refunded"
    return intents, refunds


def _compare(
    what: str,
    expected: dict[str, dict[str, Any]],
    table: dict[str, dict[str, Any]],
) -> list[str]:
    problems: list[str] = []
    for key, exp in expected.items():
        got = table.pop(key, None)
        if got is None:
            problems.append(f"{what} {key} is in the journal but not in its table")
            continue
        for name, value in exp.items():
            if got[name] != value:
                problems.append(
                    f"{what} {key}: table {name} {got[name]!r}, journal {name} {value!r}"
                )
    problems += [f"{what} {key} is in its table but the journal never opened it" for key in table]
    return problems


def payments_agree_with_journal(conn: Any) -> list[str]:
    expected_intents, expected_refunds = _replay(conn)
    intents = {
        r[0]: dict(zip((*_INTENT_FIELDS, "status", "released"), r[1:], strict=True))
        for r in conn.execute(
            "SELECT id, order_id, channel, mode, amount_minor, currency, out_trade_no, status,"
            " released FROM payment_intents"
        )
    }
    refunds = {
        r[0]: dict(zip((*_REFUND_FIELDS, "status"), r[1:], strict=True))
        for r in conn.execute(
            "SELECT id, payment_intent_id, amount_minor, currency, out_refund_no, status"
            " FROM refund_intents"
        )
    }
    problems = _compare("payment", expected_intents, dict(intents))
    problems += _compare("refund", expected_refunds, refunds)
    problems += _tenders_agree(conn, intents)
    return problems


def _tenders_agree(conn: Any, intents: dict[str, dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    tendered: set[str] = set()
    for tid, order_id, channel, amount, currency, intent_id in conn.execute(
        "SELECT id, order_id, channel, amount_minor, currency, intent_id FROM tenders"
        " WHERE kind = 'payment' AND intent_id IS NOT NULL"
    ):
        tendered.add(intent_id)
        intent = intents.get(intent_id)
        if intent is None:
            problems.append(f"tender {tid} names payment {intent_id}, which does not exist")
            continue
        if intent["status"] not in _TOOK_MONEY:
            problems.append(f"tender {tid}: its payment {intent_id} is {intent['status']}")
        theirs = (intent["order_id"], intent["channel"], intent["amount_minor"], intent["currency"])
        if (order_id, channel, amount, currency) != theirs:
            problems.append(
                f"tender {tid} ({order_id}, {channel}, {amount} {currency}) differs from"
                f" its payment {intent_id} {theirs}"
            )
    for intent_id, intent in intents.items():
        if intent["status"] in _KEPT_MONEY and intent_id not in tendered:
            problems.append(
                f"{intent['channel']} payment {intent['out_trade_no']} (order"
                f" {intent['order_id']}) kept money but is no tender; run `pos payment recover`"
            )
    return problems
