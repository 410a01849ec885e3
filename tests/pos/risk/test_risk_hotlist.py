"""The chain's hot list on the terminal: stored from the server's document,
read offline with its expiry, picked up by a running engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from pos.errors import InvalidInput
from pos.risk import RiskContext, RiskEngine
from pos.risk.hotlist import store_hotlist
from pos.store.db import Database

Ctx = Callable[..., RiskContext]


def hot(t0_ms: int, **over: object) -> str:
    entry = {"subject": "card", "value": "tok-hot", "rule": "impossible-travel",
             "expires_ms": t0_ms + 3_600_000, **over}  # fmt: skip
    return json.dumps({"entries": [entry]})


def test_a_hot_card_is_blocked_until_its_entry_expires_also_offline(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    t0 = ctx().at
    with db.transaction() as conn:
        store_hotlist(conn, hot(ctx().at_ms()), 7, "now")
        engine.refresh(conn)
    d = engine.decide(ctx(card_token="tok-hot", online=False))
    assert d.action == "block" and d.rule_ids == ("chain-hot-card",)
    assert d.reasons[0].code == "risk.reason.chain_hot_card"
    assert "impossible-travel" in d.reasons[0].zh and "impossible-travel" in d.reasons[0].en
    assert engine.decide(ctx(card_token="tok-cold")).action == "allow"
    later = engine.decide(ctx(card_token="tok-hot", at=t0 + timedelta(hours=2)))
    assert later.action == "allow"


def test_a_running_engine_picks_up_a_new_hot_list_with_the_next_recorded_sale(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:  # the sync client, in its own transaction
        store_hotlist(conn, hot(ctx().at_ms()), 3, "now")
    assert engine.decide(ctx(card_token="tok-hot")).action == "allow"  # not read yet
    with db.transaction() as conn:
        engine.record(conn, ctx(card_token="tok-other"), "approved")
    assert engine.decide(ctx(card_token="tok-hot")).action == "block"


def test_a_hot_cashier_needs_a_manager_for_refunds(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    from pos.risk import RefundFacts

    with db.transaction() as conn:
        store_hotlist(conn, hot(ctx().at_ms(), subject="cashier", value="c1",
                                rule="cashier-refunds-no-receipt"), 4, "now")  # fmt: skip
        engine.refresh(conn)
    refund = ctx(kind="refund", refund=RefundFacts(has_receipt=True), card_token="")
    d = engine.decide(refund)
    assert d.action == "review" and "chain-hot-cashier" in d.rule_ids


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"entries": [{"subject": "shoe", "value": "x", "rule": "r", "expires_ms": 1}]}',
     '{"entries": [{"subject": "card", "value": "", "rule": "r", "expires_ms": 1}]}',
     '{"entries": [{"subject": "card", "value": "x", "rule": "r", "expires_ms": "soon"}]}'],
)  # fmt: skip
def test_a_malformed_hot_list_is_refused_and_the_one_in_force_stays(
    db: Database, engine: RiskEngine, ctx: Ctx, body: str
) -> None:
    with db.transaction() as conn:
        store_hotlist(conn, hot(ctx().at_ms()), 1, "now")
    with pytest.raises(InvalidInput) as exc, db.transaction() as conn:
        store_hotlist(conn, body, 2, "later")
    assert exc.value.code == "risk.hotlist_bad"
    with db.transaction() as conn:
        engine.refresh(conn)
    assert engine.decide(ctx(card_token="tok-hot")).action == "block"
