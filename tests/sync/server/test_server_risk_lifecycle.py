"""A rule's way from a draft on the server to the terminals, over the admin
API on real HTTP: backtest over the stored history, shadow (evaluated and
logged on the terminal, never acted on), publish (acts); every step audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from pos.money import Money
from pos.risk import BasketFacts, RiskContext, RiskEngine, journal_payload
from pos.services.terminal_services import TerminalServices
from sync.apply import default_handlers
from sync.client import SyncClient, enroll

ADMIN = {"Authorization": "Bearer admin-secret", "X-Pos-Actor": "risk-lead"}
DRAFT = """
[[rule]]
id = "big-card"
when = 'channel == "card" && amount > 5000 && !card.allowed'
action = "block"
priority = 880
reason_zh = "大额银行卡交易（{amount}）暂停受理"
reason_en = "Large card payments ({amount}) are paused"
"""


def ctx(shop: TerminalServices, amount: int, at: datetime) -> RiskContext:
    return RiskContext(amount=Money(amount), channel="card", mode="cashier", online=True, at=at,
                       terminal_id=shop.terminal.terminal_id, store_id="S001", cashier_id="c1",
                       card_token=f"tok-{amount}", basket=BasketFacts(items=1, lines=1))  # fmt: skip


def decide(shop: TerminalServices, amount: int, record: bool = False) -> Any:
    at = datetime.now().astimezone()
    with shop.terminal.db.transaction() as conn:
        engine = RiskEngine.open(conn, now=at)
        c = ctx(shop, amount, at)
        d = engine.decide(c)
        if record:
            engine.record(conn, c, "approved", d)
            shop.terminal.journal.append(conn, "risk.decision", journal_payload(d, c, "approved"))
    return d


@pytest.fixture
def synced(shop: TerminalServices, server: Any) -> Iterator[SyncClient]:
    enroll(shop.terminal, server.url, server.code())
    client = SyncClient.for_terminal(shop.terminal, default_handlers())
    yield client
    client.close()


def test_a_rule_is_drafted_backtested_shadowed_and_published_with_every_step_audited(
    shop: TerminalServices, server: Any, synced: SyncClient
) -> None:
    for amount in (20_00, 80_00, 120_00, 30_00):  # history: two sales over 50.00
        decide(shop, amount, record=True)
    synced.sync_once()
    http = httpx.Client(base_url=server.url, headers=ADMIN, timeout=30)

    assert http.post("/v1/risk/rules", content=DRAFT.encode()).json() == {
        "rule_id": "big-card", "state": "draft"}  # fmt: skip
    early = http.post("/v1/risk/rules/big-card/shadow")
    assert early.status_code == 409 and "backtest" in early.json()["detail"]

    bt = http.post("/v1/risk/rules/big-card/backtest").json()["backtest"]
    assert (bt["events"], bt["hits"], bt["changed"]) == (4, 2, 2)
    assert bt["by_store"] == {"S001": {"hits": 2, "changed": 2}}
    assert bt["moves"] == {"allow->block": 2} and bt["not_replayed"] == ["card.allowed"]

    shadow = http.post("/v1/risk/rules/big-card/shadow").json()
    assert shadow["state"] == "shadow"
    synced.sync_once()
    d = decide(shop, 90_00)
    assert d.action == "allow" and [s.rule_id for s in d.shadow_hits] == ["big-card"]

    assert http.post("/v1/risk/rules/big-card/publish").json()["state"] == "published"
    synced.sync_once()
    d = decide(shop, 90_00)
    assert d.action == "block" and d.rule_ids == ("big-card",)
    assert "90.00" in d.reasons[0].en
    assert decide(shop, 10_00).action == "allow"

    audit = http.get("/v1/risk/audit").json()
    assert [(a["action"], a["actor"], a["rule_id"]) for a in audit] == [
        (step, "risk-lead", "big-card") for step in ("draft", "backtest", "shadow", "publish")
    ]
    again = http.post("/v1/risk/rules", content=DRAFT.encode())
    assert again.status_code == 409 and "new id" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (DRAFT.replace("amount > 5000", "amout > 5000"), "did you mean 'amount'"),
        (DRAFT.replace('"big-card"', '"card-testing"'), "shipped rule"),
        (DRAFT + DRAFT.replace("big-card", "other"), "one [[rule]]"),
        (DRAFT.replace("priority = 880", "priority = 880\nshadow = true"), "leave out shadow"),
    ],
)
def test_a_bad_draft_is_refused_with_the_reason(server: Any, body: str, fragment: str) -> None:
    r = httpx.post(f"{server.url}/v1/risk/rules", content=body.encode(), headers=ADMIN)
    assert r.status_code == 422 and fragment in r.json()["detail"], r.text


def test_the_risk_admin_api_needs_the_admin_token(server: Any) -> None:
    for path in ("/v1/risk/alerts", "/v1/risk/hotlist", "/v1/risk/rules", "/v1/risk/audit"):
        assert httpx.get(server.url + path).status_code == 403
    assert httpx.post(server.url + "/v1/risk/rules", content=DRAFT.encode()).status_code == 403


def test_nothing_is_in_the_hot_list_until_the_analysis_finds_something(
    server: Any, shop: TerminalServices, synced: SyncClient
) -> None:
    decide(shop, 10_00, record=True)
    synced.sync_once()
    http = httpx.Client(base_url=server.url, headers=ADMIN)
    assert http.get("/v1/risk/hotlist").json() == []
    assert http.get("/v1/risk/alerts", params={"store": "S001"}).json() == []


def test_the_quick_backtest_of_a_velocity_rule_agrees_with_the_full_replay(
    server: Any, shop: TerminalServices, synced: SyncClient
) -> None:
    from pos.risk import parse_ruleset
    from sync.server.risk.backtest import _backtest, run_backtest

    for amount in (20_00, 80_00, 120_00, 30_00, 90_00, 10_00):
        decide(shop, amount, record=True)
    synced.sync_once()
    rule = (
        '[[rule]]\nid = "again"\n'
        "when = 'velocity.terminal.count_1h >= 2 && amount > 5000 && channel == \"card\"'\n"
        'action = "block"\npriority = 5\nreason_zh = "又一笔"\nreason_en = "again"\n'
    )
    quick = run_backtest(server.engine, rule, "again").to_dict()
    # A second rule in the set sends it down the general path (RiskState replay).
    both = parse_ruleset(rule + rule.replace('"again"', '"other"'))
    full = _backtest(server.engine, both, "again", None).to_dict()
    assert quick["hits"] == full["hits"] == 2  # the 120.00 and 90.00 sales
    assert {k: v for k, v in quick.items() if k != "milliseconds"} == {
        k: v for k, v in full.items() if k != "milliseconds"
    }
