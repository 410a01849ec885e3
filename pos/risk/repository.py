"""SQL for the risk tables (migration 0004_risk.sql). Every function takes the
caller's connection: writes belong in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pos.risk.history import AMOUNT_SAMPLE, BASKET_SAMPLE, HOURS_OF_WEEK

EVENT_KINDS = ("sale", "refund", "void", "no_sale")
OUTCOMES = ("approved", "declined", "blocked", "cancelled")


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The DB-API connection the store's transaction() and read() yield."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


@dataclass(frozen=True, slots=True)
class EventRow:
    at_ms: int
    kind: str
    outcome: str
    amount: int
    currency: str
    terminal_id: str
    cashier_id: str = ""
    card_token: str = ""
    account: str = ""
    hour_of_week: int = 0
    items: int = 0
    no_receipt: bool = False
    channel: str = ""


_EVENT_COLUMNS = (
    "at_ms, kind, outcome, amount_minor, currency, terminal_id, cashier_id, card_token, "
    "account, hour_of_week, items, no_receipt, channel"
)


def _event(row: Any) -> EventRow:
    return EventRow(
        at_ms=int(row[0]),
        kind=str(row[1]),
        outcome=str(row[2]),
        amount=int(row[3]),
        currency=str(row[4]),
        terminal_id=str(row[5]),
        cashier_id=str(row[6]),
        card_token=str(row[7]),
        account=str(row[8]),
        hour_of_week=int(row[9]),
        items=int(row[10]),
        no_receipt=bool(row[11]),
        channel=str(row[12]),
    )


def insert_event(
    conn: Connection,
    ev: EventRow,
    *,
    ctx_json: str | None = None,
    action: str | None = None,
    rule_ids: str = "",
    ruleset_version: int | None = None,
) -> None:
    conn.execute(
        f"INSERT INTO risk_events ({_EVENT_COLUMNS}, action, rule_ids, ruleset_version, ctx) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            ev.at_ms, ev.kind, ev.outcome, ev.amount, ev.currency, ev.terminal_id, ev.cashier_id,
            ev.card_token, ev.account, ev.hour_of_week, ev.items, int(ev.no_receipt), ev.channel,
            action, rule_ids, ruleset_version, ctx_json,
        ),
    )  # fmt: skip


def events_since(conn: Connection, since_ms: int, until_ms: int | None = None) -> list[EventRow]:
    """Events in [since_ms, until_ms) in time order (the velocity horizon)."""
    upper = until_ms if until_ms is not None else 2**62
    rows = conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM risk_events WHERE at_ms >= ? AND at_ms < ? "
        "ORDER BY at_ms, id",
        (since_ms, upper),
    ).fetchall()
    return [_event(r) for r in rows]


def history_amounts(conn: Connection, currency: str, before_ms: int) -> list[tuple[int, list[int]]]:
    """Per hour of the week, the latest approved sale amounts, oldest first."""
    out: list[tuple[int, list[int]]] = []
    for how in range(HOURS_OF_WEEK):
        rows = conn.execute(
            "SELECT amount_minor FROM risk_events "
            "WHERE currency = ? AND hour_of_week = ? AND at_ms < ? "
            "AND kind = 'sale' AND outcome = 'approved' ORDER BY at_ms DESC LIMIT ?",
            (currency, how, before_ms, AMOUNT_SAMPLE),
        ).fetchall()
        out.append((how, [int(r[0]) for r in reversed(rows)]))
    return out


def history_baskets(conn: Connection, currency: str, before_ms: int) -> list[int]:
    rows = conn.execute(
        # The time index, read backwards, stops after LIMIT rows; left to itself
        # the planner picks the history index and sorts every approved sale.
        "SELECT items FROM risk_events INDEXED BY risk_events_at WHERE at_ms < ? AND currency = ? "
        "AND kind = 'sale' AND outcome = 'approved' ORDER BY at_ms DESC LIMIT ?",
        (before_ms, currency, BASKET_SAMPLE),
    ).fetchall()
    return [int(r[0]) for r in reversed(rows)]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A recorded event with the context and decision kept for replay."""

    event: EventRow
    ctx_json: str | None
    action: str | None


def recorded_since(conn: Connection, since_ms: int) -> Iterator[RecordedEvent]:
    """Every event from `since_ms` on, in time order (streamed, not loaded at once)."""
    cur = conn.execute(
        f"SELECT {_EVENT_COLUMNS}, ctx, action FROM risk_events WHERE at_ms >= ? "
        "ORDER BY at_ms, id",
        (since_ms,),
    )
    for r in cur:
        yield RecordedEvent(_event(r), None if r[13] is None else str(r[13]), r[14])


# -- rule sets -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredRuleSet:
    version: int
    digest: str
    source: str
    origin: str
    installed_at: str


def store_ruleset(
    conn: Connection, version: int, digest: str, source: str, origin: str, installed_at: str
) -> None:
    conn.execute(
        "INSERT INTO risk_rulesets (version, digest, source, origin, installed_at) "
        "VALUES (?,?,?,?,?)",
        (version, digest, source, origin, installed_at),
    )


def stored_rulesets(conn: Connection) -> list[StoredRuleSet]:
    """Newest first."""
    rows = conn.execute(
        "SELECT version, digest, source, origin, installed_at FROM risk_rulesets "
        "ORDER BY version DESC"
    ).fetchall()
    return [StoredRuleSet(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


# -- list entries --------------------------------------------------------------------
def add_list_entry(
    conn: Connection, lst: str, subject: str, value: str, note: str, added_by: str, at: str
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO risk_list_entries (list, subject, value, note, added_by, added_at)"
        " VALUES (?,?,?,?,?,?)",
        (lst, subject, value, note, added_by, at),
    )


def remove_list_entry(conn: Connection, lst: str, subject: str, value: str) -> bool:
    cur = conn.execute(
        "DELETE FROM risk_list_entries WHERE list = ? AND subject = ? AND value = ?",
        (lst, subject, value),
    )
    return int(cur.rowcount) > 0


def list_entries(conn: Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT list, subject, value FROM risk_list_entries").fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
