from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.clock import FakeClock
from pos.flows import CheckoutFlow
from pos.flows.core import CoreServices
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.pos.flows.flow_fakes import CASHIER, Events, FakeCatalog, FakeCheckout, FakePayments


@pytest.fixture
def checkout() -> FakeCheckout:
    return FakeCheckout()


@pytest.fixture
def payments(checkout: FakeCheckout) -> FakePayments:
    return FakePayments(checkout)


@pytest.fixture
def flow(checkout: FakeCheckout, payments: FakePayments) -> CheckoutFlow:
    return CheckoutFlow(CASHIER, checkout, FakeCatalog(), payments)


@pytest.fixture
def events() -> Events:
    return Events()


# -- the real services ----------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[3]
MANAGER_PIN = "2580"
CASHIER_PIN = "7391"


@pytest.fixture
def terminal_services(tmp_path: Path) -> Iterator[TerminalServices]:
    """A provisioned terminal with the demo catalog, a manager and a cashier."""
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    svc = TerminalServices.wrap(provision(tmp_path / "term", "demo", "S001", "T01", clock))
    t = svc.terminal
    products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
    import_products(t.db, t.journal, clock, products, replace=True, source="demo")
    svc.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
    svc.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    yield svc
    svc.close()


@pytest.fixture
def core(terminal_services: TerminalServices) -> CoreServices:
    return CoreServices(terminal_services)


@pytest.fixture
def real_flow(core: CoreServices) -> CheckoutFlow:
    return CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
