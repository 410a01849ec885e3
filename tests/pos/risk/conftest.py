from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pos.money import Money
from pos.risk import BasketFacts, RiskContext, RiskEngine
from pos.store.db import Database

SHANGHAI = timezone(timedelta(hours=8))
# A Monday morning in the store's zone.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.create(tmp_path / "terminal.db", os.urandom(32))
    yield database
    database.close()


def make_ctx(**over: Any) -> RiskContext:
    base: dict[str, Any] = {
        "amount": Money(100_00),
        "channel": "card",
        "mode": "cashier",
        "online": True,
        "at": T0,
        "terminal_id": "T1",
        "cashier_id": "c1",
        "store_id": "S1",
        "store_country": "CN",
        "card_token": "tok-a",
        "card_bin": "62220212",
        "basket": BasketFacts(items=2, lines=2),
    }
    base.update(over)
    return RiskContext(**base)


@pytest.fixture
def ctx() -> Callable[..., RiskContext]:
    return make_ctx


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def engine(db: Database) -> RiskEngine:
    with db.read() as conn:
        return RiskEngine.open(conn, now=T0)
