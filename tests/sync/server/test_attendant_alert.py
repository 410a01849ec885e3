"""A kiosk that called its attendant raises an alert on the server when the
call's journal entry arrives, once, however often the batch is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pos.events import Event
from sync.server import models as m
from tests.sync.device import Device


@pytest.fixture
def srv(db_url: str, tmp_path: Path, server_on: Callable[..., Any]) -> Iterator[Any]:
    yield server_on(db_url, tmp_path)


def test_an_attendant_call_becomes_one_alert(srv: Any) -> None:
    d = Device(srv)
    batch = d.make(2) + d.make(1, etype=Event.KIOSK_ATTENDANT_CALLED) + d.make(1)
    d.upload(batch)
    d.upload(batch)  # sent again: stored once, alerted once
    with srv.engine.connect() as conn:
        rows = [(r.kind, r.seq) for r in conn.execute(select(m.alerts).order_by(m.alerts.c.id))]
    assert rows == [("attendant", 3)]
