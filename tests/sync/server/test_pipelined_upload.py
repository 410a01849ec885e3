"""Pipelined uploads, on SQLite and on PostgreSQL: a batch the terminal sent
while the one before it was still on its way names that one's last entry
(`after`); the server stores it after that one, or refuses it without an
alert when that one never comes. Nothing is stored twice or out of order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.store.journal_format import JournalRecord
from sync.schemas import Ack
from sync.server import ingest
from sync.server import models as m
from sync.transport import ServerRefused
from sync.wire import upload_body
from tests.sync.device import Device


@pytest.fixture
def srv(db_url: str, tmp_path: Path, server_on: Callable[..., Any]) -> Iterator[Any]:
    yield server_on(db_url, tmp_path)


def _body(d: Device, records: list[JournalRecord]) -> bytes:
    return upload_body(
        d.id,
        [(r.seq, r.time, r.type, r.payload, r.prev_hash, r.hash, r.signature) for r in records],
    )


def _stored(server: Any) -> tuple[int, int, int]:
    with server.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(m.entries)).scalar_one()
        lines = conn.execute(select(func.count()).select_from(m.settlement_lines)).scalar_one()
        alerts = conn.execute(select(func.count()).select_from(m.alerts)).scalar_one()
    return int(entries), int(lines), int(alerts)


@pytest.mark.parametrize("size", [5, 600])
def test_a_batch_that_arrives_before_the_one_it_follows_waits_for_it(srv: Any, size: int) -> None:
    d = Device(srv)
    first, second = d.make(size), d.make(size)
    answers: list[Ack] = []
    later = threading.Thread(
        target=lambda: answers.append(d.link.upload_body(_body(d, second), follows=size))
    )
    later.start()
    time.sleep(0.3)  # the second is waiting on the server for the first
    ack = d.link.upload_body(_body(d, first))
    later.join(30)
    assert (ack.hwm, [a.hwm for a in answers]) == (size, [2 * size])
    assert answers[0].last_hash == second[-1].hash
    assert _stored(srv) == (2 * size, 2 * size, 0)


def test_a_batch_whose_predecessor_never_comes_is_refused_without_an_alert(
    srv: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "FOLLOW_WAIT_S", 0.3)
    d = Device(srv)
    d.upload(d.make(2))
    d.make(3)
    orphan = d.make(3)
    with pytest.raises(ServerRefused) as exc:
        d.link.upload_body(_body(d, orphan), follows=5)
    assert (exc.value.status, exc.value.error, exc.value.hwm) == (409, "gap", 2)
    assert _stored(srv) == (2, 2, 0)
    # The same gap without `after` is the terminal's fault: refused with an alert.
    with pytest.raises(ServerRefused) as exc:
        d.link.upload_body(_body(d, orphan))
    assert (exc.value.status, exc.value.error) == (409, "gap")
    assert _stored(srv) == (2, 2, 1)


def test_a_batch_that_follows_a_refused_one_stores_nothing(
    srv: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "FOLLOW_WAIT_S", 0.3)
    d = Device(srv)
    bad, after = d.make(4), d.make(4)
    bad[1] = JournalRecord(**{**bad[1].to_dict(), "payload": bad[1].payload.replace("O", "Q")})
    with pytest.raises(ServerRefused) as exc:
        d.link.upload_body(_body(d, bad))
    assert exc.value.error == "bad-entry"
    with pytest.raises(ServerRefused) as exc:
        d.link.upload_body(_body(d, after), follows=4)
    assert (exc.value.error, exc.value.hwm) == ("gap", 0)
    assert _stored(srv) == (0, 0, 1)  # the bad entry's alert only


def test_after_must_be_a_sequence_number(srv: Any) -> None:
    d = Device(srv)
    batch = d.make(2)
    with pytest.raises(ServerRefused) as exc:
        d.link._send("POST", "/v1/journal", _body(d, batch), params={"after": "x"})
    assert (exc.value.status, exc.value.error) == (400, "malformed")
    assert _stored(srv) == (0, 0, 0)
