"""Report files an accountant opens as they are: CSV, XLSX, PDF."""

from __future__ import annotations

import errno
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from pos.errors import InvalidInput
from pos.messages import msg

if TYPE_CHECKING:
    from pos.reports.tables import TableDoc

FORMATS = ("csv", "xlsx", "pdf")

Progress = Callable[[int, int], None]


def export(doc: TableDoc, fmt: str, out: Path, progress: Progress | None = None) -> Path:
    """Write `doc` as `fmt` to `out` atomically: a half-written file never takes
    the place of a good one."""
    # The writers pull in fpdf2 and openpyxl: loaded when a file is written,
    # not every time the terminal starts.
    writers = {
        "csv": "csv_file:write_csv",
        "xlsx": "xlsx_file:write_xlsx",
        "pdf": "pdf_file:write_pdf",
    }
    out = Path(out)
    if out.is_dir():
        # Said about the path given, not the temporary file beside it.
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(out))
    if fmt not in writers:
        raise InvalidInput(msg("reports.export.format", fmt=fmt, formats=", ".join(FORMATS)))
    if not out.parent.is_dir():
        raise InvalidInput(msg("reports.export.no_folder", folder=str(out.parent)))
    tmp = out.with_name(f".{out.name}.part")
    try:
        module, name = writers[fmt].split(":")
        writer = getattr(import_module(f"pos.reports.exports.{module}"), name)
        writer(doc, tmp, progress or (lambda done, total: None))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
