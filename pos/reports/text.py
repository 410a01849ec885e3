"""Tables as plain text: the command line's output and the printed report slip.

A table that fits the width is drawn in columns; one that does not (a receipt
printer's 42 columns) is drawn a row at a time, each figure under its header.
"""

from __future__ import annotations

from pos.receipt import columns, pad, text_width, wrap
from pos.reports.tables import Table, TableDoc, cell_text


def _table_lines(table: Table, width: int) -> list[str]:
    body = [*table.rows, *([table.totals] if table.totals is not None else [])]
    cells = [[cell_text(c) for c in row] for row in body]
    widths = [
        max(text_width(h), *(text_width(r[i]) for r in cells)) for i, h in enumerate(table.headers)
    ]
    out = [*wrap(table.title, width), "=" * min(width, text_width(table.title) + 2)]
    if sum(widths) + 2 * (len(widths) - 1) <= width:

        def line(values: list[str] | tuple[str, ...]) -> str:
            parts = [
                pad(v, w, "left" if i == 0 else "right")
                for i, (v, w) in enumerate(zip(values, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        out.append(line(table.headers))
        out.append("-" * min(width, sum(widths) + 2 * (len(widths) - 1)))
        out += [line(r) for r in cells[: len(table.rows)]]
        if table.totals is not None:
            out.append("-" * min(width, sum(widths) + 2 * (len(widths) - 1)))
            out.append(line(cells[-1]))
        return out
    for row in cells:
        values = [(h, v) for h, v in zip(table.headers[1:], row[1:], strict=True) if v]
        if len(values) == 1 and text_width(row[0]) + text_width(values[0][1]) < width:
            out.append(columns(row[0], values[0][1], width))
            continue
        out += wrap(row[0], width)
        narrow = min(width, 64)  # label and value stay close enough to read across
        for header, value in values:
            for part in wrap(value, narrow - 2) if text_width(value) > narrow - 2 else [value]:
                out.append(columns(f"  {header}", part, narrow))
    return out


def render_doc(doc: TableDoc, width: int = 80) -> str:
    lines = [doc.title, doc.subtitle, ""]
    for table in doc.tables:
        lines += _table_lines(table, width)
        lines.append("")
    lines.append(doc.note)
    return "\n".join(lines) + "\n"
