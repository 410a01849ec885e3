"""`pos print ...`, `pos drawer open`, `pos printer setup` against the loopback
printer, on a provisioned terminal with real sales."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers import cli_print
from drivers.printer.emulator import EmulatedPrinter
from drivers.printer.status import PrinterStatus
from pos.cli.context import CliContext
from pos.clock import FakeClock
from pos.errors import InvalidInput, NotAllowed
from pos.money import Money
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[TerminalServices]:
    clock = FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    terminal = provision(tmp_path / "term", "demo", "S001", "T01", clock)
    svc = TerminalServices.wrap(terminal)
    products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
    import_products(terminal.db, terminal.journal, clock, products, replace=True, source="demo")
    svc.users.add("boss", "王经理", "manager", "2580")
    svc.users.add("c1", "张伟", "cashier", "7391")
    yield svc
    svc.close()


def run(services: TerminalServices, *argv: str, pin: str = "2580") -> tuple[int, dict]:
    parser = argparse.ArgumentParser(prog="pos")
    cli_print.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    ctx = CliContext(services.terminal.data_dir, True, out, io.StringIO(), lambda who: pin)
    code = args.func(args, ctx)
    return code, json.loads(out.getvalue())


def test_a_receipt_is_reprinted_from_the_store_through_the_configured_printer(
    services: TerminalServices, printer: EmulatedPrinter
) -> None:
    co = services.checkout
    order = co.new_order("c1")
    co.add_item(order.order_id, "DRK-001", 2)
    sale = co.pay_cash(order.order_id, Money(1000))
    code, conf = run(services, "printer", "setup", "--printer", printer.address, "--width", "32")
    assert code == 0 and conf["width"] == 32
    code, out = run(services, "print", "receipt", sale.receipt_no)
    assert code == 0 and out["state"] == "done" and out["kind"] == "reprint"
    [printout] = printer.wait_for(1)
    text = printout.text()
    assert "*** 重印 ***" in text and sale.receipt_no in text and "可口可乐" in text
    assert max(len(ln.text.encode("gb18030")) for ln in printout.lines) <= 32
    with services.terminal.db.read() as conn:
        types = [r[0] for r in conn.execute("SELECT type FROM journal ORDER BY seq")]
    assert "config.changed" in types


def test_test_page_prints_chinese_and_a_qr_code(
    services: TerminalServices, printer: EmulatedPrinter
) -> None:
    code, _ = run(services, "print", "test", "--printer", printer.address)
    assert code == 0
    [page] = printer.wait_for(1)
    assert "中文字符：你好，欢迎光临！¥12.50" in page.text() and page.qr_codes


def test_a_printer_without_paper_is_reported_with_what_to_do(
    services: TerminalServices, printer: EmulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    printer.status = PrinterStatus(online=True, paper_out=True)
    monkeypatch.setattr(cli_print, "CLI_RETRIES", (0.05,))
    code, out = run(services, "print", "test", "--printer", printer.address)
    assert code == 1 and out["error_code"] == "paper_out"
    assert "Load a new paper roll" in out["remedy"]


def test_drawer_opens_for_a_manager_and_the_journal_records_it(
    services: TerminalServices, printer: EmulatedPrinter
) -> None:
    code, _ = run(
        services, "drawer", "open", "--approver", "boss", "--reason", "找零", "--printer",
        printer.address,
    )  # fmt: skip
    assert code == 0 and printer.drawer_kicks == [2]
    with services.terminal.db.read() as conn:
        last = conn.execute("SELECT type, payload FROM journal ORDER BY seq DESC").fetchone()
        approvals = conn.execute("SELECT action, approver_id FROM approvals").fetchall()
    assert last[0] == "drawer.opened" and json.loads(last[1])["approver_id"] == "boss"
    assert [tuple(a) for a in approvals] == [("drawer.no_sale", "boss")]


def test_drawer_stays_shut_for_a_cashier(
    services: TerminalServices, printer: EmulatedPrinter
) -> None:
    with pytest.raises(NotAllowed):
        run(
            services, "drawer", "open", "--approver", "c1", "--printer", printer.address, pin="7391"
        )
    assert printer.drawer_kicks == []


def test_without_a_printer_set_up_the_command_says_how(
    services: TerminalServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POS_PRINTER", raising=False)
    with pytest.raises(InvalidInput, match="No receipt printer is set up"):
        run(services, "print", "test")
