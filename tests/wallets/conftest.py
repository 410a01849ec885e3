"""A till enrolled with a real server (uvicorn on loopback), the wallet
channels configured, and a member with a loaded balance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.member_code import make_code
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from sync.client import enroll, signing_key
from sync.protocol import RequestSigner
from sync.server import db
from tests.pos.services.conftest import CASHIER_PIN, DEMO_CATALOG, MANAGER_PIN
from tests.sync.conftest import ThreadServer
from wallets.client import LedgerClient

__all__ = ["CASHIER_PIN", "MANAGER_PIN"]
MEMBER_PIN = "4321"


@dataclass
class Shop:
    server: ThreadServer
    data: Path
    client: LedgerClient
    number: str
    member_id: str

    def code(self) -> str:
        return make_code(self.client.code_key(), self.number, SystemClock().now())

    def balance(self, kind: str) -> int:
        return int(self.client.member(self.number)["balances"][kind])


def till_dir(base: Path, server: ThreadServer, terminal_id: str = "T01") -> Path:
    data = base / terminal_id
    with TerminalServices.wrap(provision(data, "demo", "S001", terminal_id, SystemClock())) as s:
        t = s.terminal
        products = read_catalog_file(DEMO_CATALOG, "CNY")
        import_products(t.db, t.journal, t.clock, products, replace=True, source="t")
        s.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
        s.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
        enroll(t, server.url, server.code("S001"))
    sections = {"stored_value": {"one_touch_limit": 2000}, "points": {"points_per_yuan": 100}}
    (data / "payments.json").write_text(json.dumps(sections))
    return data


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    server = ThreadServer(
        db.make_engine(f"sqlite:///{tmp_path / 'server.db'}"),
        tmp_path / "key.pem",
        SystemClock(),
        admin_token="admin-secret",
    )
    data = till_dir(tmp_path, server)
    with TerminalServices.open(data) as s:
        t = s.terminal
        client = LedgerClient(server.url, RequestSigner(t.terminal_id, signing_key(t), t.clock))
    member = client.create_member("Li Lei", MEMBER_PIN)
    number = member["number"]
    client.activity(number=number, kind="stored_value", type="load", amount=1000, key="load-sv-1")
    client.activity(number=number, kind="points", type="load", amount=500, key="load-pt-1")
    try:
        yield Shop(server, data, client, number, member["member_id"])
    finally:
        client.close()
        server.stop()
