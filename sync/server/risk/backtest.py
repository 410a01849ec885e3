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
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select

from pos.risk.attributes import ATTRIBUTES, BOOL, FLOAT, STR, STRSET, base_features
from pos.risk.context import RiskContext
from pos.risk.repository import EventRow
from pos.risk.rules import Rule, RuleSet
from pos.risk.state import RiskState
from sync.server import models as m

RANK = {"allow": 0, "review": 1, "block": 2}
# Attributes the stored columns give without reading the context text.
_COLUMN_NAMES = frozenset({
    "kind", "amount", "currency", "channel", "terminal.id", "cashier.id", "store.id",
    "card.present", "card.token", "account.present", "account.id", "refund.no_receipt",
})  # fmt: skip
_NOT_REPLAYED = frozenset({"lists", "bin", "hotlist"})
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


def run_backtest(engine: Engine, ruleset: RuleSet, rule_id: str, chunk: int = 20_000) -> Backtest:
    """Evaluate `ruleset` (holding the candidate `rule_id`) over every stored event."""
    started = time.perf_counter()
    rule = next(r for r in ruleset.rules if r.id == rule_id)
    program = ruleset.program
    index = ruleset.rules.index(rule)
    names = program.names
    groups = {ATTRIBUTES[n].group for n in names}
    need_ctx = bool(names - _COLUMN_NAMES) and "ctx" in groups
    velocity = sorted(g.split(".", 1)[1] for g in groups if g.startswith("velocity."))
    history, shift = "history" in groups, "shift" in groups
    need_ctx = need_ctx or history
    neutral = {
        n: _neutral(ATTRIBUTES[n].type) for n in names if ATTRIBUTES[n].group in _NOT_REPLAYED
    }
    report = Backtest(rule_id, not_replayed=sorted(neutral))
    stores: dict[str, Counter[str]] = defaultdict(Counter)
    r = m.risk_events
    q = select(
        r.c.terminal_id, r.c.store_id, r.c.at_ms, r.c.kind, r.c.outcome, r.c.amount_minor,
        r.c.currency, r.c.channel, r.c.card_token, r.c.account, r.c.cashier_id,
        r.c.no_receipt, r.c.action, r.c.ctx,
    ).order_by(r.c.terminal_id, r.c.at_ms, r.c.seq)  # fmt: skip
    terminal, state = None, RiskState("CNY")
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(q)
        for row in result:
            (tid, store, at_ms, kind, outcome, amount, currency, channel, card, account,
             cashier, no_receipt, action, ctx_text) = row  # fmt: skip
            if tid != terminal:
                terminal, state = tid, RiskState(currency or "CNY")
            items = 0
            if kind in ("sale", "refund"):
                f: dict[str, Any] = dict(neutral)
                if need_ctx:
                    try:
                        ctx = RiskContext.from_dict(json.loads(ctx_text))
                    except (ValueError, KeyError, TypeError):
                        report.damaged += 1
                        ctx = None
                    if ctx is not None:
                        f.update(base_features(ctx))
                        items = ctx.basket.items
                        if history:
                            state.history.features(ctx.hour_of_week(), amount, items, f)
                        if shift:
                            start = ctx.at.replace(hour=0, minute=0, second=0, microsecond=0)
                            state.shift_features(cashier, start, at_ms, f)
                else:
                    f.update({
                        "kind": kind, "amount": amount, "currency": currency, "channel": channel,
                        "terminal.id": tid, "cashier.id": cashier, "store.id": store,
                        "card.present": bool(card), "card.token": card,
                        "account.present": bool(account), "account.id": account,
                        "refund.no_receipt": bool(no_receipt),
                    })  # fmt: skip
                    if shift:
                        local = datetime.fromtimestamp(at_ms / 1000, _CHINA)
                        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
                        state.shift_features(cashier, start, at_ms, f)
                subjects = {"card": card, "account": account, "terminal": tid, "cashier": cashier}
                for v in velocity:
                    state.velocity.features(v, subjects[v], currency, at_ms, f)
                if names <= f.keys():
                    hit = program.evaluate(f)[index]
                    report.events += 1
                    if hit is True:
                        report.hits += 1
                        stores[store]["hits"] += 1
                        move = _changed(rule, action)
                        if move is not None:
                            report.changed += 1
                            report.moves[move] += 1
                            stores[store]["changed"] += 1
            local_hour = datetime.fromtimestamp(at_ms / 1000, _CHINA)
            state.apply(EventRow(
                at_ms=at_ms, kind=kind, outcome=outcome, amount=amount, currency=currency,
                terminal_id=tid, cashier_id=cashier, card_token=card, account=account,
                hour_of_week=local_hour.weekday() * 24 + local_hour.hour, items=items,
                no_receipt=bool(no_receipt), channel=channel,
            ))  # fmt: skip
    report.by_store = {s: dict(c) for s, c in stores.items()}
    report.seconds = time.perf_counter() - started
    return report
