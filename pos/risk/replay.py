"""Replay the terminal's recorded history against a candidate rule set.

The candidate engine starts from the state the terminal had at `since`
(history and the 24 hours of velocity before it) and then walks every
recorded event in time order: each sale or refund is decided by the
candidate rules, then the event is taken into account as it really happened
(what the candidate would have blocked cannot be known to have been tried
again, so velocity follows the real outcomes).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.risk.bins import BinTable
from pos.risk.context import RiskContext
from pos.risk.engine import RiskEngine
from pos.risk.repository import Connection, list_entries, recorded_since
from pos.risk.rules import RuleSet
from pos.risk.state import RiskState


@dataclass
class ReplayReport:
    ruleset_version: int
    since: str
    decisions: Counter[str] = field(default_factory=Counter)  # candidate action -> count
    by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, action)
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (recorded, candidate)
    rule_hits: Counter[str] = field(default_factory=Counter)
    shadow_hits: Counter[str] = field(default_factory=Counter)
    damaged: int = 0

    @property
    def total(self) -> int:
        return sum(self.decisions.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset_version": self.ruleset_version,
            "since": self.since,
            "total": self.total,
            "allow": self.decisions["allow"],
            "review": self.decisions["review"],
            "block": self.decisions["block"],
            "by_kind": {f"{k}.{a}": n for (k, a), n in sorted(self.by_kind.items())},
            "changes": {f"{r}->{c}": n for (r, c), n in sorted(self.changes.items())},
            "rule_hits": dict(self.rule_hits.most_common()),
            "shadow_hits": dict(self.shadow_hits.most_common()),
            "damaged": self.damaged,
        }

    def summary(self, lang: str = "en") -> str:
        """What the replay found, in `lang`."""

        def say(code: str, **params: object) -> str:
            return msg(code, **params).render(lang)

        lines = [
            say("risk.replay.head", total=self.total, since=self.since,
                version=self.ruleset_version),
            "  " + say("risk.replay.counts", allow=self.decisions["allow"],
                       review=self.decisions["review"], block=self.decisions["block"]),
        ]  # fmt: skip
        moved = {k: n for k, n in self.changes.items() if k[0] != k[1]}
        if moved:
            lines.append("  " + say("risk.replay.changed"))
            for (was, now), n in sorted(moved.items()):
                lines.append(f"    {say(f'risk.action.{was}')} -> {say(f'risk.action.{now}')}: {n}")
        if self.rule_hits:
            lines.append("  " + say("risk.replay.rules_decided", hits=", ".join(
                f"{rid} {n}" for rid, n in self.rule_hits.most_common()
            )))  # fmt: skip
        if self.shadow_hits:
            lines.append("  " + say("risk.replay.shadow_matched", hits=", ".join(
                f"{rid} {n}" for rid, n in self.shadow_hits.most_common()
            )))  # fmt: skip
        if self.damaged:
            lines.append("  " + say("risk.replay.damaged", damaged=self.damaged))
        return "\n".join(lines)


def replay(
    conn: Connection,
    ruleset: RuleSet,
    since: datetime,
    *,
    currency: str = "CNY",
    bins: BinTable | None = None,
) -> ReplayReport:
    if since.tzinfo is None:
        raise InvalidInput(msg("risk.replay.naive_since"))
    since_ms = int(since.timestamp() * 1000)
    state = RiskState.load(conn, currency, since_ms)
    engine = RiskEngine(
        ruleset, state, bins=bins or BinTable.load(), local_lists=list_entries(conn)
    )
    report = ReplayReport(ruleset.version, since.isoformat())
    for rec in recorded_since(conn, since_ms):
        ev = rec.event
        if ev.kind in ("sale", "refund") and rec.ctx_json is not None:
            try:
                ctx = RiskContext.from_dict(json.loads(rec.ctx_json))
            except (InvalidInput, ValueError):
                report.damaged += 1
                ctx = None
            if ctx is not None:
                d = engine.decide(ctx)
                report.decisions[d.action] += 1
                report.by_kind[ctx.kind, d.action] += 1
                report.changes[rec.action or "none", d.action] += 1
                report.rule_hits.update(d.rule_ids)
                report.shadow_hits.update(s.rule_id for s in d.shadow_hits)
        state.apply(ev)
    return report
