from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pos.risk import RiskContext, RiskEngine, parse_ruleset
from pos.risk.replay import replay
from pos.store.db import Database

Ctx = Callable[..., RiskContext]

VELOCITY_RULES = """
[[rule]]
id = "second-use"
when = "velocity.card.count_1h >= 1"
action = "review"
step_up = "manager_pin"
priority = 10
reason_zh = "重复"
reason_en = "card seen within the hour"
"""


def test_replay_rebuilds_velocity_from_the_state_before_the_start(
    db: Database, engine: RiskEngine, ctx: Ctx, t0: datetime
) -> None:
    with db.transaction() as conn:
        # One sale before the replay starts, then three after it.
        for minutes in (-30, 0, 5, 120):
            c = ctx(at=t0 + timedelta(minutes=minutes))
            engine.record(conn, c, "approved", engine.decide(c))
    candidate = parse_ruleset(VELOCITY_RULES, version=9)
    with db.read() as conn:
        report = replay(conn, candidate, t0)
    # 10:00 sees the 09:30 sale, 10:05 sees two, 12:00 sees none within the hour.
    assert (report.total, report.decisions["review"], report.decisions["allow"]) == (3, 2, 1)
    assert report.changes == {("allow", "review"): 2, ("allow", "allow"): 1}
    assert report.rule_hits == {"second-use": 2}
    assert "reviewed 2" in report.summary()


def test_a_damaged_record_is_counted_not_a_crash(
    db: Database, engine: RiskEngine, ctx: Ctx, t0: datetime
) -> None:
    with db.transaction() as conn:
        engine.record(conn, ctx(), "approved")
        engine.record(conn, ctx(at=t0 + timedelta(minutes=1)), "approved")
        conn.execute('UPDATE risk_events SET ctx = \'{"amount_minor": "x"}\' WHERE id = 1')
    with db.read() as conn:
        report = replay(conn, parse_ruleset(VELOCITY_RULES), t0 - timedelta(hours=1))
    assert (report.damaged, report.total) == (1, 1)
    assert report.to_dict()["damaged"] == 1
