"""Risk step-ups over the real services and risk engine: an ID check is its
own confirmation (a manager's PIN does not stand in for it), and "online
only" refuses cash but lets the online tenders through."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pos.flows import CheckoutFlow, FlowError, OnlineOnly, TenderState
from pos.flows.core import CoreServices
from pos.flows.ports import TenderRequest
from pos.flows.views import Outcome
from pos.money import Money
from pos.risk import install_ruleset
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.conftest import CASHIER_PIN, MANAGER_PIN
from tests.pos.flows.flow_fakes import Events

CHIPS = "6901234001013"  # 7.50

RULES = """
[[rule]]
id = "cash-over-20-id"
when = "channel == \\"cash\\" && amount > 2000"
action = "review"
step_up = "check_id"
priority = 500
reason_zh = "现金超过 20.00 元，请核对顾客身份证件"
reason_en = "Cash over 20.00; check the shopper's ID"

[[rule]]
id = "over-50-online"
when = "amount > 5000"
action = "review"
step_up = "online_only"
priority = 600
reason_zh = "超过 50.00 元须在线付款"
reason_en = "Over 50.00 must be paid online"
"""


@pytest.fixture
def ruled(terminal_services: TerminalServices) -> Iterator[CoreServices]:
    t = terminal_services.terminal
    with t.db.transaction() as conn:
        install_ruleset(conn, RULES, 1, installed_at="2026-03-02T02:00:00.000000Z")
    data_dir, clock = t.data_dir, t.clock
    terminal_services.close()
    services = TerminalServices.open(data_dir, clock)  # the engine loads its rules at open
    try:
        yield CoreServices(services)
    finally:
        services.close()


def _tender_for(core: CoreServices, chips: int):  # type: ignore[no-untyped-def]
    flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
    line = flow.scan(CHIPS).lines[0].line_id
    flow.set_quantity(line, chips)
    return flow.start_tender()


def test_id_check_is_confirmed_by_the_cashier_and_journaled_as_met(ruled: CoreServices) -> None:
    tender = _tender_for(ruled, 4)  # 30.00 cash
    assert tender.prepare("cash", "cash", tendered=Money(3000)) is None
    assert tender.step_up == "check_id"
    assert tender.decision is not None and "ID" in tender.decision.reasons[0].en
    with pytest.raises(FlowError):
        tender.approve(ruled.approve(MANAGER_PIN, "risk_review"))
    assert tender.confirm_id() is not None
    assert tender.run(Events()).status is Outcome.SUCCEEDED
    with ruled.services.terminal.db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM journal WHERE type = 'risk.decision' ORDER BY seq"
        ).fetchall()
    last = json.loads(rows[-1][0])
    assert last["outcome"] == "approved" and last["step_ups_met"] == ["check_id"]


def test_a_manager_pin_alone_does_not_pass_an_id_check(ruled: CoreServices) -> None:
    tender = _tender_for(ruled, 4)
    order_id = tender.order.order_id
    request = TenderRequest(
        order_id,
        "cash",
        "cash",
        Money(3000),
        tendered=Money(3000),
        approval=ruled.approve(MANAGER_PIN, "risk_review"),
    )
    decision = ruled.risk(request)
    assert decision.action == "review" and decision.step_ups == ("check_id",)


def test_online_only_refuses_cash_and_lets_a_qr_wallet_through(ruled: CoreServices) -> None:
    tender = _tender_for(ruled, 8)  # 60.00
    with pytest.raises(OnlineOnly) as exc:
        tender.prepare("cash", "cash", tendered=Money(10000))
    assert "Over 50.00 must be paid online" in exc.value.text.render("en")
    assert tender.state is TenderState.CHOOSING
    cash = next(ch for ch in tender.channels() if ch.channel == "cash")
    assert not cash.available
    qr = TenderRequest(tender.order.order_id, "alipay", "qr", Money(6000))
    assert ruled.risk(qr).action == "allow"
