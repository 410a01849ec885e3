"""Report files an accountant opens as they are: CSV, XLSX, PDF."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pos.errors import InvalidInput
from pos.reports.exports.csv_file import write_csv
from pos.reports.exports.pdf_file import write_pdf
from pos.reports.exports.xlsx_file import write_xlsx
from pos.reports.tables import TableDoc

FORMATS = ("csv", "xlsx", "pdf")

Progress = Callable[[int, int], None]


def export(doc: TableDoc, fmt: str, out: Path, progress: Progress | None = None) -> Path:
    """Write `doc` as `fmt` to `out` atomically: a half-written file never takes
    the place of a good one."""
    writers = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}
    if fmt not in writers:
        raise InvalidInput(f"unknown report format {fmt!r}", f"Use one of {', '.join(FORMATS)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise InvalidInput(
            f"folder {out.parent} does not exist", "Create it or choose another --out."
        )
    tmp = out.with_name(f".{out.name}.part")
    try:
        writers[fmt](doc, tmp, progress or (lambda done, total: None))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
