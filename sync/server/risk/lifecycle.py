"""A rule's way to the terminals: draft, backtest, shadow, publish.

- draft: one [[rule]] table, compiled and type-checked by the terminals' own
  parser (CEL); its id must not be a shipped rule's.
- backtest: evaluated over every stored sale and refund (backtest.py); the
  report (hits and changed decisions, per store) is kept with the draft.
- shadow: published to every terminal in shadow mode (evaluated, logged in
  each decision's shadow_hits, never acted on); needs a backtest.
- publish: published to act; needs the shadow step first.

Shadow and publish send a new signed `risk_rules` configuration version: the
shipped rule set plus every rule in shadow or published state. Every step is
written to `risk_audit` with who did it, in the same transaction as the step.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select, update

from pos import canonical
from pos.clock import Clock, iso
from pos.risk import RuleSetError, parse_ruleset
from pos.risk.rulestore import DEFAULT_RULES
from sync.server import configs
from sync.server import models as m
from sync.server.risk.backtest import run_backtest

STATES = ("draft", "backtested", "shadow", "published")
_NEXT = {"shadow": ("backtested", "shadow"), "publish": ("shadow", "published")}
_RULE_HEADER = re.compile(r"^\s*\[\[rule\]\]\s*$", re.MULTILINE)


class LifecycleError(ValueError):
    """A step refused: the message says why and what to do."""


def _audit(conn: Connection, clock: Clock, actor: str, action: str, rule_id: str,
           detail: dict[str, Any]) -> None:  # fmt: skip
    conn.execute(insert(m.risk_audit).values(
        at=iso(clock.now()), actor=actor or "operator", action=action, rule_id=rule_id,
        detail=canonical.dumps(detail).decode(),
    ))  # fmt: skip


def _shipped_ids() -> set[str]:
    return {r.id for r in parse_ruleset(DEFAULT_RULES.read_text(encoding="utf-8")).rules}


def draft(engine: Engine, clock: Clock, actor: str, text: str) -> dict[str, Any]:
    """Store one rule as a draft, after it compiles exactly as a terminal would."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LifecycleError(f"not valid TOML: {exc}") from None
    raw = doc.get("rule")
    if set(doc) != {"rule"} or not isinstance(raw, list) or len(raw) != 1:
        raise LifecycleError("a draft is one [[rule]] table and nothing else")
    if "shadow" in raw[0]:
        raise LifecycleError("leave out shadow: the lifecycle's shadow step sets it")
    try:
        rule = parse_ruleset(text).rules[0]
    except RuleSetError as exc:
        raise LifecycleError(exc.message) from None
    if rule.id in _shipped_ids():
        raise LifecycleError(f"'{rule.id}' is a shipped rule's id; give the draft its own id")
    t = m.risk_rule_drafts
    with engine.begin() as conn:
        held = conn.execute(select(t.c.state).where(t.c.id == rule.id)).first()
        if held is not None and held.state == "published":
            raise LifecycleError(f"rule '{rule.id}' is published; draft a change under a new id")
        values = {
            "state": "draft",
            "source": text,
            "backtest": None,
            "updated_at": iso(clock.now()),
        }
        if held is None:
            conn.execute(insert(t).values(id=rule.id, **values))
        else:
            conn.execute(update(t).where(t.c.id == rule.id).values(**values))
        _audit(conn, clock, actor, "draft", rule.id, {"when": rule.condition.source,
                                                       "action": rule.action})  # fmt: skip
    return {"rule_id": rule.id, "state": "draft"}


def _held(conn: Connection, rule_id: str) -> Any:
    t = m.risk_rule_drafts
    row = conn.execute(select(t).where(t.c.id == rule_id)).first()
    if row is None:
        raise LifecycleError(f"no drafted rule '{rule_id}'; draft it first (pos-server risk draft)")
    return row


def backtest(engine: Engine, clock: Clock, actor: str, rule_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = _held(conn, rule_id)
    if row.state == "published":
        raise LifecycleError(f"rule '{rule_id}' is already published")
    report = run_backtest(engine, row.source, rule_id).to_dict()
    t = m.risk_rule_drafts
    with engine.begin() as conn:
        state = "backtested" if row.state == "draft" else row.state
        conn.execute(update(t).where(t.c.id == rule_id).values(
            state=state, backtest=canonical.dumps(report).decode(), updated_at=iso(clock.now())))  # fmt: skip
        _audit(conn, clock, actor, "backtest", rule_id, report)
    return {"rule_id": rule_id, "state": state, "backtest": report}


def ruleset_text(conn: Connection, extra: dict[str, str] | None = None) -> str:
    """The shipped rules plus every rule in shadow (marked shadow) or published state."""
    t = m.risk_rule_drafts
    states = {r.id: r.state for r in conn.execute(select(t.c.id, t.c.state))}
    states.update(extra or {})
    parts = [DEFAULT_RULES.read_text(encoding="utf-8").rstrip(), ""]
    for row in conn.execute(select(t.c.id, t.c.source).order_by(t.c.id)):
        state = states.get(row.id)
        if state == "shadow":
            parts.append(_RULE_HEADER.sub("[[rule]]\nshadow = true", row.source, count=1))
        elif state == "published":
            parts.append(row.source)
    return "\n".join(parts) + "\n"


def advance(engine: Engine, clock: Clock, key: Ed25519PrivateKey, actor: str, rule_id: str,
            step: str) -> dict[str, Any]:  # fmt: skip
    """shadow or publish: a new signed rule set for every terminal."""
    need, becomes = _NEXT[step]
    with engine.begin() as conn:
        row = _held(conn, rule_id)
        if row.state not in (need, becomes):
            raise LifecycleError(
                f"rule '{rule_id}' is {row.state}; {step} needs it {need} first"
                + (" (pos-server risk backtest)" if need == "backtested" else "")
            )
        text = ruleset_text(conn, {rule_id: becomes})
    try:
        parse_ruleset(text)  # what the terminals will compile, checked before it leaves
    except RuleSetError as exc:
        raise LifecycleError(exc.message) from None
    version = configs.publish(engine, clock, key, "risk_rules", text.encode())
    with engine.begin() as conn:
        conn.execute(update(m.risk_rule_drafts).where(m.risk_rule_drafts.c.id == rule_id).values(
            state=becomes, config_version=version, updated_at=iso(clock.now())))  # fmt: skip
        _audit(conn, clock, actor, step, rule_id, {"config_version": version})
    return {"rule_id": rule_id, "state": becomes, "config_version": version}


def drafts(engine: Engine) -> list[dict[str, Any]]:
    t = m.risk_rule_drafts
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.id)).mappings()
        return [
            {**dict(r), "backtest": json.loads(r["backtest"]) if r["backtest"] else None}
            for r in rows
        ]


def audit_log(engine: Engine) -> list[dict[str, Any]]:
    t = m.risk_audit
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def describe(out: dict[str, Any]) -> str:
    lines = [f"rule {out['rule_id']}: {out['state']}"]
    if "config_version" in out:
        lines.append(f"sent to the terminals as rule set version {out['config_version']}")
    bt = out.get("backtest")
    if bt:
        lines.append(
            f"backtest over {bt['events']} stored sales and refunds ({bt['milliseconds'] / 1000:.1f} s): "
            f"matched {bt['hits']}, would change {bt['changed']} decisions"
        )
        for move, n in bt["moves"].items():
            lines.append(f"  {move}: {n}")
        for store, c in bt["by_store"].items():
            lines.append(f"  {store}: matched {c.get('hits', 0)}, changed {c.get('changed', 0)}")
        if bt["not_replayed"]:
            lines.append("  read as empty (terminal-only): " + ", ".join(bt["not_replayed"]))
    return "\n".join(lines)
