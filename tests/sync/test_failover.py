"""A terminal holds the server's URLs (given at enrolment, replaced by
configuration), uses one while it answers, fails over to the next whose
health check passes, and says which one is in use."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.clock import SystemClock
from pos.errors import InvalidInput
from pos.services.terminal_services import TerminalServices
from sync.apply import default_handlers
from sync.client import SyncClient, enroll, status
from sync.failover import ServerChoice
from sync.server import configs, db
from sync.server import models as m
from tests.sync.conftest import ThreadServer, free_port


@pytest.fixture
def pair(tmp_path: Path) -> Any:
    """Two servers on one database (one identity), as two app servers behind
    two addresses."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    a = ThreadServer(db.make_engine(url), tmp_path / "a.pem", SystemClock(), "admin")
    b = ThreadServer(db.make_engine(url), tmp_path / "b.pem", SystemClock(), "admin")
    yield a, b
    a.stop()
    b.stop()


def _stored(server: ThreadServer, terminal_id: str = "T-1") -> tuple[int, int]:
    with server.engine.connect() as conn:
        n, top = conn.execute(
            select(func.count(), func.max(m.entries.c.seq)).where(
                m.entries.c.terminal_id == terminal_id
            )
        ).one()
    return int(n), int(top or 0)


def test_enrolment_takes_the_first_url_that_answers_and_keeps_them_all(
    shop: TerminalServices, server: Any
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    e = enroll(shop.terminal, [dead, server.url], server.code())
    assert e.server_url == server.url
    st = status(shop.terminal)
    assert st.server_urls == [dead, server.url]


def test_a_terminal_fails_over_when_its_server_goes_and_says_which_it_uses(
    shop: TerminalServices, pair: Any, ring_up: Any
) -> None:
    a, b = pair
    enroll(shop.terminal, [a.url, b.url], a.code())
    client = SyncClient.for_terminal(shop.terminal, default_handlers(), timeout=5)
    try:
        ring_up(shop, 3)
        first = client.sync_once().pushed.hwm
        assert status(shop.terminal).server_url == a.url
        a.stop()
        ring_up(shop, 4, seed=1)
        after = client.sync_once().pushed.hwm
    finally:
        client.close()
    st = status(shop.terminal)
    assert (st.server_url, st.online, st.backlog) == (b.url, True, 0)
    assert f"{b.url} (online; in use, 2 of 2)" in st.text()
    assert after > first
    assert _stored(b) == (after, after)


def test_the_server_list_is_replaced_by_configuration(shop: TerminalServices, pair: Any) -> None:
    a, b = pair
    enroll(shop.terminal, [a.url], a.code())
    third = f"http://127.0.0.1:{free_port()}"
    doc = json.dumps({"urls": [b.url, a.url, third]}).encode()
    configs.publish(a.engine, SystemClock(), a.state.keys.current(), "servers", doc)
    client = SyncClient.for_terminal(shop.terminal, default_handlers(), timeout=5)
    try:
        applied = client.sync_once().applied
        assert [(x.kind, x.outcome) for x in applied] == [("servers", "applied")]
        assert client.link.choice.urls == [b.url, a.url, third]
        a.stop()
        client.sync_once()
    finally:
        client.close()
    st = status(shop.terminal)
    assert st.server_urls == [b.url, a.url, third]
    assert st.server_url == b.url


def test_a_server_list_that_is_not_urls_is_refused_and_the_old_one_kept(
    shop: TerminalServices, server: Any
) -> None:
    enroll(shop.terminal, server.url, server.code())
    doc = json.dumps({"urls": ["ftp://elsewhere"]}).encode()
    configs.publish(server.engine, SystemClock(), server.state.keys.current(), "servers", doc)
    client = SyncClient.for_terminal(shop.terminal, default_handlers(), timeout=5)
    try:
        with pytest.raises(Exception) as exc:
            client.sync_once()
    finally:
        client.close()
    assert "ftp://elsewhere" in str(exc.value)
    assert status(shop.terminal).server_urls == [server.url]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failed_url_rests_longer_each_time_and_a_healthy_one_takes_over() -> None:
    clock = _Clock()
    up = {"http://a": False, "http://b": True}
    choice = ServerChoice(
        ["http://a", "http://b"], probe=lambda u: up[u], monotonic=clock, rng=random.Random(1)
    )
    assert choice.pick() == "http://a"
    choice.failed("http://a")
    assert choice.pick() == "http://b"
    rests = []
    for _ in range(4):
        choice.failed("http://a")
        rests.append(choice._health["http://a"].resting_until - clock.now)
    assert rests == sorted(rests) and rests[-1] <= choice.max_rest
    # b stays in use while it answers, even once a has rested
    clock.now += 1000
    assert choice.pick() == "http://b"


def test_server_urls_are_checked() -> None:
    with pytest.raises(InvalidInput) as exc:
        ServerChoice(["pos.example:8443"], probe=lambda u: True)
    assert "http://" in exc.value.render("en")
