"""One scripted day, run through the command line and through the app's
flows on a till of its own: scan, a line discount a manager approves, a split
cash + Alipay payment, a refund, a void. Both leave the same journal (event
types in order) and the same money (orders, tenders, refunds): the command
line is a front end over the same flows, not a second checkout."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pos.app import TillOptions, open_till
from pos.canonical import loads
from pos.clock import SystemClock
from pos.events import Event, missing_fields
from pos.flows import CheckoutFlow, RefundFlow
from pos.flows.core import CoreServices
from pos.flows.ports import Discount
from pos.money import Money
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.server import SandboxServer
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.pos.flows.flow_fakes import Events
from tests.pos.services.conftest import CASHIER_PIN, DEMO_CATALOG, MANAGER_PIN
from tests.pos.services.test_cli_payments import keys_dir, run, shopper_pays

COLA, CHIPS = "6901234000016", "6901234001013"  # 3.50, 7.50
SETUP = {Event.TERMINAL_PROVISIONED, Event.USER_ADDED, Event.CATALOG_IMPORTED}

__all__ = ["keys_dir"]


def _till_dir(base: Path, keys: Path) -> tuple[Path, SandboxServer]:
    data = base / "till"
    with TerminalServices.wrap(provision(data, "demo", "S001", "T01", SystemClock())) as s:
        t = s.terminal
        products = read_catalog_file(DEMO_CATALOG, "CNY")
        import_products(t.db, t.journal, t.clock, products, replace=True, source="t")
        s.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
        s.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    shutil.copytree(keys, data / "sandbox")
    server = SandboxServer(data, SystemClock()).start()
    write_terminal_config(
        data, server.keys.terminal_config(server.base_url, poll_interval=0.2, payment_timeout=20.0)
    )
    return data, server


@pytest.fixture
def two_tills(tmp_path: Path, keys_dir: Path) -> Iterator[list[tuple[Path, SandboxServer]]]:
    tills = [_till_dir(tmp_path / name, keys_dir) for name in ("cli", "app")]
    yield tills
    for _, server in tills:
        server.stop()


def by_cli(data: Path, server: SandboxServer) -> None:
    shopper_pays(server, "alipay")
    code, sale = run(
        data, "sale", "--cashier", "c1", "--item", COLA, "--item", CHIPS,
        "--line-discount", "2:50%", "--approver", "boss",
        "--pay", "cash:2.00", "--pay", "alipay",
    )  # fmt: skip
    assert code == 0 and sale["state"] == "paid"
    code, _ = run(
        data, "refund", sale["receipt_no"], "--cashier", "c1", "--approver", "boss",
        "--item", "DRK-001:1",
    )  # fmt: skip
    assert code == 0
    code, open_sale = run(data, "sale", "--cashier", "c1", "--item", COLA, "--pay", "cash:1.00")
    assert code != 0 and open_sale["state"] == "open"
    code, voided = run(data, "void", open_sale["order_id"], "--approver", "boss")
    assert code == 0 and voided["state"] == "voided"


def by_app(data: Path, server: SandboxServer) -> None:
    with open_till(data, TillOptions()) as till:
        core = CoreServices.on(till)
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        flow.scan(COLA)
        line = flow.scan(CHIPS).lines[1].line_id
        flow.discount_line(line, Discount(basis_points=5000), core.approve(MANAGER_PIN, "discount"))
        tender = flow.start_tender()
        assert tender.prepare("cash", "cash", tendered=Money(200)) is not None
        tender.run(Events())
        shopper_pays(server, "alipay")
        assert tender.prepare("alipay", "qr") is not None
        tender.run(Events())
        assert flow.finish_if_paid()
        paid = flow.last_paid
        assert paid is not None
        refund = RefundFlow(core, core)
        refund.lookup(paid.receipt_no)
        refund.toggle_line(paid.lines[0].line_id)
        refund.request_approval("")
        refund.run(core.approve(MANAGER_PIN, "refund"))
        flow.scan(COLA)
        tender = flow.start_tender()
        tender.prepare("cash", "cash", tendered=Money(100))
        tender.run(Events())
        flow.back_from_tender()
        flow.void_order(core.approve(MANAGER_PIN, "void"))


def journal_and_money(data: Path) -> tuple[list[str], list[Any]]:
    with TerminalServices.open(data) as services, services.terminal.db.read() as conn:
        # A command line logs in per command, the app once per session: who
        # signed in is not part of the sale.
        types = [
            r[0]
            for r in conn.execute("SELECT type FROM journal ORDER BY seq")
            if r[0] not in SETUP and r[0] != Event.USER_LOGIN
        ]
        orders = sorted(
            (r[0], r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT state, total_minor, discount_minor, refunded_minor FROM orders"
            )
        )
        tenders = sorted(
            (r[0], r[1], r[2])
            for r in conn.execute("SELECT kind, channel, amount_minor FROM tenders")
        )
        refunds = sorted(r[0] for r in conn.execute("SELECT amount_minor FROM refunds"))
        payloads = [
            (Event(r[0]), loads(r[1])) for r in conn.execute("SELECT type, payload FROM journal")
        ]
    # Every entry carries its event's fields, whichever front end wrote it.
    assert all(not missing_fields(e, p) for e, p in payloads), [
        (e, missing_fields(e, p)) for e, p in payloads if missing_fields(e, p)
    ]
    return types, [orders, tenders, refunds]


def test_the_same_day_through_the_cli_and_the_app_leaves_the_same_journal_and_money(
    two_tills,
) -> None:
    (cli_dir, cli_server), (app_dir, app_server) = two_tills
    by_cli(cli_dir, cli_server)
    by_app(app_dir, app_server)
    cli_types, cli_money = journal_and_money(cli_dir)
    app_types, app_money = journal_and_money(app_dir)
    assert cli_money == app_money
    assert cli_types == app_types
    assert Event.ORDER_VOIDED in cli_types and Event.REFUND_COMPLETED in cli_types
    [orders, tenders, _] = cli_money
    assert ("voided", 350, 0, 0) in orders
    assert ("payment", "alipay", 525) in tenders and ("payment", "cash", 200) in tenders
