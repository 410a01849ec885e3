"""Receipts of stored sales, as the CLI prints them and the printer sends them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos.canonical import loads
from pos.clock import parse_iso
from pos.errors import NotAllowed
from pos.receipt import Receipt, StoreHeader, render_text, sale_receipt

if TYPE_CHECKING:
    from pos.services.terminal_services import TerminalServices

DEFAULT_HEADER = StoreHeader(name="便利店 Convenience Store", footer=("谢谢惠顾 Thank you",))


def store_header(services: TerminalServices) -> StoreHeader:
    """The store's header from the terminal settings ('store.header', JSON)."""
    with services.terminal.db.read() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = 'store.header'").fetchone()
    if row is None:
        return DEFAULT_HEADER
    data = loads(row[0])
    return StoreHeader(
        name=str(data.get("name", DEFAULT_HEADER.name)),
        address=str(data.get("address", "")),
        phone=str(data.get("phone", "")),
        tax_id=str(data.get("tax_id", "")),
        footer=tuple(str(x) for x in data.get("footer", DEFAULT_HEADER.footer)),
    )


def build_receipt(services: TerminalServices, order_id: str, reprint: bool = False) -> Receipt:
    checkout = services.checkout
    stored = checkout.get(order_id)
    if stored.receipt_no is None:
        raise NotAllowed(
            f"order {order_id} has not been paid, so it has no receipt", "Take payment first."
        )
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
