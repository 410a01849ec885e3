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
    names = {"X": "X 报表 X report", "Z": "Z 报表 Z report", "daily": "日结报表 Daily report"}
    base = names.get(report.kind, report.kind)
    return f"{base} No. {report.z_no}" if report.z_no is not None else base


def summary_table(report: SettlementReport, tz: tzinfo | None = None) -> Table:
    when = report.generated_at.astimezone(tz) if tz else report.generated_at
    cash, off, j = report.cash, report.offline_cards, report.journal
    rows: list[tuple[Cell, ...]] = [
        ("营业日 Business date", None, None, report.business_date),
        ("报表 Report", None, None, title_of(report)),
        ("门店 Store", None, None, report.store_id),
        ("终端 Terminal", None, None, report.terminal_id),
        ("生成时间 Generated", None, None, when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("销售 Sales", report.sales.count, report.sales.amount, None),
        ("原价合计 Gross", None, report.gross, None),
        ("优惠 Discounts", None, report.discounts, None),
        ("销售税额 Tax on sales", None, report.tax, None),
        ("退款 Refunds", report.refunds.count, report.refunds.amount, None),
        ("作废 Voids", report.voids.count, report.voids.amount, None),
        ("作废退回 Void returns", None, report.void_returns, None),
        ("净额 Net", None, report.net, None),
        ("应有现金 Expected cash", None, cash.expected, None),
    ]
    if cash.counted is not None:
        rows.append(("实点现金 Counted cash", None, cash.counted, None))
        rows.append(("长短款 Over/short", None, cash.over_short, cash.reason or None))
    rows += [
        ("脱机卡已上送 Offline cards forwarded", off.forwarded.count, off.forwarded.amount, None),
        ("脱机卡待上送 Offline cards pending", off.pending.count, off.pending.amount, None),
        ("脱机卡被拒 Offline cards declined", off.declined.count, off.declined.amount, None),
        ("未结订单 Open orders", report.open_orders, None, None),
        (
            "流水 Journal",
            j.entries,
            None,
            f"seq {j.first_seq}-{j.last_seq}" if j.first_seq is not None else "-",
        ),
        (
            "流水核对 Journal check",
            None,
            None,
            "一致 agrees" if j.agrees else "不一致 DIFFERS: " + "; ".join(j.problems),
        ),
    ]
    if report.closed_by:
        rows.append(("日结人 Closed by", None, None, report.closed_by))
    return Table(
        "summary",
        "汇总 Summary",
        ("项目 Item", "笔数 Count", "金额 Amount", "说明 Note"),
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
        "按支付方式 By tender",
        (
            "支付方式 Tender",
            "收款笔数 Payments",
            "收款 Paid",
            "退款笔数 Refunds",
            "退款 Refunded",
            "净额 Net",
        ),
        rows,
        ("合计 Total", pay.count, pay.amount, ref.count, ref.amount, pay.amount - ref.amount),
    )


def tax_table(report: SettlementReport) -> Table:
    cur = report.currency
    rates = report.tax_by_rate
    return Table(
        "tax",
        "按税率 Tax by rate",
        ("税率 Rate", "不含税 Net", "税额 Tax", "含税 Gross"),
        tuple((Rate(t.rate_bp), t.net, t.tax, t.gross) for t in rates),
        (
            "合计 Total",
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
        "按收银员 By cashier",
        (
            "收银员 Cashier",
            "销售笔数 Sales",
            "销售额 Sold",
            "退款笔数 Refunds",
            "退款 Refunded",
            "作废笔数 Voids",
            "作废金额 Voided",
        ),
        rows,
        ("合计 Total", s.count, s.amount, r.count, r.amount, v.count, v.amount),
    )


def hour_table(report: SettlementReport) -> Table:
    rows = tuple(
        (f"{h.hour:02d}:00-{h.hour:02d}:59", h.sales.count, h.sales.amount) for h in report.hours
    )
    s = _sum([h.sales for h in report.hours], report.currency)
    return Table(
        "hours",
        "按小时 By hour",
        ("时段 Hour", "销售笔数 Sales", "销售额 Sold"),
        rows,
        ("合计 Total", s.count, s.amount),
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
            f"{report.business_date}  ·  门店 Store {report.store_id}"
            f"  ·  终端 Terminal {report.terminal_id}  ·  {report.currency}"
        ),
        note=f"SHA-256 {digest}",
        currency=report.currency,
        tables=tuple(report_tables(report, tz)),
    )
