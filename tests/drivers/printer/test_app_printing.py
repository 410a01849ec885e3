"""The app's receipts go to the printer `pos printer setup` named, at its
paper width and in its language, read through the till like every setting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from drivers.printer.emulator import EmulatedPrinter
from pos.app import TillOptions, open_till
from pos.clock import FakeClock
from pos.money import Money
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.receipts import PrinterSettings, save_printer_settings
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from ui.printing import open_printing

ROOT = Path(__file__).resolve().parents[3]


def test_app_receipts_honour_the_printer_setup_width_and_language(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("POS_PRINTER", raising=False)
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    data = tmp_path / "term"
    with EmulatedPrinter() as printer:
        with TerminalServices.wrap(provision(data, "demo", "S001", "T01", clock)) as svc:
            t = svc.terminal
            products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
            import_products(t.db, t.journal, clock, products, replace=True, source="demo")
            save_printer_settings(
                t.db, t.journal, clock, PrinterSettings(printer.address, 32, "en")
            )
            order = svc.checkout.new_order("c1")
            svc.checkout.add_item(order.order_id, "DRK-001", 2)
            svc.checkout.pay_cash(order.order_id, Money(1000))
        with open_till(data, TillOptions(clock=clock)) as till:
            printing = open_printing(till)
            try:
                assert printing.print_receipt is not None
                printing.print_receipt(order.order_id)
                [out] = printer.wait_for(1, timeout=15)
            finally:
                for close in printing.closers:
                    close()
    lines = [ln.text for ln in out.lines]
    assert max(len(ln) for ln in lines) <= 32
    text = "\n".join(lines)
    assert "Total" in text or "TOTAL" in text
    assert "合计" not in text
