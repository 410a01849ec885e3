"""Chain-wide analysis of every terminal's journal, as entries arrive.

Each till sees only itself; here the server looks across stores:

- velocity of a card token, a wallet buyer id and a cashier across stores;
- refund and void patterns of a cashier (refunds without receipt, voids);
- store-level anomaly: an hour's takings against the same hour of the week in
  earlier weeks (robust z, median/MAD);
- impossible travel: the same card or buyer id at two stores farther apart
  than a person can travel in the time between (store coordinates from the
  store registry, `store_places`).

A finding is an alert (`risk_alerts`, once per rule, subject and window) and,
for rules that name a card, a buyer id or a cashier, a hot-list entry with an
expiry. State lives in the database only, so any number of server processes
agree: a batch is analysed in one transaction holding the terminal's cursor,
exactly once, also after a crash between storing and analysing (the next
upload of that terminal catches up from `entries`).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from pos import canonical
from pos.clock import Clock, iso
from sync.server import models as m
from sync.server.db import bulk_insert, is_postgres
from sync.server.risk.facts import FACT_COLUMNS, Fact, fact_of

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY


@dataclass(frozen=True)
class Thresholds:
    """What counts as a finding. The defaults suit a chain of supermarkets."""

    card_sales_10m: int = 5  # approved sales of one card in 10 minutes, chain-wide
    card_stores_1h: int = 3  # distinct stores one card paid at within an hour
    account_sales_10m: int = 5
    cashier_refunds_no_receipt_24h: int = 5
    cashier_refunds_1h: int = 8
    cashier_voids_1h: int = 10
    travel_kmh: float = 500.0  # faster than this between two stores is impossible
    travel_min_km: float = 50.0  # nearer stores are never "impossible"
    travel_window_ms: int = 6 * HOUR
    store_z: float = 6.0
    store_min_weeks: int = 4
    store_weeks: int = 8
    hot_ttl_ms: dict[str, int] = field(
        default_factory=lambda: {
            "impossible-travel": 24 * HOUR,
            "card-velocity": 6 * HOUR,
            "card-stores": 6 * HOUR,
            "account-velocity": 6 * HOUR,
            "cashier-refunds-no-receipt": 24 * HOUR,
            "cashier-refunds": 12 * HOUR,
            "cashier-voids": 12 * HOUR,
        }
    )


@dataclass
class Finding:
    rule: str
    subject: str  # card | account | cashier | store
    value: str
    fact: Fact
    window: int  # a bucket that makes the alert once per rule, subject and window
    detail: dict[str, Any]


@dataclass
class Outcome:
    analysed: int = 0
    facts: int = 0
    alerts: list[int] = field(default_factory=list)
    hotlist_changed: bool = False


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between (lat, lon) in degrees."""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


class ChainAnalysis:
    def __init__(self, engine: Engine, clock: Clock, thresholds: Thresholds | None = None):
        self.engine = engine
        self.clock = clock
        self.t = thresholds or Thresholds()
        self._postgres = is_postgres(engine)
        self._insert = postgresql.insert if self._postgres else sqlite.insert

    # -- the ingest hook -------------------------------------------------------------
    def on_stored(self, terminal_id: str, store_id: str, entries: Sequence[Any]) -> Outcome:
        """Analyse what is new for this terminal: `entries` (WireEntry-like:
        seq, type, time, payload) just stored, plus anything before them the
        cursor has not reached."""
        out = Outcome()
        with self.engine.begin() as conn:
            cursor = self._lock_cursor(conn, terminal_id)
            fresh = [e for e in entries if e.seq > cursor]
            first = fresh[0].seq if fresh else None
            if first is not None and first > cursor + 1:
                fresh = self._stored_between(conn, terminal_id, cursor, first) + fresh
            if not fresh:
                return out
            facts = [
                f
                for e in fresh
                if (f := fact_of(terminal_id, store_id, e.seq, e.type, e.time, e.payload))
            ]
            out.analysed, out.facts = len(fresh), len(facts)
            if facts:
                bulk_insert(conn, m.risk_events, FACT_COLUMNS, [f.row() for f in facts])
                findings = self._analyse(conn, facts)
                out.alerts, out.hotlist_changed = self._record(conn, findings)
            conn.execute(
                update(m.risk_cursor)
                .where(m.risk_cursor.c.terminal_id == terminal_id)
                .values(seq=fresh[-1].seq)
            )
        return out

    def _lock_cursor(self, conn: Connection, terminal_id: str) -> int:
        c = m.risk_cursor
        q = select(c.c.seq).where(c.c.terminal_id == terminal_id)
        if self._postgres:
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is not None:
            return int(row.seq)
        conn.execute(insert(c).values(terminal_id=terminal_id, seq=0))
        if self._postgres:  # another process may have inserted it first: lock that one
            return int(conn.execute(q).scalar_one())
        return 0

    def _stored_between(
        self, conn: Connection, terminal_id: str, after: int, before: int
    ) -> list[Any]:
        e = m.entries
        return list(
            conn.execute(
                select(e.c.seq, e.c.type, e.c.time, e.c.payload)
                .where(e.c.terminal_id == terminal_id, e.c.seq > after, e.c.seq < before)
                .order_by(e.c.seq)
            ).all()
        )

    # -- the analyses ----------------------------------------------------------------
    def _analyse(self, conn: Connection, facts: list[Fact]) -> list[Finding]:
        findings: list[Finding] = []
        cards: dict[str, list[Fact]] = defaultdict(list)
        accounts: dict[str, list[Fact]] = defaultdict(list)
        cashiers: dict[str, list[Fact]] = defaultdict(list)
        for f in facts:
            if f.kind == "sale" and f.card_token:
                cards[f.card_token].append(f)
            if f.kind == "sale" and f.account:
                accounts[f.account].append(f)
            if f.kind in ("refund", "void") and f.cashier_id:
                cashiers[f.cashier_id].append(f)
        places = self._places(conn) if cards or accounts else {}
        r = m.risk_events
        travel = self.t.travel_window_ms
        for _, (new, past) in self._histories(conn, r.c.card_token, cards, travel):
            findings += self._velocity("card", "card-velocity", self.t.card_sales_10m, new, past)
            findings += self._stores("card", new, past)
            findings += self._travel("card", new, past, places)
        for _, (new, past) in self._histories(conn, r.c.account, accounts, travel):
            findings += self._velocity(
                "account", "account-velocity", self.t.account_sales_10m, new, past
            )
            findings += self._travel("account", new, past, places)
        refunds_voids = ("refund", "void")
        for cashier, (new, past) in self._histories(
            conn, r.c.cashier_id, cashiers, DAY, refunds_voids
        ):
            findings += self._cashier(cashier, new, past)
        findings += self._store_hours(conn, facts)
        return findings

    def _among(self, column: Any, values: list[str]) -> Any:
        """column IN values; on PostgreSQL one array parameter (= ANY), which
        plans and binds far faster than hundreds of separate parameters."""
        if self._postgres:
            return column == any_(bindparam("among", values, type_=ARRAY(String)))
        return column.in_(values)

    def _places(self, conn: Connection) -> dict[str, tuple[float, float]]:
        p = m.store_places
        return {
            r.store_id: (r.lat, r.lon) for r in conn.execute(select(p.c.store_id, p.c.lat, p.c.lon))
        }

    def _histories(
        self,
        conn: Connection,
        column: Any,
        new: dict[str, list[Fact]],
        span: int,
        kinds: tuple[str, ...] = ("sale",),
    ) -> list[tuple[str, tuple[list[Fact], list[Any]]]]:
        """For each subject of the batch: its new facts and every recorded event
        of it from `span` before the batch's first fact to its last (the new
        ones included), oldest first. One query per 500 subjects, not one each."""
        if not new:
            return []
        r = m.risk_events
        every = [f for fs in new.values() for f in fs]
        lo, hi = min(f.at_ms for f in every) - span, max(f.at_ms for f in every)
        past: dict[str, list[Any]] = defaultdict(list)
        values = sorted(new)
        step = 5000 if self._postgres else 500  # SQLite: at most 32,766 parameters
        for i in range(0, len(values), step):
            rows = conn.execute(
                select(
                    column.label("subject"),
                    r.c.store_id,
                    r.c.terminal_id,
                    r.c.seq,
                    r.c.at_ms,
                    r.c.kind,
                    r.c.outcome,
                    r.c.no_receipt,
                )
                .where(
                    self._among(column, values[i : i + step]),
                    r.c.at_ms >= lo,
                    r.c.at_ms <= hi,
                    r.c.kind.in_(kinds),
                )
                .order_by(r.c.at_ms, r.c.terminal_id, r.c.seq)
            )
            for row in rows:
                past[row.subject].append(row)
        return [(v, (new[v], past[v])) for v in values]

    @staticmethod
    def _window(past: list[Any], f: Fact, span: int, kind: str, outcome: str | None) -> list[Any]:
        return [
            p
            for p in past
            if f.at_ms - span < p.at_ms <= f.at_ms
            and p.kind == kind
            and (outcome is None or p.outcome == outcome)
        ]

    def _velocity(
        self, subject: str, rule: str, limit: int, new: list[Fact], past: list[Any]
    ) -> list[Finding]:
        out = []
        for f in new:
            if f.outcome != "approved":
                continue
            seen = self._window(past, f, 10 * MINUTE, "sale", "approved")
            if len(seen) >= limit:
                stores = sorted({p.store_id for p in seen})
                out.append(
                    Finding(
                        rule,
                        subject,
                        getattr(f, _FIELD[subject]),
                        f,
                        f.at_ms // (10 * MINUTE),
                        {"sales_10m": len(seen), "stores": stores},
                    )
                )
        return out

    def _stores(self, subject: str, new: list[Fact], past: list[Any]) -> list[Finding]:
        out = []
        for f in new:
            seen = self._window(past, f, HOUR, "sale", None)
            stores = sorted({p.store_id for p in seen})
            if len(stores) >= self.t.card_stores_1h:
                out.append(
                    Finding(
                        "card-stores",
                        subject,
                        f.card_token,
                        f,
                        f.at_ms // HOUR,
                        {"stores_1h": stores},
                    )
                )
        return out

    def _travel(
        self,
        subject: str,
        new: list[Fact],
        past: list[Any],
        places: dict[str, tuple[float, float]],
    ) -> list[Finding]:
        out = []
        for f in new:
            here = places.get(f.store_id)
            if here is None:
                continue
            for p in past:
                if p.at_ms > f.at_ms or p.store_id == f.store_id or p.kind != "sale":
                    continue
                there = places.get(p.store_id)
                if there is None:
                    continue
                km = distance_km(here, there)
                hours = max(f.at_ms - p.at_ms, 1) / HOUR
                if km >= self.t.travel_min_km and km / hours > self.t.travel_kmh:
                    value = getattr(f, _FIELD[subject])
                    out.append(
                        Finding(
                            "impossible-travel",
                            subject,
                            value,
                            f,
                            f.at_ms // DAY,
                            {
                                "from_store": p.store_id,
                                "to_store": f.store_id,
                                "km": round(km),
                                "minutes": round((f.at_ms - p.at_ms) / MINUTE),
                                "kmh": round(km / hours),
                                "limit_kmh": round(self.t.travel_kmh),
                            },
                        )
                    )
                    break
        return out

    def _cashier(self, cashier: str, new: list[Fact], past: list[Any]) -> list[Finding]:
        out = []
        for f in new:
            if f.kind == "refund":
                day = self._window(past, f, DAY, "refund", "approved")
                no_receipt = [p for p in day if p.no_receipt]
                if len(no_receipt) >= self.t.cashier_refunds_no_receipt_24h:
                    out.append(
                        Finding(
                            "cashier-refunds-no-receipt",
                            "cashier",
                            cashier,
                            f,
                            f.at_ms // DAY,
                            {
                                "refunds_no_receipt_24h": len(no_receipt),
                                "stores": sorted({p.store_id for p in no_receipt}),
                            },
                        )
                    )
                hour = [p for p in day if p.at_ms > f.at_ms - HOUR]
                if len(hour) >= self.t.cashier_refunds_1h:
                    out.append(
                        Finding(
                            "cashier-refunds",
                            "cashier",
                            cashier,
                            f,
                            f.at_ms // HOUR,
                            {"refunds_1h": len(hour)},
                        )
                    )
            elif f.kind == "void":
                voids = self._window(past, f, HOUR, "void", None)
                if len(voids) >= self.t.cashier_voids_1h:
                    out.append(
                        Finding(
                            "cashier-voids",
                            "cashier",
                            cashier,
                            f,
                            f.at_ms // HOUR,
                            {"voids_1h": len(voids)},
                        )
                    )
        return out

    def _store_hours(self, conn: Connection, facts: list[Fact]) -> list[Finding]:
        """Add approved sales to their store's hour; judge each hour touched
        against the same hour of the week in earlier weeks."""
        touched: dict[tuple[str, int], list[Fact]] = defaultdict(list)
        for f in facts:
            if f.kind == "sale" and f.outcome == "approved":
                touched[f.store_id, f.at_ms - f.at_ms % HOUR].append(f)
        h = m.risk_store_hours
        out: list[Finding] = []
        for (store, hour_ms), group in touched.items():
            amount = sum(f.amount_minor for f in group)
            # The hour of the week in the store's zone: China Standard Time,
            # the zone every store of the chain is in today.
            how = ((hour_ms + 8 * HOUR) // HOUR + 72) % 168  # epoch was a Thursday
            add = self._insert(h).values(
                store_id=store,
                hour_ms=hour_ms,
                hour_of_week=how,
                sales=len(group),
                amount_minor=amount,
            )
            total = int(
                conn.execute(
                    add.on_conflict_do_update(
                        index_elements=["store_id", "hour_ms"],
                        set_={
                            "sales": h.c.sales + len(group),
                            "amount_minor": h.c.amount_minor + amount,
                        },
                    ).returning(h.c.amount_minor)
                ).scalar_one()
            )
            earlier = [
                int(r.amount_minor)
                for r in conn.execute(
                    select(h.c.amount_minor).where(
                        h.c.store_id == store,
                        h.c.hour_of_week == how,
                        h.c.hour_ms < hour_ms,
                        h.c.hour_ms >= hour_ms - self.t.store_weeks * WEEK,
                    )
                )
            ]
            z = robust_z(total, earlier, self.t.store_min_weeks)
            if z is not None and z >= self.t.store_z:
                out.append(
                    Finding(
                        "store-anomaly",
                        "store",
                        store,
                        group[-1],
                        hour_ms,
                        {
                            "hour_of_week": how,
                            "amount_minor": total,
                            "median_minor": int(statistics.median(earlier)),
                            "z": f"{z:.1f}",
                            "weeks": len(earlier),
                        },
                    )
                )
        return out

    # -- alerts and the hot list -----------------------------------------------------
    def _record(self, conn: Connection, findings: Iterable[Finding]) -> tuple[list[int], bool]:
        """Every finding's alert in one statement (ON CONFLICT DO NOTHING: a
        window already alerted, by this or another process, is skipped), then
        the hot list in one upsert that only extends an expiry."""
        now = self.clock.now()
        now_ms = int(now.timestamp() * 1000)
        created = iso(now)
        rows: dict[str, tuple[Finding, dict[str, Any]]] = {}
        for fd in findings:
            dedupe = f"{fd.rule}|{fd.subject}|{fd.value}|{fd.window}"[:255]
            rows.setdefault(
                dedupe,
                (
                    fd,
                    {
                        "rule": fd.rule,
                        "store_id": fd.fact.store_id,
                        "terminal_id": fd.fact.terminal_id,
                        "seq": fd.fact.seq,
                        "subject": fd.subject,
                        "value": fd.value,
                        "detail": canonical.dumps(fd.detail).decode(),
                        "dedupe": dedupe,
                        "created_at": created,
                    },
                ),
            )
        a = m.risk_alerts
        ids: dict[str, int] = {}
        values = [row for _, row in rows.values()]
        for i in range(0, len(values), _ROWS_PER_STATEMENT):
            stmt = (
                self._insert(a)
                .values(values[i : i + _ROWS_PER_STATEMENT])
                .on_conflict_do_nothing(index_elements=["dedupe"])
                .returning(a.c.id, a.c.dedupe)
            )
            ids.update({r.dedupe: int(r.id) for r in conn.execute(stmt)})
        hot: dict[tuple[str, str], dict[str, Any]] = {}
        for dedupe, (fd, _) in rows.items():
            ttl = self.t.hot_ttl_ms.get(fd.rule)
            if dedupe not in ids or ttl is None or fd.subject not in _FIELD:
                continue
            entry = {
                "subject": fd.subject,
                "value": fd.value,
                "rule": fd.rule,
                "expires_ms": now_ms + ttl,
                "alert_id": ids[dedupe],
                "updated_at": created,
            }
            held = hot.get((fd.subject, fd.value))
            if held is None or held["expires_ms"] < entry["expires_ms"]:
                hot[fd.subject, fd.value] = entry
        return [ids[d] for d in rows if d in ids], self._hot(conn, list(hot.values()))

    def _hot(self, conn: Connection, entries: list[dict[str, Any]]) -> bool:
        """Upsert hot-list entries; an entry only ever gets a later expiry.
        True when any row was added or extended."""
        t = m.risk_hotlist
        changed = False
        for i in range(0, len(entries), _ROWS_PER_STATEMENT):
            add = self._insert(t).values(entries[i : i + _ROWS_PER_STATEMENT])
            new = add.excluded
            upsert = add.on_conflict_do_update(
                index_elements=["subject", "value"],
                set_={
                    "rule": new.rule,
                    "expires_ms": new.expires_ms,
                    "alert_id": new.alert_id,
                    "updated_at": new.updated_at,
                },
                where=t.c.expires_ms < new.expires_ms,
            )
            changed |= bool(conn.execute(upsert.returning(t.c.subject)).all())
        return changed


# Rows per multi-row statement: inside SQLite's 32,766 parameters at 9 columns.
_ROWS_PER_STATEMENT = 1000


_FIELD = {"card": "card_token", "account": "account", "cashier": "cashier_id"}


def robust_z(x: int, sample: Sequence[int], min_n: int) -> float | None:
    """(x - median) / (1.4826 * MAD); the mean absolute deviation stands in when
    over half the values are equal; None with too few samples."""
    if len(sample) < min_n:
        return None
    med = statistics.median(sample)
    mad = statistics.median(abs(v - med) for v in sample)
    scale = 1.4826 * mad if mad else 1.2533 * statistics.fmean(abs(v - med) for v in sample)
    if not scale:
        return None
    return (x - med) / scale


def hotlist_document(engine: Engine, now_ms: int) -> bytes:
    """The unexpired hot list as the terminals read it (pos.risk.hotlist)."""
    t = m.risk_hotlist
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.subject, t.c.value, t.c.rule, t.c.expires_ms)
            .where(t.c.expires_ms > now_ms)
            .order_by(t.c.subject, t.c.value)
        ).all()
    entries = [
        {"subject": r.subject, "value": r.value, "rule": r.rule, "expires_ms": int(r.expires_ms)}
        for r in rows
    ]
    return json.dumps({"entries": entries}, separators=(",", ":")).encode()
