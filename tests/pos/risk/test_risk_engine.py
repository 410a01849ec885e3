from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from pos import canonical
from pos.money import Money
from pos.risk import (
    BasketFacts,
    RefundFacts,
    RiskContext,
    RiskEngine,
    parse_ruleset,
)
from pos.risk.bins import BinTable
from pos.risk.state import RiskState
from pos.store.db import Database

Ctx = Callable[..., RiskContext]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=8)))  # as in conftest


def engine_with(text: str) -> RiskEngine:
    return RiskEngine(parse_ruleset(text), RiskState("CNY"), bins=BinTable.load())


def test_an_ordinary_sale_is_allowed_with_no_reasons(engine: RiskEngine, ctx: Ctx) -> None:
    d = engine.decide(ctx())
    assert d.action == "allow"
    assert d.reasons == ()
    assert d.step_up is None


def test_a_large_offline_card_sale_is_sent_online_with_reasons_in_both_languages(
    engine: RiskEngine, ctx: Ctx
) -> None:
    d = engine.decide(ctx(amount=Money(1500_00), online=False))
    assert d.action == "review"
    assert d.step_up == "online_only"
    assert d.rule_ids == ("offline-card-cap",)
    assert "1000.00" in d.reasons[0].en
    assert "离线" in d.reasons[0].zh


def test_a_kiosk_sale_over_the_kiosk_limit_is_blocked(engine: RiskEngine, ctx: Ctx) -> None:
    d = engine.decide(ctx(mode="kiosk", amount=Money(2500_00)))
    assert d.action == "block"
    assert "kiosk-amount-cap" in d.rule_ids
    assert d.explain("en")[0].startswith("[kiosk-amount-cap]")


def test_restricted_items_at_the_kiosk_ask_for_an_id_check(engine: RiskEngine, ctx: Ctx) -> None:
    d = engine.decide(ctx(mode="kiosk", basket=BasketFacts(items=2, high_risk=1)))
    assert (d.action, d.step_ups) == ("review", ("check_id",))


def test_a_refund_without_receipt_needs_a_manager_and_a_large_one_is_blocked(
    engine: RiskEngine, ctx: Ctx
) -> None:
    small = engine.decide(ctx(kind="refund", amount=Money(80_00), refund=RefundFacts(False)))
    assert (small.action, small.step_up, small.rule_ids) == (
        "review", "manager_pin", ("refund-no-receipt",)
    )  # fmt: skip
    large = engine.decide(ctx(kind="refund", amount=Money(800_00), refund=RefundFacts(False)))
    assert large.action == "block"
    assert large.rule_ids == ("refund-no-receipt-large",)
    with_receipt = engine.decide(
        ctx(kind="refund", amount=Money(800_00), refund=RefundFacts(True, True, timedelta(days=2)))
    )
    assert with_receipt.action == "allow"


def test_card_velocity_sends_the_third_quick_payment_to_review_and_names_the_count(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    for minute in range(3):
        with db.transaction() as conn:
            engine.record(conn, ctx(at=T0 + timedelta(minutes=minute)), "approved")
    d = engine.decide(ctx(at=T0 + timedelta(minutes=4)))
    assert d.action == "review"
    assert d.rule_ids == ("card-velocity-10m",)
    assert "3 times in 10 minutes" in d.reasons[0].en
    assert d.features["velocity.card.count_10m"] == 3
    later = engine.decide(ctx(at=T0 + timedelta(minutes=15)))
    assert later.action == "allow"
    other_card = engine.decide(ctx(at=T0 + timedelta(minutes=4), card_token="tok-b"))
    assert other_card.action == "allow"


def test_repeated_declines_block_the_card(db: Database, engine: RiskEngine, ctx: Ctx) -> None:
    with db.transaction() as conn:
        for second in (0, 20, 40):
            engine.record(conn, ctx(at=T0 + timedelta(seconds=second)), "declined")
    d = engine.decide(ctx(at=T0 + timedelta(minutes=1)))
    assert d.action == "block"
    assert d.rule_ids == ("card-testing",)


def test_velocity_survives_a_restart(db: Database, engine: RiskEngine, ctx: Ctx) -> None:
    with db.transaction() as conn:
        for minute in range(3):
            engine.record(conn, ctx(at=T0 + timedelta(minutes=minute)), "approved")
    db.close()
    reopened = Database.open(db.path, db._key)
    try:
        with reopened.read() as conn:
            fresh = RiskEngine.open(conn, now=T0 + timedelta(minutes=5))
        d = fresh.decide(ctx(at=T0 + timedelta(minutes=5)))
        assert d.action == "review"
        assert d.features["velocity.card.count_10m"] == 3
        f = fresh.features(ctx(at=T0 + timedelta(minutes=5)))
        assert f["velocity.terminal.sum_24h"] == 300_00
    finally:
        reopened.close()


def test_a_blocked_bin_blocks_even_an_allowed_card(ctx: Ctx) -> None:
    e = engine_with(
        """
        [lists]
        block_bins = ["622202"]
        allow_cards = ["tok-a"]
        [[rule]]
        id = "blocked"
        when = "card.bin_blocked"
        action = "block"
        priority = 1
        reason_zh = "黑名单"
        reason_en = "blocked bin"
        [[rule]]
        id = "trusted"
        when = "card.allowed"
        action = "allow"
        priority = 1000
        reason_zh = "白名单"
        reason_en = "trusted"
        """
    )
    assert e.decide(ctx()).action == "block"
    assert e.decide(ctx(card_bin="62170012")).action == "allow"


ORDER_RULES = """
[[rule]]
id = "review-high"
when = "amount > 10000"
action = "review"
step_up = "check_id"
priority = {review_priority}
reason_zh = "审"
reason_en = "review"
[[rule]]
id = "review-low"
when = "amount > 5000"
action = "review"
step_up = "manager_pin"
priority = 10
reason_zh = "审"
reason_en = "review low"
[[rule]]
id = "trusted"
when = "card.token == \\"tok-a\\""
action = "allow"
priority = 50
reason_zh = "信任"
reason_en = "trusted"
"""


def test_an_allow_rule_beats_only_review_rules_of_lower_priority(ctx: Ctx) -> None:
    e = engine_with(ORDER_RULES.format(review_priority=40))
    d = e.decide(ctx(amount=Money(200_00)))
    assert d.action == "allow"
    assert d.rule_ids == ("trusted",)
    assert d.overridden == ("review-high", "review-low")
    e = engine_with(ORDER_RULES.format(review_priority=60))
    d = e.decide(ctx(amount=Money(200_00)))
    assert d.action == "review"
    # Every matching review rule is named and every step-up is asked for.
    assert d.rule_ids == ("review-high", "review-low")
    assert d.step_ups == ("check_id", "manager_pin")


def test_a_tie_between_allow_and_review_goes_to_review(ctx: Ctx) -> None:
    e = engine_with(ORDER_RULES.format(review_priority=50))
    assert e.decide(ctx(amount=Money(200_00))).action == "review"


def test_shadow_rules_are_reported_but_never_acted_on(engine: RiskEngine, ctx: Ctx) -> None:
    night = T0.replace(hour=2)
    d = engine.decide(ctx(amount=Money(4000_00), at=night))
    assert d.action == "allow"
    assert [s.rule_id for s in d.shadow_hits] == ["night-large-sale"]
    assert d.to_dict()["shadow_hits"][0]["action"] == "review"


def test_a_rule_that_fails_at_run_time_sends_the_sale_to_a_manager(ctx: Ctx) -> None:
    e2 = engine_with(
        """
        [[rule]]
        id = "cmp"
        when = "amount + 1 > 1"
        action = "block"
        priority = 1
        reason_zh = "x"
        reason_en = "x"
        """
    )
    original = e2._features

    # A value of the wrong type stands for any fault inside a condition.

    def bad_features(c: RiskContext, plan: object) -> tuple[dict[str, object], int]:
        f, s = original(c, plan)  # type: ignore[arg-type]
        f["amount"] = "not a number"
        return f, s

    e2._features = bad_features  # type: ignore[method-assign]
    d = e2.decide(ctx())
    assert d.action == "review"
    assert d.step_up == "manager_pin"
    assert (d.reasons[0].rule_id, d.reasons[0].code) == ("cmp", "risk.rule_failed")
    assert "cmp" in d.reasons[0].en and "cmp" in d.reasons[0].zh


def test_a_foreign_card_offline_needs_online_authorisation(engine: RiskEngine, ctx: Ctx) -> None:
    d = engine.decide(ctx(card_bin="414720", online=False, amount=Money(300_00)))
    assert d.action == "review"
    assert d.rule_ids == ("offline-foreign-card",)
    assert "(US)" in d.reasons[0].en
    assert engine.decide(ctx(online=False, amount=Money(300_00))).action == "allow"


def test_cashier_no_sale_opens_this_shift_reach_a_review(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        for minute in range(5):
            engine.record_cashier_action(
                conn, action="no_sale", cashier_id="c1", terminal_id="T1",
                at=T0 + timedelta(minutes=minute),
            )  # fmt: skip
    d = engine.decide(ctx(at=T0 + timedelta(minutes=10)))
    assert d.action == "review"
    assert d.rule_ids == ("cashier-no-sales",)
    assert engine.decide(ctx(at=T0 + timedelta(minutes=10), cashier_id="c2")).action == "allow"
    next_shift = ctx(at=T0 + timedelta(hours=5), shift_start=T0 + timedelta(hours=4))
    assert engine.decide(next_shift).action == "allow"


def test_refunds_without_receipt_this_shift_block_the_next_one(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        for minute in range(3):
            refund = ctx(
                kind="refund", amount=Money(20_00), refund=RefundFacts(False),
                at=T0 + timedelta(minutes=minute),
            )  # fmt: skip
            engine.record(conn, refund, "approved")
    d = engine.decide(
        ctx(kind="refund", amount=Money(20_00), refund=RefundFacts(False),
            at=T0 + timedelta(minutes=30))
    )  # fmt: skip
    assert d.action == "block"
    assert d.rule_ids == ("cashier-refunds-no-receipt",)


def test_an_amount_far_above_this_hours_history_is_reviewed(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        for week in range(1, 31):
            amount = Money(40_00 + (week % 7) * 5_00)
            engine.record(conn, ctx(at=T0 - timedelta(weeks=week), amount=amount, card_token=""),
                          "approved")  # fmt: skip
    usual = engine.decide(ctx(amount=Money(50_00)))
    assert usual.action == "allow"
    assert usual.score == 0
    odd = engine.decide(ctx(amount=Money(900_00)))
    assert odd.action == "review"
    assert odd.rule_ids == ("amount-anomaly",)
    assert odd.score == 100
    # Another hour of the week has no history, so nothing to judge by.
    assert engine.decide(ctx(amount=Money(900_00), at=T0 + timedelta(hours=3))).action == "allow"


def test_the_decision_payload_is_canonical_json(engine: RiskEngine, ctx: Ctx) -> None:
    d = engine.decide(ctx(mode="kiosk", amount=Money(2500_00), online=False))
    payload = d.to_dict()
    assert canonical.loads(canonical.dumps(payload)) == payload
    assert payload["action"] == "block"
    assert payload["reasons"][0]["zh"]


def test_an_unknown_outcome_is_refused(db: Database, engine: RiskEngine, ctx: Ctx) -> None:
    from pos.errors import InvalidInput

    with db.transaction() as conn, pytest.raises(InvalidInput):
        engine.record(conn, ctx(), "maybe")


def test_an_allow_listed_card_skips_velocity_review_but_not_the_offline_cap(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        engine.add_list_entry(conn, "allow", "card", "tok-a", note="staff", by="m1", at="t")
        for minute in range(3):
            engine.record(conn, ctx(at=T0 + timedelta(minutes=minute)), "approved")
    d = engine.decide(ctx(at=T0 + timedelta(minutes=4)))
    assert (d.action, d.rule_ids, d.overridden) == (
        "allow", ("list-card-allowed",), ("card-velocity-10m",)
    )  # fmt: skip
    offline = engine.decide(ctx(at=T0 + timedelta(minutes=4), online=False, amount=Money(1500_00)))
    assert offline.action == "review"
    with db.read() as conn:
        reopened = RiskEngine.open(conn, now=T0 + timedelta(minutes=4))
    assert reopened.decide(ctx(at=T0 + timedelta(minutes=4))).action == "allow"
    with db.transaction() as conn:
        assert reopened.remove_list_entry(conn, "allow", "card", "tok-a")
    assert reopened.decide(ctx(at=T0 + timedelta(minutes=4))).action == "review"


def test_decisions_and_records_from_several_threads_lose_nothing(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    import threading

    def till(n: int) -> None:
        for i in range(40):
            c = ctx(at=T0 + timedelta(seconds=i), card_token=f"tok-{n}")
            d = engine.decide(c)
            with db.transaction() as conn:
                engine.record(conn, c, "approved", d)

    threads = [threading.Thread(target=till, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    f = engine.features(ctx(at=T0 + timedelta(minutes=1)))
    assert f["velocity.terminal.count_10m"] == 160
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM risk_events").fetchone()[0] == 160
        fresh = RiskEngine.open(conn, now=T0 + timedelta(minutes=1))
    assert fresh.features(ctx(at=T0 + timedelta(minutes=1)))["velocity.terminal.count_10m"] == 160


def test_a_bad_list_entry_is_refused(db: Database, engine: RiskEngine) -> None:
    from pos.errors import InvalidInput

    with db.transaction() as conn, pytest.raises(InvalidInput, match="BIN"):
        engine.add_list_entry(conn, "block", "bin", "12ab", note="", by="", at="t")
    with db.transaction() as conn, pytest.raises(InvalidInput, match="no list"):
        engine.add_list_entry(conn, "grey", "card", "x", note="", by="", at="t")
