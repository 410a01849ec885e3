"""The terminal's sync client against a real server: enrolled, selling
offline, catching up; resuming after lost answers; status; pinning."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from pos.errors import NotAllowed, PosError
from pos.services.terminal_services import TerminalServices
from pos.store import outbox
from pos.store.journal import records
from sync.client import SyncClient, enroll, enrolment, status
from sync.server import models as m
from sync.transport import LinkError, ServerRefused


def server_hashes(server: Any, terminal_id: str) -> list[tuple[int, str]]:
    with server.engine.connect() as conn:
        q = select(m.entries.c.seq, m.entries.c.hash).where(m.entries.c.terminal_id == terminal_id)
        return [tuple(r) for r in conn.execute(q.order_by(m.entries.c.seq))]


def terminal_hashes(shop: TerminalServices) -> list[tuple[int, str]]:
    with shop.terminal.db.read() as conn:
        return [(r.seq, r.hash) for r in records(conn)]


def test_an_enrolled_terminal_sells_offline_then_catches_up(
    shop: TerminalServices, server: Any, ring_up: Any
) -> None:
    enroll(shop.terminal, server.url, server.code())
    client = SyncClient.for_terminal(shop.terminal, {})
    server.stop()
    ring_up(shop, 30)
    with pytest.raises(LinkError):
        client.sync_once()
    offline = status(shop.terminal)
    assert not offline.online and offline.backlog >= 60 and offline.last_error
    assert offline.oldest_unsent_seconds is not None
    back = server.restart()
    try:
        report = client.sync_once()
        assert report.pushed.sent == offline.backlog
        after = status(shop.terminal)
        assert after.online and after.backlog == 0 and after.server_hwm == report.pushed.hwm
        assert server_hashes(back, "T-1") == terminal_hashes(shop)
    finally:
        client.close()
        back.stop()


@pytest.fixture
def client(shop: TerminalServices, server: Any, ring_up: Any) -> Iterator[SyncClient]:
    """An enrolled terminal with ten sales, not yet pushed."""
    enroll(shop.terminal, server.url, server.code())
    ring_up(shop, 10)
    c = SyncClient.for_terminal(shop.terminal, {})
    yield c
    c.close()


def test_a_lost_acknowledgement_is_recovered_without_sending_again(
    shop: TerminalServices, client: SyncClient
) -> None:
    first = client.push()
    # As if the terminal died after the server committed but before it marked rows sent.
    with shop.terminal.db.transaction() as conn:
        conn.execute("UPDATE outbox SET sent_at = NULL")
    again = client.push()
    assert (again.sent, again.hwm) == (0, first.hwm)
    with shop.terminal.db.read() as conn:
        assert outbox.backlog(conn) == 0


def test_a_server_restored_from_an_older_backup_gets_the_missing_entries_again(
    shop: TerminalServices, server: Any, client: SyncClient
) -> None:
    hwm = client.push().hwm
    keep = 7
    with server.engine.begin() as conn:
        conn.execute(m.entries.delete().where(m.entries.c.seq > keep))
        conn.execute(m.settlement_lines.delete().where(m.settlement_lines.c.seq > keep))
        h = conn.execute(select(m.entries.c.hash).where(m.entries.c.seq == keep)).scalar_one()
        conn.execute(update(m.terminals).values(hwm=keep, last_hash=h))
    assert client.push().sent == hwm - keep
    assert server_hashes(server, "T-1") == terminal_hashes(shop)


def test_a_server_holding_another_history_stops_sync_with_a_clear_error(
    shop: TerminalServices, server: Any, client: SyncClient
) -> None:
    hwm = client.push().hwm
    with server.engine.begin() as conn:
        conn.execute(update(m.terminals).values(last_hash="cd" * 32))
    with pytest.raises(PosError) as exc:
        client.sync_once()
    assert "differs" in exc.value.message
    st = status(shop.terminal)
    assert st.online and "differs" in (st.last_error or "")
    assert st.server_hwm == hwm


def test_enrolling_twice_is_refused_and_the_server_key_is_pinned(
    shop: TerminalServices, server: Any
) -> None:
    e = enroll(shop.terminal, server.url, server.code())
    assert e.server_key == server.state.keys.current().public_key().public_bytes_raw().hex()
    assert enrolment(shop.terminal) == e
    with pytest.raises(NotAllowed):
        enroll(shop.terminal, server.url, server.code())
    with shop.terminal.db.read() as conn:
        types = [r.type for r in records(conn)]
    assert "sync.enrolled" in types


def test_a_bad_enrolment_code_is_a_clear_error(shop: TerminalServices, server: Any) -> None:
    with pytest.raises(NotAllowed) as exc:
        enroll(shop.terminal, server.url, "ABCD-EFGH-JKLM")
    assert "not known" in exc.value.message
    assert enrolment(shop.terminal) is None


def test_an_unreachable_server_at_enrolment_says_what_to_do(shop: TerminalServices) -> None:
    with pytest.raises(PosError) as exc:
        enroll(shop.terminal, "http://127.0.0.1:9", "ABCD-EFGH-JKLM")
    assert "same code works again" in exc.value.remedy


def test_status_before_enrolment_says_how_to_enrol(shop: TerminalServices) -> None:
    st = status(shop.terminal)
    assert not st.enrolled and "pos enroll" in st.text()
    with pytest.raises(PosError):
        SyncClient.for_terminal(shop.terminal, {})


def test_a_revoked_terminal_is_told_so(shop: TerminalServices, server: Any, ring_up: Any) -> None:
    from pos.clock import SystemClock
    from sync.server import enrolment as server_enrolment

    enroll(shop.terminal, server.url, server.code())
    server_enrolment.revoke(server.engine, SystemClock(), "T-1")
    client = SyncClient.for_terminal(shop.terminal, {})
    with pytest.raises(ServerRefused) as exc:
        client.sync_once()
    assert exc.value.error == "revoked"
    client.close()
