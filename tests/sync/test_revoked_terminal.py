"""A terminal revoked at the server learns it at its next contact and takes no
sales until it is enrolled again: the real server over HTTP on loopback, the
real sync client, the checkout and the `pos sale` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pos.auth import Role
from pos.canonical import loads
from pos.cli.main import main
from pos.events import Event
from pos.money import Money
from pos.services.revocation import TerminalRevoked
from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, enroll
from sync.server import models as m
from sync.transport import ServerRefused
from tests.sync.conftest import make_terminal, sell

CASHIER_PIN = "1397"


def _events(services: TerminalServices, event: Event) -> list[dict[str, Any]]:
    with services.terminal.db.read() as conn:
        rows = conn.execute("SELECT payload FROM journal WHERE type = ?", (event,)).fetchall()
    return [loads(r[0]) for r in rows]


def test_a_revoked_terminal_stops_selling_until_enrolled_again(
    tmp_path: Path, server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = make_terminal(tmp_path)
    shop.users.add("m1", "Manager Wang", Role.MANAGER, "2580")
    shop.users.add("c1", "Cashier Li", Role.CASHIER, CASHIER_PIN)
    enroll(shop.terminal, server.url, server.code())
    sell(shop, 2)
    client = SyncClient.for_terminal(shop.terminal, {})
    client.sync_once()

    # Head office revokes the terminal through the admin API.
    r = httpx.post(
        f"{server.url}/v1/admin/terminals/T-1/revoke",
        headers={"Authorization": "Bearer admin-secret"},
    )
    assert r.status_code == 200, r.text
    # A sale started before the next contact still goes through ...
    sell(shop, 1)
    # ... the next contact tells the terminal, and it stops taking sales.
    with pytest.raises(ServerRefused) as refused:
        client.sync_once()
    assert refused.value.error == "revoked"
    client.close()
    with pytest.raises(TerminalRevoked) as stopped:
        shop.checkout.new_order("c1")
    assert stopped.value.msg is not None and stopped.value.msg.code == "badge.terminal_revoked"
    assert "pos enroll" in stopped.value.render("en") and "重新登记" in stopped.value.render(
        "zh_CN"
    )
    assert len(_events(shop, Event.TERMINAL_REVOKED)) == 1
    data_dir = shop.terminal.data_dir
    shop.close()

    # The command line says so, in the reader's language, with exit code 3.
    monkeypatch.setenv("POS_CASHIER_PIN", CASHIER_PIN)
    code = main(["--data-dir", str(data_dir), "--lang", "en", "sale", "--cashier", "c1",
                 "--item", "SNK-001", "--pay", "cash"])  # fmt: skip
    assert code == 3
    assert "revoked this terminal" in capsys.readouterr().err

    # Head office gives a new code; the terminal enrols again and sells.
    shop = TerminalServices.open(data_dir)
    try:
        enroll(shop.terminal, server.url, server.code())
        sell(shop, 1)
        client = SyncClient.for_terminal(shop.terminal, {})
        report = client.sync_once()
        client.close()
        assert report.pushed.hwm > 0
        assert len(_events(shop, Event.TERMINAL_REINSTATED)) == 1
        with server.engine.connect() as conn:
            row = conn.execute(select(m.terminals).where(m.terminals.c.id == "T-1")).one()
        assert row.revoked_at is None and row.hwm == report.pushed.hwm
        order = shop.checkout.new_order("c1")
        assert order.total == Money(0)
    finally:
        shop.close()
