"""Backtesting a rule over the stored history, with the terminals' own code.

The candidate is compiled by `pos.risk.parse_ruleset` (the same CEL program a
terminal runs) and evaluated on every stored sale and refund, each terminal's
events in time order, with the velocity, history and shift features a
terminal would have had, rebuilt by `pos.risk.state.RiskState` from that
terminal's events before it. Block/allow lists, the BIN table and the hot list
are the terminal's own and are not replayed here: rules reading them see
them empty, and the report names such attributes.

A decision changes when the rule matches and its action outranks what the
terminal decided (block over review over allow); an allow rule changes a
review it matches. A shadow rule changes nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, create_engine, func, select

from pos.errors import InvalidInput
from pos.risk.attributes import ATTRIBUTES, BOOL, FLOAT, STR, STRSET, base_features
from pos.risk.cel import BATCH_ROWS, ColumnCondition, ExpressionError
from pos.risk.context import RiskContext
from pos.risk.repository import EventRow
from pos.risk.rules import Rule, RuleSet, parse_ruleset
from pos.risk.state import RiskState
from pos.risk.velocity import HORIZON_MS, Series
from sync.server import models as m
from sync.server.db import make_engine

RANK = {"allow": 0, "review": 1, "block": 2}
# Attributes the stored columns give without reading the context text.
_COLUMN_NAMES = frozenset(
    {
        "kind",
        "amount",
        "currency",
        "channel",
        "terminal.id",
        "cashier.id",
        "store.id",
        "card.present",
        "card.token",
        "account.present",
        "account.id",
        "refund.no_receipt",
    }
)
_NOT_REPLAYED = frozenset({"lists", "bin", "hotlist"})
_COUNTED = frozenset({"approved", "declined", "blocked"})  # as RiskState.apply counts
_CHINA = timezone(timedelta(hours=8))


def _neutral(typ: str) -> Any:
    return {BOOL: False, STR: "", STRSET: frozenset(), FLOAT: 0.0}.get(typ, 0)


@dataclass
class Backtest:
    rule_id: str
    events: int = 0
    hits: int = 0
    changed: int = 0
    by_store: dict[str, dict[str, int]] = field(default_factory=dict)
    moves: Counter[str] = field(default_factory=Counter)
    not_replayed: list[str] = field(default_factory=list)
    damaged: int = 0
    seconds: float = 0.0

    def merge(self, other: Backtest) -> None:
        self.events += other.events
        self.hits += other.hits
        self.changed += other.changed
        self.damaged += other.damaged
        self.moves.update(other.moves)
        for store, counts in other.by_store.items():
            mine = self.by_store.setdefault(store, {})
            for k, v in counts.items():
                mine[k] = mine.get(k, 0) + v

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "events": self.events,
            "hits": self.hits,
            "changed": self.changed,
            "by_store": dict(sorted(self.by_store.items())),
            "moves": dict(sorted(self.moves.items())),
            "not_replayed": self.not_replayed,
            "damaged": self.damaged,
            "milliseconds": int(self.seconds * 1000),
        }


def _changed(rule: Rule, recorded: str) -> str | None:
    """'recorded->new' when the rule moves the decision, else None."""
    if rule.shadow:
        return None
    if rule.action == "allow":
        return "review->allow" if recorded == "review" else None
    if RANK.get(recorded, 0) < RANK[rule.action]:
        return f"{recorded or 'allow'}->{rule.action}"
    return None


def _count_hit(report: Backtest, store: Counter[str], rule: Rule, recorded: str) -> None:
    """One decision the rule hits: counted, and where it moves the decision."""
    report.hits += 1
    store["hits"] += 1
    move = _changed(rule, recorded)
    if move is not None:
        report.changed += 1
        report.moves[move] += 1
        store["changed"] += 1


def run_backtest(engine: Engine, source: str, rule_id: str, workers: int | None = None) -> Backtest:
    """Evaluate the candidate `rule_id` (in the rule set text `source`) over
    every stored event. Terminals are independent (each one's velocity is its
    own), so they are shared out over one process per core."""
    started = time.perf_counter()
    r = m.risk_events
    with engine.connect() as conn:
        sizes = conn.execute(select(r.c.terminal_id, func.count()).group_by(r.c.terminal_id)).all()
    n = max(1, min(workers or os.cpu_count() or 1, len(sizes)))
    url = engine.url.render_as_string(hide_password=False)
    if n == 1 or sum(c for _, c in sizes) < 50_000:
        report = _backtest_part(url, source, rule_id, None)
    else:
        parts: list[list[str]] = [[] for _ in range(n)]
        loads = [0] * n
        for tid, count in sorted(sizes, key=lambda x: -int(x[1])):
            i = loads.index(min(loads))
            parts[i].append(str(tid))
            loads[i] += int(count)
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = list(pool.map(_backtest_part, [url] * n, [source] * n, [rule_id] * n, parts))
        report = done[0]
        for other in done[1:]:
            report.merge(other)
    report.seconds = time.perf_counter() - started
    return report


def _backtest_part(url: str, source: str, rule_id: str, terminals: list[str] | None) -> Backtest:
    # A reading engine of its own: the server's SQLite engine begins every
    # transaction IMMEDIATE (the write lock), which would stop ingest for the
    # whole backtest; in WAL mode plain readers run beside the writer.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
    else:
        engine = make_engine(url, pool_size=1)
    try:
        return _backtest(engine, parse_ruleset(source), rule_id, terminals)
    finally:
        engine.dispose()


_ROW = {
    "kind": (3, None), "amount": (5, None), "currency": (6, None), "channel": (7, None),
    "terminal.id": (0, None), "cashier.id": (10, None), "store.id": (1, None),
    "card.present": (8, bool), "card.token": (8, None), "account.present": (9, bool),
    "account.id": (9, None), "refund.no_receipt": (11, bool),
}  # fmt: skip
_WINDOWS = {"10m": 600_000, "1h": 3_600_000, "24h": 86_400_000}
_SUBJECT_COLUMN = {"card": 8, "account": 9, "terminal": 0, "cashier": 10}


def _fast(engine: Engine, rule: Rule, terminals: list[str] | None, chunk: int) -> Backtest:
    """The common case: a rule reading stored columns and velocity only. Each
    needed value is computed alone, and the rule's CEL condition evaluated
    over batches of rows in one call each (pos.risk.cel.ColumnCondition)."""
    names = sorted(rule.condition.names)
    try:
        batch: ColumnCondition | None = ColumnCondition(rule.condition)
    except ExpressionError:
        batch = None  # evaluated row by row
    columns = [(n, *_ROW[n]) for n in names if n in _ROW]
    vel: list[tuple[str, str, int, str, int]] = []
    for n in names:
        if n.startswith("velocity."):
            _, subject, metric = n.split(".")
            what, window = metric.rsplit("_", 1)
            vel.append((n, subject, _SUBJECT_COLUMN[subject], what, _WINDOWS[window]))
    subjects = sorted({v[1] for v in vel})
    # Sums need running totals (Series); counts only the times, kept as plain
    # sorted lists: most cards are seen once, and a list is far cheaper.
    summed = {v[1] for v in vel if v[3] == "sum"}
    report = Backtest(rule.id)
    stores: dict[str, Counter[str]] = defaultdict(Counter)
    r = m.risk_events
    q = select(
        r.c.terminal_id,
        r.c.store_id,
        r.c.at_ms,
        r.c.kind,
        r.c.outcome,
        r.c.amount_minor,
        r.c.currency,
        r.c.channel,
        r.c.card_token,
        r.c.account,
        r.c.cashier_id,
        r.c.no_receipt,
        r.c.action,
    ).order_by(r.c.terminal_id, r.c.seq)
    if terminals is not None:
        q = q.where(r.c.terminal_id.in_(terminals))
    terminal = None
    sales: dict[tuple[str, str, str], Series] = {}
    times: dict[tuple[str, str, str], list[int]] = {}
    declines: dict[tuple[str, str, str], list[int]] = {}
    cols: dict[str, list[Any]] = {n: [] for n in names}
    pending: list[tuple[str, str]] = []  # (store, recorded action) per row in `cols`

    def flush() -> None:
        if batch is not None:
            hits = batch.matches(cols, len(pending))
        else:
            hits = [i for i in range(len(pending)) if _holds(rule, {n: cols[n][i] for n in names})]
        for i in hits:
            store, recorded = pending[i]
            _count_hit(report, stores[store], rule, recorded)
        report.events += len(pending)
        pending.clear()
        for values in cols.values():
            values.clear()

    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(q)
        for row in result:
            tid, store, at_ms, kind, outcome, amount, currency = row[:7]
            if tid != terminal:
                terminal, sales, times, declines = tid, {}, {}, {}
            if kind == "sale" or kind == "refund":
                for n, i, conv in columns:
                    cols[n].append(row[i] if conv is None else conv(row[i]))
                for n, subj, col, what, span in vel:
                    key = (subj, row[col], currency)
                    if what == "sum":
                        series = sales.get(key) if row[col] else None
                        cols[n].append(series.window(at_ms - span, at_ms)[1] if series else 0)
                    else:
                        seen = (declines if what == "declines" else times).get(key)
                        cols[n].append(
                            bisect_right(seen, at_ms) - bisect_left(seen, at_ms - span)
                            if seen and row[col]
                            else 0
                        )
                pending.append((store, row[12]))
                if len(pending) == BATCH_ROWS:
                    flush()
            if subjects and kind == "sale" and outcome in _COUNTED:
                approved = outcome == "approved"
                for subject in subjects:
                    value_ = row[_SUBJECT_COLUMN[subject]]
                    if not value_:
                        continue
                    key = (subject, value_, currency)
                    _remember(declines if not approved else times, key, at_ms)
                    if approved and subject in summed:
                        series = sales.get(key)
                        if series is None:
                            series = sales[key] = Series()
                        series.add(at_ms, amount)
                        series.prune(at_ms - HORIZON_MS)
        flush()
    report.by_store = {s: dict(c) for s, c in stores.items()}
    return report


def _remember(table: dict[tuple[str, str, str], list[int]], key: Any, at_ms: int) -> None:
    """Add a time to a subject's sorted list, dropping what no window sees."""
    seen = table.get(key)
    if seen is None:
        table[key] = [at_ms]
        return
    if at_ms >= seen[-1]:
        seen.append(at_ms)
    else:
        insort(seen, at_ms)  # a late event (the terminal's clock stepped back)
    if seen[0] < at_ms - HORIZON_MS and len(seen) > 16:
        del seen[: bisect_left(seen, at_ms - HORIZON_MS)]


def _holds(rule: Rule, data: dict[str, Any]) -> bool:
    try:
        return rule.condition.test(data)
    except RuntimeError:
        return False


def _backtest(
    engine: Engine,
    ruleset: RuleSet,
    rule_id: str,
    terminals: list[str] | None,
    chunk: int = 20_000,
) -> Backtest:
    rule = next(r for r in ruleset.rules if r.id == rule_id)
    program = ruleset.program
    index = ruleset.rules.index(rule)
    names = program.names
    groups = {ATTRIBUTES[n].group for n in names}
    velocity = tuple(sorted(g.split(".", 1)[1] for g in groups if g.startswith("velocity.")))
    history, shift = "history" in groups, "shift" in groups
    need_ctx = history or any(
        ATTRIBUTES[n].group == "ctx" and n not in _COLUMN_NAMES for n in names
    )
    if (
        len(ruleset.rules) == 1
        and not (need_ctx or shift)
        and groups <= {"ctx"} | {f"velocity.{v}" for v in velocity}
    ):
        return _fast(engine, rule, terminals, chunk)
    neutral = {
        n: _neutral(ATTRIBUTES[n].type) for n in names if ATTRIBUTES[n].group in _NOT_REPLAYED
    }
    report = Backtest(rule_id, not_replayed=sorted(neutral))
    stores: dict[str, Counter[str]] = defaultdict(Counter)
    r = m.risk_events
    cols = [r.c.terminal_id, r.c.store_id, r.c.at_ms, r.c.kind, r.c.outcome, r.c.amount_minor,
            r.c.currency, r.c.channel, r.c.card_token, r.c.account, r.c.cashier_id,
            r.c.no_receipt, r.c.action]  # fmt: skip
    if need_ctx:
        cols.append(r.c.ctx)
    # Journal order per terminal (the primary key's): what the terminal lived through.
    q = select(*cols).order_by(r.c.terminal_id, r.c.seq)
    if terminals is not None:
        q = q.where(r.c.terminal_id.in_(terminals))
    terminal, state = None, RiskState("CNY")
    full_state = history or shift  # otherwise only the velocity the rule reads is kept
    evaluate = program.evaluate
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(q)
        for row in result:
            (tid, store, at_ms, kind, outcome, amount, currency, channel, card, account,
             cashier, no_receipt, action) = row[:13]  # fmt: skip
            if tid != terminal:
                terminal, state = tid, RiskState(currency or "CNY")
            items = 0
            subjects = {"card": card, "account": account, "terminal": tid, "cashier": cashier}
            if kind in ("sale", "refund"):
                f: dict[str, Any] = dict(neutral)
                ok = True
                if need_ctx:
                    try:
                        ctx = RiskContext.from_dict(json.loads(row[13])["context"])
                    except (ValueError, KeyError, TypeError, InvalidInput):
                        report.damaged += 1
                        ok = False
                    else:
                        f.update(base_features(ctx))
                        items = ctx.basket.items
                        if history:
                            state.history.features(ctx.hour_of_week(), amount, items, f)
                else:
                    f["kind"] = kind
                    f["amount"] = amount
                    f["currency"] = currency
                    f["channel"] = channel
                    f["terminal.id"] = tid
                    f["cashier.id"] = cashier
                    f["store.id"] = store
                    f["card.present"] = bool(card)
                    f["card.token"] = card
                    f["account.present"] = bool(account)
                    f["account.id"] = account
                    f["refund.no_receipt"] = bool(no_receipt)
                if ok:
                    if shift:
                        local = datetime.fromtimestamp(at_ms / 1000, _CHINA)
                        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
                        state.shift_features(cashier, start, at_ms, f)
                    for v in velocity:
                        state.velocity.features(v, subjects[v], currency, at_ms, f)
                    report.events += 1
                    if evaluate(f)[index] is True:
                        _count_hit(report, stores[store], rule, action)
            if full_state:
                local_hour = datetime.fromtimestamp(at_ms / 1000, _CHINA)
                state.apply(
                    EventRow(
                        at_ms=at_ms,
                        kind=kind,
                        outcome=outcome,
                        amount=amount,
                        currency=currency,
                        terminal_id=tid,
                        cashier_id=cashier,
                        card_token=card,
                        account=account,
                        hour_of_week=local_hour.weekday() * 24 + local_hour.hour,
                        items=items,
                        no_receipt=bool(no_receipt),
                        channel=channel,
                    )
                )
            elif velocity and kind == "sale" and outcome in _COUNTED:
                state.velocity.add(
                    [(v, subjects[v]) for v in velocity],
                    currency,
                    at_ms,
                    amount,
                    outcome == "approved",
                )
    report.by_store = {s: dict(c) for s, c in stores.items()}
    return report
