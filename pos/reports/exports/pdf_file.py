"""PDF: one page per table (a long table continues on the next page with its
headings repeated), in a CJK-capable font so Chinese names print as they are.

The font is Noto Sans CJK SC from Debian's fonts-noto-cjk (a TrueType
collection; face 2 is Simplified Chinese), or WenQuanYi Micro Hei from
fonts-wqy-microhei; POS_REPORT_FONT names another TTF/OTF/TTC file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from pos.errors import PosError
from pos.messages import msg
from pos.money import Money
from pos.receipt import text_width
from pos.reports.tables import Cell, Rate, Table, TableDoc, cell_text

# (regular, bold, face index in the collection)
_FONTS: tuple[tuple[str, str, int], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        2,
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "", 0),
)
FAMILY = "report-cjk"


def find_font() -> tuple[str, str, int]:
    env = os.environ.get("POS_REPORT_FONT")
    if env:
        if not Path(env).is_file():
            raise PosError(msg("reports.pdf.font_missing", path=env))
        return env, "", 0
    for regular, bold, index in _FONTS:
        if Path(regular).is_file():
            return regular, bold if bold and Path(bold).is_file() else "", index
    raise PosError(msg("reports.pdf.no_cjk_font"))


class _ReportPdf(FPDF):
    def __init__(self, heading: str, footer_note: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.heading = heading
        self.footer_note = footer_note
        regular, bold, index = find_font()
        self.add_font(FAMILY, "", regular, collection_font_number=index)
        self.add_font(FAMILY, "B", bold or regular, collection_font_number=index)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font(FAMILY, "B", 9)
        self.set_text_color(90)
        self.cell(0, 6, self.heading, align="L")
        self.ln(8)
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(110)
        self.cell(0, 4, self.footer_note, align="L")
        self.cell(0, 4, f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def _widths(table: Table, page_width: float) -> list[float]:
    """Column widths in proportion to what the column holds; a heading may
    wrap between its words, a value never."""
    body = list(table.rows) + ([table.totals] if table.totals else [])
    need = [
        max(
            6,
            *(text_width(word) for word in table.headers[i].split()),
            *(text_width(_text(r[i])) + 1 for r in body),
        )
        for i in range(len(table.headers))
    ]
    scale = page_width / sum(need)
    return [n * scale for n in need]


def _page(pdf: _ReportPdf, doc: TableDoc, table: Table) -> None:
    pdf.add_page(orientation="landscape" if len(table.headers) > 6 else "portrait")
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 9, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 6, doc.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    numeric = [
        any(isinstance(r[i], Money | Rate | int) for r in table.rows if len(r) > i)
        or (table.totals is not None and isinstance(table.totals[i], Money | int))
        for i in range(len(table.headers))
    ]
    align = tuple("RIGHT" if n else "LEFT" for n in numeric)
    font_size = 9 if len(table.headers) <= 4 else 8
    pdf.set_font(FAMILY, "", font_size)
    with pdf.table(
        col_widths=tuple(_widths(table, pdf.epw)),
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=(221, 231, 240)),
        line_height=font_size * 0.6,
        borders_layout="HORIZONTAL_LINES",
        repeat_headings=1,
    ) as t:
        t.row(table.headers)
        for r in table.rows:
            t.row([_text(c) for c in r])
        if table.totals is not None:
            t.row([_text(c) for c in table.totals], style=FontFace(emphasis="BOLD"))


def _text(cell: Cell) -> str:
    """Amounts with thousands separators, as an accountant reads them on paper."""
    if isinstance(cell, Money):
        whole, _, frac = cell.amount_text().lstrip("-").partition(".")
        body = f"{int(whole):,}" + (f".{frac}" if frac else "")
        return ("-" if cell.minor < 0 else "") + body
    return cell_text(cell)


def write_pdf(doc: TableDoc, out: Path, progress: Callable[[int, int], None]) -> None:
    pdf = _ReportPdf(doc.title, doc.note)
    pdf.set_title(doc.title)
    pdf.set_creator("store-checkout")
    for i, table in enumerate(doc.tables, 1):
        _page(pdf, doc, table)
        progress(i, len(doc.tables))
    pdf.output(str(out))
