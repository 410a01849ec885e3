from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.clock import FakeClock
from pos.money import Money
from pos.order import Discount, Tender
from pos.reports import context_of
from pos.reports.compute import ReportContext
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[3]
MANAGER_PIN = "2580"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[TerminalServices]:
    terminal = provision(tmp_path / "term", "demo", "S001", "T01", clock)
    svc = TerminalServices.wrap(terminal)
    products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
    import_products(terminal.db, terminal.journal, clock, products, replace=True, source="demo")
    svc.users.add("boss", "王经理", "manager", MANAGER_PIN)
    svc.users.add("c1", "张伟", "cashier", "7391")
    svc.users.add("c2", "Li Na", "cashier", "4826")
    yield svc
    svc.close()


@pytest.fixture
def ctx(services: TerminalServices) -> ReportContext:
    return context_of(services)


@dataclass
class Day:
    """What the test rang up, to hold the report against."""

    sales: dict[str, int] = field(default_factory=dict)  # order id -> total
    by_channel: dict[str, int] = field(default_factory=dict)  # paid, net of change
    refunded: dict[str, int] = field(default_factory=dict)  # given back by channel
    refunds: list[int] = field(default_factory=list)
    voids: list[int] = field(default_factory=list)
    void_returns: int = 0
    cashier_sales: dict[str, int] = field(default_factory=dict)

    def paid(self, channel: str, minor: int) -> None:
        self.by_channel[channel] = self.by_channel.get(channel, 0) + minor

    def back(self, channel: str, minor: int) -> None:
        self.refunded[channel] = self.refunded.get(channel, 0) + minor


def approval(services: TerminalServices, action: str):
    return services.users.approval("boss", MANAGER_PIN, action)


def ring_up_a_day(services: TerminalServices, clock: FakeClock) -> Day:
    """A day through every tender: cash with change, Alipay, WeChat Pay, card,
    a split tender, a discount, a weighed item, a refund, a void after payment
    and a void before it."""
    co, day = services.checkout, Day()

    def sale(cashier: str, items: list[tuple[str, int]], grams: int | None = None):
        order = co.new_order(cashier)
        for sku, qty in items:
            co.add_item(order.order_id, sku, qty)
        if grams is not None:
            co.add_item(order.order_id, "FRT-001", grams=grams)
        clock.advance(7 * 60)
        return co.get(order.order_id).order

    def done(order_id: str, cashier: str) -> None:
        total = co.get(order_id).order.total.minor
        day.sales[order_id] = total
        day.cashier_sales[cashier] = day.cashier_sales.get(cashier, 0) + total

    o = sale("c1", [("DRK-001", 2), ("SNK-001", 1)])
    co.pay_cash(o.order_id, Money(5000))
    day.paid("cash", o.total.minor)
    done(o.order_id, "c1")
    cash_sale = o

    o = sale("c1", [("DRK-002", 3)])
    co.take_tender(o.order_id, Tender("alipay", o.total, reference="2026030222001400001"))
    day.paid("alipay", o.total.minor)
    done(o.order_id, "c1")

    clock.advance(3600)
    o = sale("c2", [("SNK-002", 2)])
    co.take_tender(o.order_id, Tender("wechat", o.total, reference="4200002026030200001"))
    day.paid("wechat", o.total.minor)
    done(o.order_id, "c2")

    o = sale("c2", [("DRK-003", 4)], grams=1234)
    co.take_tender(
        o.order_id,
        Tender("card", o.total, reference="RRN000000001"),
        masked_pan="622848******1234",
        auth_code="A1B2C3",
    )
    day.paid("card", o.total.minor)
    done(o.order_id, "c2")

    clock.advance(2 * 3600)
    o = sale("c1", [("DRK-004", 2), ("SNK-001", 2)])
    co.discount_order(o.order_id, Discount.percent(1000))
    o = co.get(o.order_id).order
    co.take_tender(o.order_id, Tender("card", Money(1000), reference="RRN000000002"))
    co.pay_cash(o.order_id, o.total - Money(1000))
    day.paid("card", 1000)
    day.paid("cash", o.total.minor - 1000)
    done(o.order_id, "c1")

    # A refund of one line of the first cash sale.
    line = cash_sale.lines[1]
    _, refund = co.refund(
        cash_sale.order_id,
        approval=approval(services, "refund"),
        cashier_id="c1",
        lines={line.line_id: 1},
        reason="damaged",
    )
    day.refunds.append(refund.amount.minor)
    day.back("cash", refund.amount.minor)

    # A sale paid in cash, then voided with a manager.
    o = sale("c2", [("DRK-001", 1)])
    co.pay_cash(o.order_id, Money(1000))
    day.paid("cash", o.total.minor)
    done(o.order_id, "c2")
    co.void(o.order_id, approval(services, "void"), "rang up twice")
    day.voids.append(o.total.minor)
    day.void_returns += o.total.minor
    day.back("cash", o.total.minor)

    # An order voided before payment.
    o = sale("c1", [("SNK-002", 1)])
    co.void(o.order_id)
    day.voids.append(o.total.minor)
    return day
