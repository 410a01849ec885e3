"""Offline risk control: allow, review (step-up) or block, with reasons.

Blocking and Qt-free; works with no network. How the checkout uses it:

    engine = RiskEngine.open(conn, now=clock.now())      # once, at start
    ctx = RiskContext(amount=Money(12_50), channel="card", mode="cashier",
                      online=False, at=clock.now().astimezone(store_tz),
                      terminal_id=..., cashier_id=..., card_token=...,
                      card_bin="622202", basket=BasketFacts(items=3, ...))
    decision = engine.decide(ctx)   # ~tens of microseconds, no I/O
    # allow -> pay; review -> satisfy every decision.step_ups
    #   (manager_pin | check_id | online_only) then pay; block -> refuse,
    #   showing decision.explain("zh") / ("en").
    with db.transaction() as conn:          # the sale's own transaction
        ...order, payment...
        engine.record(conn, ctx, "approved", decision)
        journal.append(conn, "risk.decision", journal_payload(decision, ctx, "approved"))

`record` is also called for declined / blocked / cancelled attempts (they
feed the declines_* velocity) and for refunds (ctx.kind == "refund");
voids and no-sale drawer opens go to `record_cashier_action`. Velocity and
history live in the store (risk_events) and are rebuilt at open, so they
survive restarts.

Evaluation order
----------------
Every rule is evaluated on every decision (all-matches, so a decision names
every reason). Rules are ordered by priority (higher first, then id).

1. Shadow rules are evaluated and reported in `shadow_hits`, never acted on.
2. If any block rule matches, the decision is block; its reasons are the
   matching block rules. Block beats everything, allow lists included.
3. Otherwise an allow rule wins only if its priority is strictly higher than
   every matching review rule's (ties go to review); the review rules it
   beat are listed in `overridden`. Allow rules are exceptions such as a
   card on the allow list.
4. Otherwise any matching review rule makes the decision review; `step_ups`
   lists the distinct step-ups of all matching review rules, highest
   priority first, and all must be satisfied.
5. No rule matched: allow, with no reasons.

A rule that raises while being evaluated (it should not: conditions are
type-checked when compiled) turns an allow into a review by manager PIN
naming that rule, never into a silent allow.
"""

from __future__ import annotations

from pos.risk.context import BasketFacts, RefundFacts, RiskContext
from pos.risk.decision import (
    ALLOW,
    BLOCK,
    REVIEW,
    Decision,
    Reason,
    ShadowHit,
    journal_payload,
)
from pos.risk.engine import RiskEngine
from pos.risk.rules import Rule, RuleSet, RuleSetError, parse_ruleset
from pos.risk.rulestore import active_ruleset, default_ruleset, install_ruleset

__all__ = [
    "ALLOW",
    "BLOCK",
    "REVIEW",
    "BasketFacts",
    "Decision",
    "Reason",
    "RefundFacts",
    "RiskContext",
    "RiskEngine",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "ShadowHit",
    "active_ruleset",
    "default_ruleset",
    "install_ruleset",
    "journal_payload",
    "parse_ruleset",
]
