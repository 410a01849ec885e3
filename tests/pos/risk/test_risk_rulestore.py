from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.errors import NotAllowed
from pos.money import Money
from pos.risk import RiskContext, RiskEngine, RuleSetError, active_ruleset, install_ruleset
from pos.store.db import Database
from pos.store.migrate import Migrations

Ctx = Callable[..., RiskContext]


def rules(limit: str, *, rid: str = "cap") -> str:
    return f"""
[[rule]]
id = "{rid}"
when = "amount > {limit}"
action = "block"
priority = 10
reason_zh = "超过上限"
reason_en = "over the cap"
"""


def test_with_nothing_installed_the_default_rules_are_in_force(db: Database) -> None:
    with db.read() as conn:
        active = active_ruleset(conn)
    assert (active.origin, active.ruleset.version) == ("default", 0)


def test_a_bad_rule_set_is_refused_and_the_installed_one_stays_in_force(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        engine.install(conn, rules("10000"), 1, installed_at="t1", origin="server")
    assert engine.decide(ctx(amount=Money(150_00))).rule_ids == ("cap",)
    with pytest.raises(RuleSetError) as exc, db.transaction() as conn:
        engine.install(conn, rules("lots", rid="broken"), 2, installed_at="t2", origin="server")
    assert exc.value.problems[0][0] == "broken"
    assert "unknown attribute 'lots'" in exc.value.problems[0][1]
    assert engine.ruleset.version == 1
    assert engine.decide(ctx(amount=Money(150_00))).rule_ids == ("cap",)
    with db.read() as conn:
        assert active_ruleset(conn).ruleset.version == 1


def test_an_older_version_is_refused_and_the_same_one_again_is_a_no_op(db: Database) -> None:
    with db.transaction() as conn:
        install_ruleset(conn, rules("10000"), 3, installed_at="t")
        install_ruleset(conn, rules("10000"), 3, installed_at="t")
        with pytest.raises(NotAllowed, match="not newer"):
            install_ruleset(conn, rules("20000"), 3, installed_at="t")
        with pytest.raises(NotAllowed, match="not newer"):
            install_ruleset(conn, rules("20000"), 2, installed_at="t")
        with pytest.raises(RuleSetError, match="version 0"):
            install_ruleset(conn, rules("20000"), 0, installed_at="t")
        count = conn.execute("SELECT count(*) FROM risk_rulesets").fetchone()[0]
    assert count == 1


def test_the_last_good_set_is_used_when_a_newer_stored_one_no_longer_compiles(
    db: Database,
) -> None:
    with db.transaction() as conn:
        install_ruleset(conn, rules("10000"), 1, installed_at="t")
        # As if an older program had stored a rule that this one cannot compile.
        conn.execute(
            "INSERT INTO risk_rulesets (version, digest, source, origin, installed_at) "
            "VALUES (2, 'x', ?, 'server', 't')",
            (rules("retired.attribute", rid="old"),),
        )
    with db.read() as conn:
        active = active_ruleset(conn)
    assert active.ruleset.version == 1
    assert active.skipped[0][0] == 2
    assert "rule 'old'" in active.skipped[0][1]


def test_a_database_of_the_previous_version_gains_the_risk_tables(tmp_path: Path) -> None:
    key = os.urandom(32)
    path = tmp_path / "old.db"
    Database.create(path, key, migrations=Migrations.bundled().up_to(3)).close()
    db = Database.open(path, key)
    try:
        assert db.schema_version >= 4
        with db.read() as conn:
            engine = RiskEngine.open(conn, now=datetime.now(UTC))
            tables = {
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'risk_%'")
            }
        assert {"risk_events", "risk_rulesets", "risk_list_entries"} <= tables
        assert engine.ruleset.version == 0
    finally:
        db.close()


def test_a_running_engine_picks_up_a_rule_set_installed_by_the_sync_client(
    db: Database, engine: RiskEngine, ctx: Ctx
) -> None:
    with db.transaction() as conn:
        install_ruleset(conn, rules("1000"), 4, installed_at="t", origin="server")
        conn.execute(
            "INSERT INTO risk_list_entries (list, subject, value, added_at) "
            "VALUES ('block', 'card', 'tok-a', 't')"
        )
    assert engine.decide(ctx(amount=Money(20_00))).action == "allow"
    with db.read() as conn:
        assert engine.refresh(conn).version == 4
    assert engine.decide(ctx(amount=Money(20_00))).rule_ids == ("cap",)
    assert engine.lists.has("block", "card", "tok-a")
