"""A whole cash sale (the store opened, the sale committed, the receipt
printed) loads none of what only other commands or other keystores need:
the keyring package (a demo keystore), the installed distributions' entry
points (cash is the core's own channel), the store commands and backups, the
old rule language's converter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pos.store.till_store import build

NOT_FOR_A_CASH_SALE = (
    "keyring",
    "importlib.metadata",
    "pos.cli.store",
    "pos.store.backup",
    "pos.risk.convert",
    "getpass",
    "platformdirs",
)


def test_a_cash_sale_loads_only_what_it_uses(tmp_path: Path) -> None:
    data = tmp_path / "till"
    build(data, sales=0)  # the demo catalog, cashier c1 (PIN 2580)
    code = (
        "import sys\n"
        "from pos.cli.main import main\n"
        "code = main(['sale', '--cashier', 'c1', '--item', 'DRK-001', '--pay', 'cash'])\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "POS_DATA_DIR": str(data), "POS_CASHIER_PIN": "2580", "POS_LANG": "en"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.splitlines()[-1].split())
    assert "pos.payments.cash" in loaded
    assert loaded.isdisjoint(NOT_FOR_A_CASH_SALE), loaded & set(NOT_FOR_A_CASH_SALE)
