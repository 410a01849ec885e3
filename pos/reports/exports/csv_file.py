"""CSV: every table one after the other, each under its title, amounts as plain
decimals ("12.50"). UTF-8 with a byte-order mark, so spreadsheet programs read
the Chinese headers without being told the encoding. Text cells that start
like a formula are made inert (`inert_text`); amounts are not text cells."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from pos.reports.tables import Cell, TableDoc, cell_text, inert_text


def _csv_cell(cell: Cell) -> str:
    return inert_text(cell) if isinstance(cell, str) else cell_text(cell)


def write_csv(doc: TableDoc, out: Path, progress: Callable[[int, int], None]) -> None:
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([inert_text(doc.title)])
        w.writerow([inert_text(doc.subtitle)])
        for i, table in enumerate(doc.tables, 1):
            w.writerow([])
            w.writerow([inert_text(table.title)])
            w.writerow([inert_text(h) for h in table.headers])
            for row in table.rows:
                w.writerow([_csv_cell(c) for c in row])
            if table.totals is not None:
                w.writerow([_csv_cell(c) for c in table.totals])
            progress(i, len(doc.tables))
        w.writerow([])
        w.writerow([inert_text(doc.note)])
