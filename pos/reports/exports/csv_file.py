"""CSV: every table one after the other, each under its title, amounts as plain
decimals ("12.50"). UTF-8 with a byte-order mark, so spreadsheet programs read
the Chinese headers without being told the encoding."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from pos.reports.tables import TableDoc, cell_text


def write_csv(doc: TableDoc, out: Path, progress: Callable[[int, int], None]) -> None:
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([doc.title])
        w.writerow([doc.subtitle])
        for i, table in enumerate(doc.tables, 1):
            w.writerow([])
            w.writerow([table.title])
            w.writerow(table.headers)
            for row in table.rows:
                w.writerow([cell_text(c) for c in row])
            if table.totals is not None:
                w.writerow([cell_text(c) for c in table.totals])
            progress(i, len(doc.tables))
        w.writerow([])
        w.writerow([doc.note])
