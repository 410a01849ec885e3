"""The default risk rules at the till, through the real CLI and store:
allowed, sent to review and blocked sales, each with its reasons journaled."""

from __future__ import annotations

import io
import json

import pytest

from pos.canonical import loads
from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.money import Money
from pos.order.state import OrderState
from pos.risk import install_ruleset
from pos.services.risk_gate import RiskRefused
from pos.services.terminal_services import TerminalServices
from tests.pos.services.conftest import CASHIER_PIN, MANAGER_PIN


def cli(services: TerminalServices, *argv: str) -> dict:
    out = io.StringIO()
    ctx = CliContext(data_dir=services.terminal.data_dir, as_json=True, out=out, err=io.StringIO())
    ctx.read_pin = lambda who: MANAGER_PIN if who == "boss" else CASHIER_PIN
    args = build_parser().parse_args(list(argv))
    assert args.func(args, ctx) == 0
    return json.loads(out.getvalue())


def decisions(services: TerminalServices) -> list[dict]:
    with services.terminal.db.read() as conn:
        rows = conn.execute("SELECT payload FROM journal WHERE type = 'risk.decision' ORDER BY seq")
        return [loads(r[0]) for r in rows]


@pytest.fixture
def till(services: TerminalServices):
    # The CLI opens the terminal itself; this one only reads afterwards.
    services.close()
    again = TerminalServices.open(services.terminal.data_dir, services.terminal.clock)
    yield again
    again.close()


def test_an_ordinary_cash_sale_is_allowed_and_the_decision_journaled(till):
    sale = cli(till, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash")
    assert sale["risk"][0]["action"] == "allow"
    [d] = decisions(till)
    assert (d["action"], d["outcome"], d["channel"]) == ("allow", "approved", "cash")


def test_a_gift_card_at_the_kiosk_goes_to_review_until_a_manager_approves(till):
    with pytest.raises(RiskRefused) as refused:
        cli(
            till, "sale", "--cashier", "c1", "--mode", "kiosk", "--item", "GFT-100", "--pay", "cash"
        )
    assert refused.value.decision.rule_ids == ("kiosk-gift-cards",)
    assert refused.value.missing == ("manager_pin",)
    sale = cli(
        till,
        "sale",
        "--cashier",
        "c1",
        "--mode",
        "kiosk",
        "--item",
        "GFT-100",
        "--approver",
        "boss",
        "--pay",
        "cash",
    )
    assert sale["state"] == "paid"
    assert sale["risk"][0]["step_ups_met"] == ["manager_pin"]
    outcomes = [(d["action"], d["outcome"]) for d in decisions(till)]
    assert outcomes == [("review", "blocked"), ("review", "approved")]
    # The refused attempt took nothing and left no open cart behind.
    assert till.checkout.open_orders() == []


def test_a_kiosk_sale_over_the_cap_is_blocked_with_its_reason(till):
    with pytest.raises(RiskRefused, match="kiosk-amount-cap"):
        cli(
            till,
            "sale",
            "--cashier",
            "c1",
            "--mode",
            "kiosk",
            "--item",
            "GFT-100:21",
            "--approver",
            "boss",
            "--pay",
            "cash",
        )
    [d] = decisions(till)
    assert d["action"] == "block" and d["rule_ids"] == ["kiosk-amount-cap"]
    assert d["reasons"][0]["zh"] and d["reasons"][0]["en"]


def test_a_large_refund_without_receipt_is_blocked_and_nothing_goes_back(till):
    co = till.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DLY-007", 20)  # 780.00
    co.pay_cash(o.order_id, Money(78000))
    ok = till.users.approval("boss", MANAGER_PIN, "refund")
    with pytest.raises(RiskRefused, match="refund-no-receipt-large"):
        co.refund(o.order_id, approval=ok, cashier_id="c1", amount=Money(60000), has_receipt=False)
    assert co.get(o.order_id).order.state is OrderState.PAID
    order, _ = co.refund(
        o.order_id, approval=ok, cashier_id="c1", amount=Money(10000), has_receipt=False
    )
    assert order.state is OrderState.PARTLY_REFUNDED
    assert [d["rule_ids"] for d in decisions(till)] == [
        ["refund-no-receipt-large"],
        ["refund-no-receipt"],
    ]


BURST_RULES = """
description = "test: a burst of sales on this terminal needs a manager"
[[rule]]
id = "terminal-burst"
when = "velocity.terminal.count_10m >= 3"
action = "review"
step_up = "manager_pin"
priority = 10
reason_zh = "十分钟内交易过多"
reason_en = "Many sales in ten minutes"
"""


def test_velocity_survives_reopening_the_terminal(till):
    with till.terminal.db.transaction() as conn:
        install_ruleset(conn, BURST_RULES, 1, installed_at="2026-03-02T02:00:00.000000Z")
    data_dir, clock = till.terminal.data_dir, till.terminal.clock
    till.close()
    first = TerminalServices.open(data_dir, clock)
    for _ in range(3):
        o = first.checkout.new_order("c1")
        first.checkout.add_item(o.order_id, "DRK-001")
        checked = first.checkout.check_tender(o.order_id, "cash", Money(350))
        first.checkout.pay_cash(o.order_id, Money(350), risk=checked)
    first.close()
    clock.advance(60)
    again = TerminalServices.open(data_dir, clock)
    try:
        o = again.checkout.new_order("c1")
        again.checkout.add_item(o.order_id, "DRK-001")
        with pytest.raises(RiskRefused, match="terminal-burst"):
            again.checkout.check_tender(o.order_id, "cash", Money(350))
        assert again.checkout.check_tender(
            o.order_id, "cash", Money(350), satisfied=("manager_pin",)
        )
    finally:
        again.close()
