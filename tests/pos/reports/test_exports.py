from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pos.clock import FakeClock
from pos.errors import InvalidInput
from pos.money import Money
from pos.reports.compute import ReportContext
from pos.reports.exports import export
from pos.reports.model import SettlementReport
from pos.reports.tables import Table, TableDoc, report_doc
from pos.reports.text import render_doc
from pos.reports.zreport import close_day, x_report
from pos.services.terminal_services import TerminalServices

from .conftest import approval, ring_up_a_day

DATE = "2026-03-02"
SHEETS = [
    "汇总 Summary",
    "按支付方式 By tender",
    "按税率 Tax by rate",
    "按收银员 By cashier",
    "按小时 By hour",
]


@pytest.fixture
def z(services: TerminalServices, ctx: ReportContext, clock: FakeClock) -> SettlementReport:
    ring_up_a_day(services, clock)
    t = services.terminal
    counted = x_report(t.db, ctx, DATE, clock.now()).cash.expected - Money(50)
    return close_day(
        t.db,
        t.journal,
        ctx,
        DATE,
        now=clock.now(),
        counted=counted,
        reason="找零多给了5角",
        approval=approval(services, "close day"),
    ).report


def test_csv_opens_with_chinese_headers_and_plain_decimal_amounts(
    z: SettlementReport, ctx: ReportContext, tmp_path: Path
) -> None:
    out = export(report_doc(z, ctx.tz), "csv", tmp_path / "z.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0].startswith("Z 报表 Z report No. 1")
    titles = [r[0] for r in rows if len(r) == 1]
    assert all(s in titles for s in SHEETS)
    tender_total = next(r for r in rows if r and r[0] == "合计 Total" and len(r) == 6)
    assert tender_total[2] == z.sales.amount.amount_text()
    assert tender_total[5] == z.net.amount_text()
    cash = next(r for r in rows if r and r[0] == "现金 Cash")
    assert Money.parse(cash[5]) == next(t.net for t in z.tenders if t.channel == "cash")


def test_xlsx_has_a_sheet_per_section_with_typed_cells_and_totals(
    z: SettlementReport, ctx: ReportContext, tmp_path: Path
) -> None:
    out = export(report_doc(z, ctx.tz), "xlsx", tmp_path / "z.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == SHEETS
    ws = wb["按支付方式 By tender"]
    assert [c.value for c in ws[2]] == [
        "支付方式 Tender",
        "收款笔数 Payments",
        "收款 Paid",
        "退款笔数 Refunds",
        "退款 Refunded",
        "净额 Net",
    ]
    body = list(ws.iter_rows(min_row=3, values_only=False))
    for row in body:
        assert isinstance(row[1].value, int) and isinstance(row[3].value, int)
        for money_cell in (row[2], row[4], row[5]):
            assert isinstance(money_cell.value, int | float | Decimal)
            assert money_cell.number_format == "#,##0.00"
    total = body[-1]
    assert total[0].value == "合计 Total" and total[0].font.bold
    assert Decimal(str(total[5].value)) == z.net.to_decimal()
    assert sum(Decimal(str(r[5].value)) for r in body[:-1]) == z.net.to_decimal()
    tax = wb["按税率 Tax by rate"]
    rate = tax.cell(row=3, column=1)
    assert rate.number_format == "0.00%" and Decimal(str(rate.value)) == Decimal("0.13")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdf_has_one_page_per_section_and_the_chinese_text_reads_back(
    z: SettlementReport, ctx: ReportContext, tmp_path: Path
) -> None:
    out = export(report_doc(z, ctx.tz), "pdf", tmp_path / "z.pdf")
    info = subprocess.run(["pdfinfo", out], capture_output=True, text=True, check=True).stdout
    assert "Pages:           5" in info
    for page, title in enumerate(SHEETS, 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", out, "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert title in text
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", out, "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "找零多给了5角" in first and "王经理" in first
    assert f"{z.net.amount_text()}" in first
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", out, tmp_path / "p"], check=True
    )
    assert (tmp_path / "p-1.png").stat().st_size > 1000


def test_an_export_never_leaves_a_half_written_file(
    z: SettlementReport, ctx: ReportContext, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(InvalidInput, match="is not a report format"):
        export(report_doc(z, ctx.tz), "docx", out / "z.docx")
    with pytest.raises(InvalidInput, match="does not exist"):
        export(report_doc(z, ctx.tz), "csv", out / "missing" / "z.csv")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("width", [32, 42, 48, 120])
def test_report_text_fits_the_width_it_is_printed_at(
    z: SettlementReport, ctx: ReportContext, width: int
) -> None:
    from pos.receipt import text_width

    text = render_doc(report_doc(z, ctx.tz), width)
    body = text.splitlines()[3:-1]  # title lines and the hash may be longer
    assert all(text_width(line) <= width for line in body), width
    assert z.net.amount_text() in text and "找零多给了5角" in text


def test_text_that_looks_like_a_formula_stays_text_and_amounts_stay_numbers(
    tmp_path: Path,
) -> None:
    """A refund reason or a product name a cashier or the server supplied must
    not run when the manager opens the export."""
    evil = ['=HYPERLINK("http://x","click")', "+1+cmd|'/C calc'!A0", "@SUM(1)", "-2+3"]
    doc = TableDoc(
        "Refunds",
        "2026-03-02",
        "hash",
        "CNY",
        (
            Table(
                "reasons",
                "Refunds",
                ("Reason", "Amount"),
                tuple((text, Money(-1250)) for text in evil),
            ),
        ),
    )
    rows = list(
        csv.reader(export(doc, "csv", tmp_path / "r.csv").read_text("utf-8-sig").splitlines())
    )
    body = [r for r in rows if len(r) == 2][1:]
    assert [r[0] for r in body] == ["'" + text for text in evil]
    assert {r[1] for r in body} == {"-12.50"}
    ws = load_workbook(export(doc, "xlsx", tmp_path / "r.xlsx")).active
    cells = [ws.cell(row=3 + i, column=1) for i in range(len(evil))]
    assert [c.value for c in cells] == evil and {c.data_type for c in cells} == {"s"}
    assert ws.cell(row=3, column=2).value == Decimal("-12.50")
