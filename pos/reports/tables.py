"""The settlement report as titled tables, the one shape every export draws:
CSV (one block per table), XLSX (one sheet per table), PDF (one page per table)
and the text slip.

Cells keep their type (text, count, money, rate) so each export can write them
as what they are: numbers stay numbers for the accountant's spreadsheet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import tzinfo

from pos.canonical import dumps
from pos.messages import both, msg
from pos.money import Money
from pos.receipt import channel_name
from pos.reports.model import Count, SettlementReport


@dataclass(frozen=True, slots=True)
class Rate:
    """A tax rate in basis points, shown as a percentage."""

    bp: int

    def text(self) -> str:
        whole, frac = divmod(self.bp, 100)
        return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


Cell = str | int | Money | Rate | None


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[Cell, ...] | None = None


@dataclass(frozen=True, slots=True)
class TableDoc:
    """Titled tables with what every page says: the shape every export writes."""

    title: str
    subtitle: str  # date, store, terminal, currency
    note: str  # printed small on every page (the report's hash)
    currency: str
    tables: tuple[Table, ...]


def inert_text(text: str) -> str:
    """Text a spreadsheet shows as text: a product name, a cashier's refund
    reason or a name pushed from the server that starts like a formula
    ("=HYPERLINK(...)", "+1", "@SUM(...)") gets a leading apostrophe, as
    spreadsheet programs do themselves, so opening the export runs nothing."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return cell.amount_text()
    if isinstance(cell, Rate):
        return cell.text()
    return str(cell)


def _sum(counts: list[Count], currency: str) -> Count:
    acc = Count(0, Money.zero(currency))
    for c in counts:
        acc = acc + c
    return acc


def title_of(report: SettlementReport) -> str:
    kinds = {
        "X": "reports.doc.x_report",
        "Z": "reports.doc.z_report",
        "daily": "reports.doc.daily_report",
    }
    base = both(msg(kinds[report.kind])) if report.kind in kinds else report.kind
    return f"{base} No. {report.z_no}" if report.z_no is not None else base


def summary_table(report: SettlementReport, tz: tzinfo | None = None) -> Table:
    when = report.generated_at.astimezone(tz) if tz else report.generated_at
    cash, off, j = report.cash, report.offline_cards, report.journal
    rows: list[tuple[Cell, ...]] = [
        (both(msg("reports.doc.business_date")), None, None, report.business_date),
        (both(msg("reports.doc.report")), None, None, title_of(report)),
        (both(msg("reports.doc.store")), None, None, report.store_id),
        (both(msg("reports.doc.terminal")), None, None, report.terminal_id),
        (
            both(msg("reports.doc.generated")),
            None,
            None,
            when.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        ),
        (both(msg("reports.doc.sales")), report.sales.count, report.sales.amount, None),
        (both(msg("reports.doc.gross")), None, report.gross, None),
        (both(msg("reports.doc.discounts")), None, report.discounts, None),
        (both(msg("reports.doc.tax_on_sales")), None, report.tax, None),
        (both(msg("reports.doc.refunds")), report.refunds.count, report.refunds.amount, None),
        (both(msg("reports.doc.voids")), report.voids.count, report.voids.amount, None),
        (both(msg("reports.doc.void_returns")), None, report.void_returns, None),
        (both(msg("reports.doc.net")), None, report.net, None),
        (both(msg("reports.doc.expected_cash")), None, cash.expected, None),
    ]
    if cash.counted is not None:
        rows.append((both(msg("reports.doc.counted_cash")), None, cash.counted, None))
        rows.append(
            (both(msg("reports.doc.over_short")), None, cash.over_short, cash.reason or None)
        )
    rows += [
        (
            both(msg("reports.doc.offline_cards_forwarded")),
            off.forwarded.count,
            off.forwarded.amount,
            None,
        ),
        (
            both(msg("reports.doc.offline_cards_pending")),
            off.pending.count,
            off.pending.amount,
            None,
        ),
        (
            both(msg("reports.doc.offline_cards_declined")),
            off.declined.count,
            off.declined.amount,
            None,
        ),
        (both(msg("reports.doc.open_orders")), report.open_orders, None, None),
        (
            both(msg("reports.doc.journal")),
            j.entries,
            None,
            f"seq {j.first_seq}-{j.last_seq}" if j.first_seq is not None else "-",
        ),
        (
            both(msg("reports.doc.journal_check")),
            None,
            None,
            both(msg("reports.doc.agrees"))
            if j.agrees
            else both(msg("reports.doc.differs")) + "; ".join(j.problems),
        ),
    ]
    if report.closed_by:
        rows.append((both(msg("reports.doc.closed_by")), None, None, report.closed_by))
    return Table(
        "summary",
        both(msg("reports.doc.summary")),
        (
            both(msg("reports.doc.item")),
            both(msg("reports.doc.count")),
            both(msg("reports.doc.amount")),
            both(msg("reports.doc.note")),
        ),
        tuple(rows),
    )


def tender_table(report: SettlementReport) -> Table:
    cur = report.currency
    rows = tuple(
        (
            f"{channel_name(t.channel, 'zh')} {channel_name(t.channel, 'en')}",
            t.payments.count,
            t.payments.amount,
            t.refunds.count,
            t.refunds.amount,
            t.net,
        )
        for t in report.tenders
    )
    pay = _sum([t.payments for t in report.tenders], cur)
    ref = _sum([t.refunds for t in report.tenders], cur)
    return Table(
        "tenders",
        both(msg("reports.doc.by_tender")),
        (
            both(msg("reports.doc.tender")),
            both(msg("reports.doc.payments")),
            both(msg("reports.doc.paid")),
            both(msg("reports.doc.refunds_2")),
            both(msg("reports.doc.refunded")),
            both(msg("reports.doc.net")),
        ),
        rows,
        (
            both(msg("reports.doc.total")),
            pay.count,
            pay.amount,
            ref.count,
            ref.amount,
            pay.amount - ref.amount,
        ),
    )


def tax_table(report: SettlementReport) -> Table:
    cur = report.currency
    rates = report.tax_by_rate
    return Table(
        "tax",
        both(msg("reports.doc.tax_by_rate")),
        (
            both(msg("reports.doc.rate")),
            both(msg("reports.doc.net_2")),
            both(msg("reports.doc.tax")),
            both(msg("reports.doc.gross_2")),
        ),
        tuple((Rate(t.rate_bp), t.net, t.tax, t.gross) for t in rates),
        (
            both(msg("reports.doc.total")),
            Money(sum(t.net.minor for t in rates), cur),
            Money(sum(t.tax.minor for t in rates), cur),
            Money(sum(t.gross.minor for t in rates), cur),
        ),
    )


def cashier_table(report: SettlementReport) -> Table:
    cur = report.currency
    rows = tuple(
        (
            c.name or c.cashier_id,
            c.sales.count,
            c.sales.amount,
            c.refunds.count,
            c.refunds.amount,
            c.voids.count,
            c.voids.amount,
        )
        for c in report.cashiers
    )
    s = _sum([c.sales for c in report.cashiers], cur)
    r = _sum([c.refunds for c in report.cashiers], cur)
    v = _sum([c.voids for c in report.cashiers], cur)
    return Table(
        "cashiers",
        both(msg("reports.doc.by_cashier")),
        (
            both(msg("reports.doc.cashier")),
            both(msg("reports.doc.sales_2")),
            both(msg("reports.doc.sold")),
            both(msg("reports.doc.refunds_2")),
            both(msg("reports.doc.refunded")),
            both(msg("reports.doc.voids_2")),
            both(msg("reports.doc.voided")),
        ),
        rows,
        (both(msg("reports.doc.total")), s.count, s.amount, r.count, r.amount, v.count, v.amount),
    )


def hour_table(report: SettlementReport) -> Table:
    rows = tuple(
        (f"{h.hour:02d}:00-{h.hour:02d}:59", h.sales.count, h.sales.amount) for h in report.hours
    )
    s = _sum([h.sales for h in report.hours], report.currency)
    return Table(
        "hours",
        both(msg("reports.doc.by_hour")),
        (
            both(msg("reports.doc.hour")),
            both(msg("reports.doc.sales_2")),
            both(msg("reports.doc.sold")),
        ),
        rows,
        (both(msg("reports.doc.total")), s.count, s.amount),
    )


def report_tables(report: SettlementReport, tz: tzinfo | None = None) -> list[Table]:
    return [
        summary_table(report, tz),
        tender_table(report),
        tax_table(report),
        cashier_table(report),
        hour_table(report),
    ]


def report_doc(report: SettlementReport, tz: tzinfo | None = None) -> TableDoc:
    digest = hashlib.sha256(dumps(report.to_dict())).hexdigest()
    return TableDoc(
        title=f"{title_of(report)}  ·  {report.business_date}",
        subtitle=(
            f"{report.business_date}  ·  {both(msg('reports.doc.store'))} {report.store_id}"
            f"  ·  {both(msg('reports.doc.terminal'))} {report.terminal_id}  ·  {report.currency}"
        ),
        note=f"SHA-256 {digest}",
        currency=report.currency,
        tables=tuple(report_tables(report, tz)),
    )
