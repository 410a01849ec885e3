"""Receipts of stored sales, as the CLI prints them and the printer sends them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pos.canonical import dumps, loads
from pos.clock import Clock, iso, parse_iso
from pos.errors import NotAllowed
from pos.events import Event
from pos.messages import both, msg
from pos.receipt import Receipt, StoreHeader, render_text, sale_receipt
from pos.store.db import Database
from pos.store.journal import Journal

if TYPE_CHECKING:
    from pos.services.terminal_services import TerminalServices

PRINTER_SETTING = "printer"


def default_header() -> StoreHeader:
    """The header of a store whose settings name none yet: the catalogue's, in
    both languages as a bilingual receipt reads (read when first needed)."""
    return StoreHeader(
        name=both(msg("store.receipt_header.name")),
        footer=(both(msg("store.receipt_header.footer")),),
    )


@dataclass(frozen=True)
class PrinterSettings:
    """`pos printer setup`: where the receipt printer is, its paper width in
    columns and the receipt's language."""

    url: str = ""
    width: int = 42
    locale: str = "zh"


def printer_settings(db: Database) -> PrinterSettings:
    with db.read() as conn:
        row = conn.execute(
            "SELECT value FROM settings WHERE key = ?", (PRINTER_SETTING,)
        ).fetchone()
    if row is None:
        return PrinterSettings()
    conf = loads(row[0])
    default = PrinterSettings()
    return PrinterSettings(
        url=str(conf.get("url", default.url)),
        width=int(conf.get("width", default.width)),
        locale=str(conf.get("locale", default.locale)),
    )


def save_printer_settings(
    db: Database, journal: Journal, clock: Clock, settings: PrinterSettings
) -> None:
    conf = {"url": settings.url, "width": settings.width, "locale": settings.locale}
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (PRINTER_SETTING, dumps(conf).decode(), iso(clock.now())),
        )
        journal.append(conn, Event.CONFIG_CHANGED, {"key": PRINTER_SETTING, "value": conf})


def store_header(services: TerminalServices) -> StoreHeader:
    """The store's header from the terminal settings ('store.header', JSON)."""
    with services.terminal.db.read() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = 'store.header'").fetchone()
    if row is None:
        return default_header()
    data = loads(row[0])
    default = default_header()
    return StoreHeader(
        name=str(data.get("name", default.name)),
        address=str(data.get("address", "")),
        phone=str(data.get("phone", "")),
        tax_id=str(data.get("tax_id", "")),
        footer=tuple(str(x) for x in data.get("footer", default.footer)),
    )


def build_receipt(services: TerminalServices, order_id: str, reprint: bool = False) -> Receipt:
    checkout = services.checkout
    stored = checkout.get(order_id)
    if stored.receipt_no is None:
        raise NotAllowed(msg("order.no_receipt_yet", order_id=order_id))
    rows = checkout.tenders(order_id)
    paid_at = max(
        (r["created_at"] for r in rows if r["kind"] == "payment"), default=stored.updated_at
    )
    return sale_receipt(
        stored.order,
        header=store_header(services),
        receipt_no=stored.receipt_no,
        terminal_id=services.terminal.terminal_id,
        cashier=stored.order.cashier_id,
        created_at=parse_iso(paid_at),
        tender_rows=rows,
        reprint=reprint,
    )


def render_receipt(
    services: TerminalServices, order_id: str, width: int = 42, locale: str = "zh"
) -> str:
    receipt = build_receipt(services, order_id)
    return render_text(receipt, width, locale, services.checkout.timezone)
