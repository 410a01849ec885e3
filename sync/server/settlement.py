"""Money movements in journal entries, for store reports.

The terminal journals each tender taken (`tender.taken`: one payment) and
each tender given back (`refund.completed` and `order.voided`: a list of
refund rows). Each becomes one settlement line, signed: payments positive,
refunds negative. Other entries move no money. A payload the server cannot
read is still stored (the journal is the record) but adds no line.

The business date is the payload's `business_date` when it has one,
otherwise the terminal's rule applied to the entry's time: the store's local
date (Asia/Shanghai by default) of a day that starts at 04:00.
"""

from __future__ import annotations

import json
import operator
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pos import events
from pos.clock import parse_iso
from pos.events import Event
from pos.money import CURRENCIES, MAX_MINOR

STORE_TZ = ZoneInfo("Asia/Shanghai")
DAY_STARTS_AT_HOUR = 4
DEFAULT_CURRENCY = "CNY"
_JOURNAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def business_date(time_text: str) -> str:
    if _JOURNAL_TIME.fullmatch(time_text):
        # Every zone's offset is whole minutes, so the minute decides the date.
        return _minute_date(time_text[:16])
    return _date_of(parse_iso(time_text))


@lru_cache(maxsize=4096)
def _minute_date(minute: str) -> str:
    return _date_of(datetime.fromisoformat(minute).replace(tzinfo=UTC))


def _date_of(moment: datetime) -> str:
    local = moment.astimezone(STORE_TZ)
    return (local - timedelta(hours=DAY_STARTS_AT_HOUR)).date().isoformat()


def _line(
    n: int, day: str, kind: str, t: dict[str, Any], order_id: Any, currency: Any
) -> dict[str, Any] | None:
    amount = t.get("amount_minor")
    channel = t.get("channel")
    cur = t.get("currency") or currency or DEFAULT_CURRENCY
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(channel, str):
        return None
    if abs(amount) > MAX_MINOR:
        return None  # no till takes that much (and a day's sums stay inside BIGINT)
    if not isinstance(cur, str) or cur not in CURRENCIES:
        return None
    return {
        "line": n,
        "business_date": _text(day, 10),
        "kind": kind,
        "channel": _text(channel, 32),
        "amount_minor": abs(amount) if kind == "payment" else -abs(amount),
        "currency": cur,
        "order_id": _text(str(order_id or ""), 64),
    }


def _text(value: str, size: int) -> str:
    """A text column's value: PostgreSQL's text holds no NUL."""
    return value.replace("\x00", "\ufffd")[:size]


MONEY_EVENTS = events.MONEY_EVENTS


def lines_for_entry(
    seq: int, event_type: str, payload_text: str, time_text: str
) -> list[dict[str, Any]]:
    if event_type not in MONEY_EVENTS:
        return []
    try:
        payload = json.loads(payload_text)
    except ValueError:
        return []
    return lines_for_payload(seq, event_type, payload, time_text)


def lines_for_payload(
    seq: int, event_type: str, payload: Any, time_text: str
) -> list[dict[str, Any]]:
    """The lines of an entry whose payload is already parsed."""
    if event_type not in MONEY_EVENTS or not isinstance(payload, dict):
        return []
    try:
        day = payload.get("business_date") or business_date(time_text)
    except ValueError:
        return []
    if not isinstance(day, str):
        return []
    order_id = payload.get("order_id")
    currency = payload.get("currency")
    if event_type == Event.TENDER_TAKEN:
        tenders, kind = [payload.get("tender")], "payment"
    else:
        tenders, kind = payload.get("tenders") or [], "refund"
    if not isinstance(tenders, list):
        return []
    out: list[dict[str, Any]] = []
    for t in tenders:
        line = _line(len(out), day, kind, t, order_id, currency) if isinstance(t, dict) else None
        if line is not None:
            out.append({"seq": seq, **line})
    return out


LINE_FIELDS = (
    "seq",
    "line",
    "business_date",
    "kind",
    "channel",
    "amount_minor",
    "currency",
    "order_id",
)


def line_rows(seq: int, event_type: str, payload: Any, time_text: str) -> list[tuple[Any, ...]]:
    """`lines_for_payload` as value tuples in LINE_FIELDS order, for bulk inserts."""
    return list(map(_LINE_VALUES, lines_for_payload(seq, event_type, payload, time_text)))


_LINE_VALUES = operator.itemgetter(*LINE_FIELDS)
