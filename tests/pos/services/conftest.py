from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos.clock import FakeClock
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[3]
DEMO_CATALOG = ROOT / "assets" / "demo_catalog.csv"
MANAGER_PIN = "2580"
CASHIER_PIN = "7391"


@pytest.fixture
def clock() -> FakeClock:
    # 10:00 in Shanghai.
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[TerminalServices]:
    terminal = provision(tmp_path / "term", "demo", "S001", "T01", clock)
    svc = TerminalServices.wrap(terminal)
    t = svc.terminal
    import_products(
        t.db, t.journal, clock, read_catalog_file(DEMO_CATALOG, "CNY"), replace=True, source="demo"
    )
    svc.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
    svc.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    yield svc
    svc.close()
