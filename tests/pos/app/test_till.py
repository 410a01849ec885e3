"""The till as open_till assembles it: one store for the checkout and every
channel, risk that sees the link go down, and everything closed with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.app import TillOptions, open_till
from pos.clock import FakeClock
from pos.money import Money
from pos.risk import install_ruleset
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.risk_gate import RiskRefused
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[3]
OFFLINE_RULES = """
description = "test: offline, larger sales need a manager"
[[rule]]
id = "offline-cap"
when = "!online && amount >= 1000"
action = "review"
step_up = "manager_pin"
priority = 10
reason_zh = "离线大额"
reason_en = "Large sale while offline"
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    data = tmp_path / "term"
    with TerminalServices.wrap(provision(data, "demo", "S001", "T01", clock)) as s:
        t = s.terminal
        products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
        import_products(t.db, t.journal, clock, products, replace=True, source="demo")
        with t.db.transaction() as conn:
            install_ruleset(conn, OFFLINE_RULES, 2, installed_at="2026-03-02T02:00:00.000000Z")
    yield data


def test_the_risk_rules_see_the_till_go_offline_and_back(data_dir: Path) -> None:
    with open_till(data_dir, TillOptions(channels=("cash",))) as till:
        co = till.checkout
        order = co.new_order("c1")
        co.add_item(order.order_id, "DLY-007")  # 39.00
        assert co.check_tender(order.order_id, "cash", Money(3900)) is not None
        till.connectivity.link(False)  # the sync worker's last attempt failed
        with pytest.raises(RiskRefused) as refused:
            co.check_tender(order.order_id, "cash", Money(3900))
        assert refused.value.decision.rule_ids == ("offline-cap",)
        till.connectivity.link(True)
        assert co.check_tender(order.order_id, "cash", Money(3900)) is not None


def test_cash_is_a_payment_through_its_channel_and_the_till_closes_what_it_opened(
    data_dir: Path,
) -> None:
    from pos.flows.cancel import CancelToken
    from pos.flows.core import CoreServices
    from pos.flows.ports import TenderRequest
    from pos.flows.views import Outcome, Role, Session
    from tests.pos.flows.flow_fakes import Events

    till = open_till(data_dir, TillOptions(channels=("cash",)))
    core = CoreServices.on(till)
    order = core.new_order(Session("c1", "c1", Role.CASHIER), "cashier")
    core.add_item(order.order_id, "DRK-001")
    request = TenderRequest(order.order_id, "cash", "cash", Money(350), tendered=Money(500))
    result = core.pay(request, Events(), CancelToken())
    assert result.status is Outcome.SUCCEEDED and result.change == Money(150)
    [intent] = till.router.query_order(order.order_id)
    assert (intent.channel, intent.amount, intent.status.value) == ("cash", Money(350), "succeeded")
    [row] = till.checkout.tenders(order.order_id)
    assert row["intent_id"] == intent.intent_id
    assert till.services.verify().ok
    till.close()
    # The store is closed with the till: the same data opens again at once.
    with open_till(data_dir, TillOptions(channels=())) as again:
        assert again.checkout.get(order.order_id).receipt_no is not None
