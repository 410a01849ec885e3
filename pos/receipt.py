"""Receipts: what a shopper takes home, as a model, a layout and plain text.

The model is built from what the store keeps (the order document and its tender
rows). `layout()` turns it into styled lines for a given paper width (32, 42 or
48 columns); the plain-text rendering and the ESC/POS printer driver both draw
from that one layout, so a receipt reads the same on screen and on paper.

Widths are counted in printer columns: a CJK character takes two, as it does on
a receipt printer in Kanji mode. A card is only ever shown by its last four
digits, whatever the caller passes in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal, Protocol

from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money
from pos.order import Line, Order, Refund

WIDTHS = (32, 42, 48)
LOOKUP_PREFIX = "POS-R"

Align = Literal["left", "center", "right"]


# -- columns -----------------------------------------------------------------------


def char_width(ch: str) -> int:
    """Columns one character takes on a receipt printer."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, never splitting a wide character."""
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    """Break on columns (CJK text has no spaces to break on); at least one line."""
    lines: list[str] = []
    rest = text
    while text_width(rest) > width:
        head = fit(rest, width)
        space = head.rfind(" ")
        # Break between words when the cut would split one; CJK breaks anywhere.
        if space > 0 and rest[len(head)] != " " and head[-1] != " ":
            head = head[:space]
        lines.append(head.rstrip())
        rest = rest[len(head) :].lstrip()
    lines.append(rest)
    return lines


def pad(text: str, width: int, align: Align = "left") -> str:
    text = fit(text, width)
    gap = width - text_width(text)
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def columns(left: str, right: str, width: int) -> str:
    """`left` and `right` on one line; the left side gives way if both don't fit."""
    room = max(width - text_width(right) - 1, 0)
    return pad(left, room) + " " + pad(right, width - room - 1, "right")


# -- model -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreHeader:
    name: str
    address: str = ""
    phone: str = ""
    tax_id: str = ""
    footer: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name_zh: str
    name_en: str
    quantity: int  # units, or grams when `grams` is True
    unit_price: Money  # per unit, or per kg
    amount: Money  # what the line costs after its own discount
    discount: Money  # the line's own discount (positive: money off)
    grams: bool = False

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class TaxAmount:
    rate_bp: int  # basis points: 1300 is 13%
    tax: Money


@dataclass(frozen=True, slots=True)
class ReceiptTender:
    channel: str
    amount: Money
    tendered: Money | None = None
    change: Money | None = None
    card_last4: str = ""
    auth_code: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    """Who printed the receipt, where and when, under which number."""

    header: StoreHeader
    receipt_no: str
    terminal_id: str
    cashier: str
    created_at: datetime
    reprint: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    info: ReceiptInfo
    order_id: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Money
    discount: Money  # every discount on the order: line and order discounts
    order_discount: Money  # the order-level part of `discount`
    taxes: tuple[TaxAmount, ...]
    tax_inclusive: bool
    total: Money
    tenders: tuple[ReceiptTender, ...]
    change: Money
    kind: Literal["sale", "refund"] = "sale"
    refunded: Money | None = None  # on a refund slip: what went back
    copy_note: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def lookup_code(self) -> str:
        """What the receipt's QR code holds: enough to find the order again."""
        return lookup_code(self.info.terminal_id, self.info.receipt_no)


def lookup_code(terminal_id: str, receipt_no: str) -> str:
    return f"{LOOKUP_PREFIX}:{terminal_id}:{receipt_no}"


def parse_lookup_code(text: str) -> tuple[str, str]:
    """(terminal_id, receipt_no) from a scanned receipt QR code."""
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != LOOKUP_PREFIX or not parts[1] or not parts[2]:
        raise InvalidInput(msg("reports.receipt.not_a_code", text=text[:40]))
    return parts[1], parts[2]


def card_last4(masked_pan: str | None) -> str:
    """The last four digits of a masked card number, and nothing more."""
    digits = "".join(c for c in (masked_pan or "") if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


# -- layout ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextRow:
    text: str
    align: Align = "left"
    bold: bool = False
    double: bool = False  # double width and height: takes two columns a character


@dataclass(frozen=True, slots=True)
class QrRow:
    payload: str


Row = TextRow | QrRow

_CHANNELS = frozenset({"cash", "alipay", "wechat", "card"})


def label(key: str, locale: str) -> str:
    """A printed label (catalogue reports.receipt_label.*) in the receipt's language."""
    return msg(f"reports.receipt_label.{key}").render(locale)


def channel_name(channel: str, locale: str) -> str:
    if channel not in _CHANNELS:
        return channel
    return msg(f"reports.receipt_channel.{channel}").render(locale)


def _percent(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


def _qty_text(line: ReceiptLine) -> str:
    if line.grams:
        kg, g = divmod(line.quantity, 1000)
        return f"{kg}.{g:03d}kg"
    return str(line.quantity)


def layout(
    receipt: Receipt, width: int = 42, locale: str = "zh", tz: tzinfo | None = None
) -> list[Row]:
    """The receipt as rows for a `width`-column printer."""
    if width not in WIDTHS:
        raise InvalidInput(
            msg("reports.receipt.width", width=width, widths=", ".join(map(str, WIDTHS)))
        )
    rows: list[Row] = []

    def text(t: str = "", align: Align = "left", bold: bool = False) -> None:
        rows.append(TextRow(t, align, bold))

    def pair(left: str, right: str, bold: bool = False) -> None:
        rows.append(TextRow(columns(left, right, width), "left", bold))

    rule = "-" * width
    info = receipt.info
    head = info.header
    for part in wrap(head.name, width // 2):
        rows.append(TextRow(part, "center", True, True))
    for extra in (head.address, head.phone and f"{label('tel', locale)} {head.phone}"):
        for part in wrap(extra, width) if extra else ():
            text(part, "center")
    if head.tax_id:
        text(f"{label('tax_id', locale)} {head.tax_id}", "center")
    if receipt.kind == "refund":
        rows.append(TextRow(label("refund", locale), "center", True, True))
    if info.reprint:
        text(f"*** {label('reprint', locale)} ***", "center", True)
    if receipt.copy_note:
        text(receipt.copy_note, "center")
    text(rule)
    when = info.created_at.astimezone(tz) if tz else info.created_at
    pair(label("receipt", locale), info.receipt_no)
    pair(label("time", locale), when.strftime("%Y-%m-%d %H:%M:%S"))
    pair(label("cashier", locale), info.cashier)
    pair(label("terminal", locale), info.terminal_id)
    text(rule)
    cur = receipt.total.currency
    for line in receipt.lines:
        for part in wrap(line.name(locale), width):
            text(part)
        unit = line.unit_price.amount_text() + ("/kg" if line.grams else "")
        pair(f"  {_qty_text(line)} x {unit}", line.amount.amount_text())
        if line.discount:
            pair(f"  {label('discount', locale)}", (-line.discount).amount_text())
    text(rule)
    pair(label("subtotal", locale), receipt.subtotal.amount_text())
    if receipt.order_discount:
        pair(label("order_discount", locale), (-receipt.order_discount).amount_text())
    if receipt.discount and receipt.discount != receipt.order_discount:
        pair(label("saved", locale), (-receipt.discount).amount_text())
    tax_key = "tax_incl" if receipt.tax_inclusive else "tax_excl"
    for tax in receipt.taxes:
        pair(f"{label(tax_key, locale)} {_percent(tax.rate_bp)}", tax.tax.amount_text())
    pair(f"{label('total', locale)} {cur}", receipt.total.amount_text(), bold=True)
    if receipt.kind == "refund" and receipt.refunded is not None:
        pair(label("refunded", locale), receipt.refunded.amount_text(), bold=True)
    text(rule)
    for tender in receipt.tenders:
        pair(channel_name(tender.channel, locale), tender.amount.amount_text())
        if tender.tendered is not None and tender.tendered != tender.amount:
            pair(f"  {label('tendered', locale)}", tender.tendered.amount_text())
        if tender.card_last4:
            pair(f"  {label('card', locale)}", f"**** {card_last4(tender.card_last4)}")
        if tender.auth_code:
            pair(f"  {label('auth', locale)}", tender.auth_code)
        if tender.reference:
            pair(f"  {label('ref', locale)}", tender.reference)
    if receipt.change:
        pair(label("change", locale), receipt.change.amount_text(), bold=True)
    text(rule)
    rows.append(QrRow(receipt.lookup_code))
    text(label("lookup", locale), "center")
    for note in head.footer:
        for part in wrap(note, width):
            text(part, "center")
    return rows


def render_text(
    receipt: Receipt, width: int = 42, locale: str = "zh", tz: tzinfo | None = None
) -> str:
    """The receipt as plain text, as the CLI prints it and the screen previews it."""
    out: list[str] = []
    for row in layout(receipt, width, locale, tz):
        if isinstance(row, QrRow):
            out.append(pad(f"[QR {row.payload}]", width, "center").rstrip())
        else:
            out.append(pad(row.text, width, row.align).rstrip())
    return "\n".join(out) + "\n"


# -- building from what the store keeps ----------------------------------------------


def money_of(value: Any, currency: str, what: str) -> Money:
    """Money from a stored minor-unit integer, with a clear error for anything else."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(msg("reports.receipt.stored_amount", what=what, value=repr(value)))
    return Money(value, currency)


def tender_from_row(row: Mapping[str, Any]) -> ReceiptTender:
    """A receipt tender from a `tenders` table row (payment or refund)."""
    cur = str(row["currency"])
    tendered = row["tendered_minor"]
    change = row["change_minor"]
    return ReceiptTender(
        channel=str(row["channel"]),
        amount=money_of(row["amount_minor"], cur, "tender amount"),
        tendered=None if tendered is None else money_of(tendered, cur, "amount tendered"),
        change=money_of(change, cur, "change") if change else None,
        card_last4=card_last4(row["card_masked_pan"]),
        auth_code=str(row["auth_code"] or ""),
        reference=str(row["reference"] or ""),
    )


class ReceiptPrinter(Protocol):
    """The port a receipt printer driver implements. Both calls return at once
    with a job id: printing never holds up a sale."""

    def print_receipt(self, receipt: Receipt) -> str: ...

    def open_drawer(self) -> str: ...


def _tenders(order: Order, rows: Sequence[Mapping[str, Any]]) -> tuple[ReceiptTender, ...]:
    """The payment rows the store kept (they carry the card's masked number and
    authorisation code); the order's own tenders when there are none."""
    paid = [r for r in rows if r["kind"] == "payment"]
    if paid:
        return tuple(tender_from_row(r) for r in paid)
    return tuple(
        ReceiptTender(t.channel, t.amount, t.tendered, t.change or None, "", "", t.reference or "")
        for t in order.tenders
    )


def _receipt_line(line: Line, amount: Money, discount: Money) -> ReceiptLine:
    if line.grams is not None:
        return ReceiptLine(
            line.name_zh, line.name_en, line.grams, line.unit_price, amount, discount, True
        )
    return ReceiptLine(line.name_zh, line.name_en, line.quantity, line.unit_price, amount, discount)


def sale_receipt(
    order: Order,
    *,
    header: StoreHeader,
    receipt_no: str,
    terminal_id: str,
    cashier: str,
    created_at: datetime,
    tender_rows: Sequence[Mapping[str, Any]] = (),
    reprint: bool = False,
) -> Receipt:
    """The receipt of a paid order (`pos.order.Order`)."""
    info = ReceiptInfo(header, receipt_no, terminal_id, cashier, created_at, reprint)
    totals = order.totals()
    lines = tuple(
        _receipt_line(ln, lt.gross - lt.line_discount, lt.line_discount)
        for ln, lt in zip(order.lines, totals.lines, strict=True)
    )
    return Receipt(
        info=info,
        order_id=order.order_id,
        lines=lines,
        subtotal=totals.subtotal,
        discount=totals.discount,
        order_discount=totals.order_discount,
        taxes=tuple(TaxAmount(g.rate_bp, g.tax) for g in totals.tax_by_rate),
        tax_inclusive=order.tax_table.inclusive,
        total=totals.total,
        tenders=_tenders(order, tender_rows),
        change=order.change,
    )


def refund_receipt(order: Order, refund: Refund, info: ReceiptInfo) -> Receipt:
    """The slip for a refund of `order`: what went back, to which tender.
    `info` is the refund's own: the original receipt number, when and who."""
    cur = order.currency
    lines = []
    for rl in refund.lines:
        ln = order.line(rl.line_id)
        qty = rl.quantity if ln.grams is None else ln.grams
        lines.append(
            ReceiptLine(
                ln.name_zh, ln.name_en, qty, ln.unit_price, rl.amount, Money.zero(cur), ln.weighed
            )
        )
    return Receipt(
        info=info,
        order_id=order.order_id,
        lines=tuple(lines),
        subtotal=refund.amount,
        discount=Money.zero(cur),
        order_discount=Money.zero(cur),
        taxes=tuple(TaxAmount(g.rate_bp, g.tax) for g in refund.plan.tax_by_rate),
        tax_inclusive=order.tax_table.inclusive,
        total=refund.amount,
        tenders=tuple(
            ReceiptTender(t.channel, t.amount, reference=t.reference or "") for t in refund.tenders
        ),
        change=Money.zero(cur),
        kind="refund",
        refunded=refund.amount,
    )
