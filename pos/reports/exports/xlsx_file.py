"""XLSX: one sheet per table, with typed cells: counts are integers, amounts are
exact decimal numbers formatted to the currency's minor unit, rates are
percentages; the totals row is bold and computed (not a formula, so every
reader shows it without recalculating). No cell is a formula: a name or reason
that starts with "=" is kept as text."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pos.money import Money, exponent
from pos.receipt import text_width
from pos.reports.tables import Cell, Rate, TableDoc, cell_text

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", start_color="DDE7F0")
_TOP = Border(top=Side(style="thin"))


def _money_format(currency: str) -> str:
    exp = exponent(currency)
    return "#,##0" + ("." + "0" * exp if exp else "")


def _value(cell: Cell) -> str | int | Decimal | None:
    if isinstance(cell, Money):
        return cell.to_decimal()
    if isinstance(cell, Rate):
        return Decimal(cell.bp).scaleb(-4)
    return cell


def write_xlsx(doc: TableDoc, out: Path, progress: Callable[[int, int], None]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    money_fmt = _money_format(doc.currency)
    for i, table in enumerate(doc.tables, 1):
        ws = wb.create_sheet(table.title[:31])
        ws.append([f"{doc.title}  ·  {doc.subtitle}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(list(table.headers))
        for c in ws[2]:
            c.font, c.fill = _BOLD, _HEAD_FILL
            c.alignment = Alignment(horizontal="center")
        body = list(table.rows) + ([table.totals] if table.totals is not None else [])
        for row in body:
            ws.append([_value(c) for c in row])
            for cell, src in zip(ws[ws.max_row], row, strict=False):
                if isinstance(src, Money):
                    cell.number_format = money_fmt
                elif isinstance(src, Rate):
                    cell.number_format = "0.00%"
        if table.totals is not None:
            for c in ws[ws.max_row]:
                c.font, c.border = _BOLD, _TOP
        for col, header in enumerate(table.headers, 1):
            widest = max(
                [text_width(header)]
                + [text_width(cell_text(r[col - 1])) for r in body if len(r) >= col]
            )
            ws.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 10), 60)
        for cells in ws.iter_rows():
            for c in cells:
                if c.data_type == "f":  # openpyxl takes any text starting with "=" for a formula
                    c.data_type = "s"
        ws.freeze_panes = "A3"
        progress(i, len(doc.tables))
    wb.properties.title = doc.title
    wb.properties.description = doc.note
    wb.save(out)
