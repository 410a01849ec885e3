"""`pos` imports only what the command being run uses, and still names every
command for --help."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("escpos", "sync", "ui", "drivers", "PySide6", "httpx", "qrcode", "sqlalchemy", "openpyxl")


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from pos.cli.main import build_parser\n"
        f"build_parser({argv!r})\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_a_cash_sale_loads_no_printer_sync_ui_or_http_code():
    loaded = _imported_after(["--json", "sale", "--cashier", "c1", "--item", "X", "--pay", "cash"])
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_help_names_every_command_without_importing_them():
    loaded = _imported_after(["--help"])
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
    out = subprocess.run(
        [sys.executable, "-m", "pos.cli.main", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("sale", "order", "report", "risk", "print", "sync", "app", "demo"):
        assert f"    {command} " in out


def test_a_plug_in_command_is_registered_in_full_when_it_is_run():
    from pos.cli.main import build_parser

    args = build_parser(["--data-dir", "/x", "printer", "setup", "--printer", "tcp://h:9100"])
    parsed = args.parse_args(["--data-dir", "/x", "printer", "setup", "--printer", "tcp://h:9100"])
    assert parsed.width == 42 and callable(parsed.func)
