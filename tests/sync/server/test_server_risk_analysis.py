"""Chain-wide analysis over journal entries as they are stored: alerts and a
hot list, kept in the server database, each found once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from pos.clock import FakeClock
from sync.server import db, keys
from sync.server import models as m
from sync.server.risk import RiskHook
from sync.server.risk.analysis import Thresholds, distance_km

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SHANGHAI, BEIJING, PUDONG = (31.2304, 121.4737), (39.9042, 116.4074), (31.2214, 121.5447)


@dataclass
class Entry:
    seq: int
    type: str
    time: str
    payload: str


class Till:
    """A terminal's journal as the server sees it: numbered entries."""

    def __init__(self, terminal_id: str, store_id: str) -> None:
        self.terminal_id, self.store_id, self.seq = terminal_id, store_id, 0

    def entry(self, at: datetime, etype: str = "risk.decision", **payload: object) -> Entry:
        self.seq += 1
        return Entry(self.seq, etype, at.isoformat(), json.dumps(payload))

    def sale(self, at: datetime, *, card: str = "", account: str = "", amount: int = 100_00,
             outcome: str = "approved", cashier: str = "c1") -> Entry:  # fmt: skip
        return self.entry(at, kind="sale", outcome=outcome, amount_minor=amount, currency="CNY",
                          channel="card" if card else "alipay", card_token=card, account=account,
                          cashier_id=cashier, action="allow", refund_no_receipt=False,
                          context={})  # fmt: skip

    def refund(self, at: datetime, *, cashier: str, no_receipt: bool = True) -> Entry:
        return self.entry(at, kind="refund", outcome="approved", amount_minor=50_00,
                          currency="CNY", channel="cash", card_token="", account="",
                          cashier_id=cashier, action="review", refund_no_receipt=no_receipt,
                          context={})  # fmt: skip


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = db.make_engine(db_url)
    db.upgrade(e)
    with e.begin() as conn:
        for store, (lat, lon), city in (("S001", SHANGHAI, "上海"), ("S002", BEIJING, "北京"),
                                        ("S003", PUDONG, "上海")):  # fmt: skip
            conn.execute(insert(m.store_places).values(store_id=store, lat=lat, lon=lon,
                                                       city=city, tz="Asia/Shanghai"))  # fmt: skip
    yield e
    e.dispose()


@pytest.fixture
def hook(engine: Engine, tmp_path: Path) -> RiskHook:
    return RiskHook(engine, FakeClock(T0), keys.load_or_create(tmp_path / "key.pem"))


def upload(hook: RiskHook, till: Till, *entries: Entry) -> list[str]:
    """What the journal upload does after storing a batch: the new alerts' rules."""
    with hook.engine.begin() as conn:  # the entries are stored first, as by ingest
        for e in entries:
            conn.execute(insert(m.entries).values(
                terminal_id=till.terminal_id, seq=e.seq, time=e.time, type=e.type,
                payload=e.payload, prev_hash="0" * 64, hash="0" * 64, signature="", received_at=""))  # fmt: skip
    out = hook.after_upload(till.terminal_id, till.store_id, list(entries))
    with hook.engine.connect() as conn:
        rules = {r.id: r.rule for r in conn.execute(select(m.risk_alerts))}
    return [rules[i] for i in out.alerts]


def hotlist(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {(r.subject, r.value): r.rule for r in conn.execute(select(m.risk_hotlist))}


def published_hotlists(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.config_versions.c.body).where(m.config_versions.c.kind == "risk_hotlist")
        ).all()
    return [json.loads(bytes(r.body)) for r in rows]


def test_shanghai_to_beijing_is_about_1070_km() -> None:
    assert 1050 < distance_km(SHANGHAI, BEIJING) < 1090
    assert distance_km(SHANGHAI, PUDONG) < 10


def test_one_card_in_shanghai_then_beijing_half_an_hour_later_is_impossible_travel(
    hook: RiskHook, engine: Engine
) -> None:
    sh, bj = Till("T-SH", "S001"), Till("T-BJ", "S002")
    assert upload(hook, sh, sh.sale(T0, card="tok-1")) == []
    assert upload(hook, bj, bj.sale(T0 + timedelta(minutes=30), card="tok-1")) == [
        "impossible-travel"
    ]
    assert hotlist(engine) == {("card", "tok-1"): "impossible-travel"}
    [doc] = published_hotlists(engine)
    [entry] = doc["entries"]
    assert entry["value"] == "tok-1" and entry["expires_ms"] > T0.timestamp() * 1000
    with engine.connect() as conn:
        alert = conn.execute(select(m.risk_alerts)).one()
    assert (alert.store_id, alert.terminal_id, alert.seq) == ("S002", "T-BJ", 1)
    assert json.loads(alert.detail)["from_store"] == "S001"


def test_the_same_card_across_one_city_or_a_day_apart_is_no_alert(hook: RiskHook) -> None:
    sh, pd, bj = Till("T-SH", "S001"), Till("T-PD", "S003"), Till("T-BJ", "S002")
    upload(hook, sh, sh.sale(T0, card="tok-2"))
    assert upload(hook, pd, pd.sale(T0 + timedelta(minutes=10), card="tok-2")) == []
    assert upload(hook, bj, bj.sale(T0 + timedelta(hours=5), card="tok-2")) == []


def test_a_wallet_buyer_id_is_followed_across_stores_too(hook: RiskHook, engine: Engine) -> None:
    sh, bj = Till("T-SH", "S001"), Till("T-BJ", "S002")
    upload(hook, sh, sh.sale(T0, account="2088-buyer"))
    assert upload(hook, bj, bj.sale(T0 + timedelta(minutes=20), account="2088-buyer")) == [
        "impossible-travel"
    ]
    assert hotlist(engine) == {("account", "2088-buyer"): "impossible-travel"}


def test_card_velocity_across_stores_is_found_once_per_window(
    hook: RiskHook, engine: Engine
) -> None:
    a, b = Till("T-A", "S001"), Till("T-B", "S003")
    found = []
    for i in range(7):
        till = a if i % 2 else b
        found += upload(hook, till, till.sale(T0 + timedelta(minutes=i), card="tok-v"))
    assert found == ["card-velocity"]  # the 5th sale in 10 minutes; later ones, same window
    assert hotlist(engine)[("card", "tok-v")] == "card-velocity"


def test_declined_attempts_do_not_count_as_sales(hook: RiskHook) -> None:
    a = Till("T-A", "S001")
    entries = [
        a.sale(T0 + timedelta(minutes=i), card="tok-d", outcome="declined") for i in range(8)
    ]
    assert upload(hook, a, *entries) == []


def test_a_cashier_refunding_without_receipts_across_stores_is_hot_listed(
    hook: RiskHook, engine: Engine
) -> None:
    a, b = Till("T-A", "S001"), Till("T-B", "S002")
    found = []
    for i in range(5):
        till = a if i < 3 else b
        found += upload(hook, till, till.refund(T0 + timedelta(hours=i), cashier="c9"))
    assert found == ["cashier-refunds-no-receipt"]
    assert hotlist(engine) == {("cashier", "c9"): "cashier-refunds-no-receipt"}


def test_voids_pile_up_per_cashier(hook: RiskHook) -> None:
    a = Till("T-A", "S001")
    voids = [a.entry(T0 + timedelta(minutes=i), "order.voided", cashier_id="c4",
                     tenders=[{"amount_minor": 10_00}]) for i in range(10)]  # fmt: skip
    assert upload(hook, a, *voids) == ["cashier-voids"]


def test_an_hour_far_above_the_same_hour_in_earlier_weeks_is_a_store_anomaly(
    hook: RiskHook,
) -> None:
    a = Till("T-A", "S001")
    for week in range(6, 0, -1):
        at = T0 - timedelta(weeks=week)
        upload(hook, a, *[a.sale(at + timedelta(minutes=k), amount=100_00 + 7 * week)
                          for k in range(3)])  # fmt: skip
    found = upload(hook, a, *[a.sale(T0 + timedelta(minutes=k), amount=2_000_00) for k in range(3)])
    assert found == ["store-anomaly"]


def test_entries_missed_by_a_crash_are_analysed_with_the_next_upload_exactly_once(
    hook: RiskHook, engine: Engine
) -> None:
    sh, bj = Till("T-SH", "S001"), Till("T-BJ", "S002")
    upload(hook, sh, sh.sale(T0, card="tok-c"))
    lost = bj.sale(T0 + timedelta(minutes=15), card="tok-c")
    with engine.begin() as conn:  # stored, but the process died before the analysis
        conn.execute(insert(m.entries).values(terminal_id="T-BJ", seq=lost.seq, time=lost.time,
            type=lost.type, payload=lost.payload, prev_hash="0" * 64, hash="0" * 64,
            signature="", received_at=""))  # fmt: skip
    assert upload(hook, bj, bj.sale(T0 + timedelta(minutes=16))) == ["impossible-travel"]
    # The same batch delivered again (a retried upload) adds nothing.
    assert hook.after_upload("T-BJ", "S002", [lost]).analysed == 0
    with engine.connect() as conn:
        assert len(conn.execute(select(m.risk_events)).all()) == 3


def test_thresholds_are_the_analysis_own_settings(engine: Engine, tmp_path: Path) -> None:
    strict = RiskHook(engine, FakeClock(T0), keys.load_or_create(tmp_path / "k.pem"),
                      Thresholds(card_sales_10m=2))  # fmt: skip
    a = Till("T-A", "S001")
    upload(strict, a, a.sale(T0, card="tok-s"))
    assert upload(strict, a, a.sale(T0 + timedelta(minutes=1), card="tok-s")) == ["card-velocity"]


def test_a_second_hot_list_change_within_a_second_is_published_a_second_later_with_both(
    engine: Engine, tmp_path: Path
) -> None:
    import time

    from pos.clock import SystemClock

    hook = RiskHook(engine, SystemClock(), keys.load_or_create(tmp_path / "k.pem"))
    sh, bj = Till("T-SH", "S001"), Till("T-BJ", "S002")
    for token in ("tok-x", "tok-y"):
        upload(hook, sh, sh.sale(T0, card=token))
        upload(hook, bj, bj.sale(T0 + timedelta(minutes=20), card=token))
    assert len(published_hotlists(engine)) == 1  # the first at once, the second waits
    deadline = time.monotonic() + 10
    while len(published_hotlists(engine)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    last = published_hotlists(engine)[-1]
    assert sorted(e["value"] for e in last["entries"]) == ["tok-x", "tok-y"]
