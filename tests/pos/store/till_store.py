"""A till with real sales for the integrity tests: provisioned, catalog
imported, a manager and a cashier, `n` cash sales. Built once and copied."""

from __future__ import annotations

import contextlib
import io
import random
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

from pos.cli.main import main
from pos.clock import SystemClock
from pos.money import Money
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store import keys
from pos.store.db import Connection, connect
from pos.store.terminal import DB_FILE, provision

ROOT = Path(__file__).resolve().parents[3]
SKUS = ["DRK-001", "DRK-002", "SNK-001", "SNK-010", "DLY-005", "FRS-001"]
MANAGER_PIN = "7391"


def build(
    data_dir: Path, sales: int, seed: int = 1, keystore: str = "demo", terminal_id: str = "T01"
) -> None:
    terminal = provision(data_dir, keystore, "S001", terminal_id, SystemClock())
    services = TerminalServices.wrap(terminal)
    try:
        products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
        import_products(
            terminal.db, terminal.journal, terminal.clock, products, replace=True, source="demo"
        )
        services.users.add("boss", "Li Na", "manager", MANAGER_PIN)
        services.users.add("c1", "Zhang Wei", "cashier", "2580")
        sell(services, sales, seed)
    finally:
        services.close()


def sell(services: TerminalServices, sales: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    co = services.checkout
    receipts = []
    for _ in range(sales):
        order = co.new_order("c1")
        for _ in range(rng.randint(1, 3)):
            co.add_item(order.order_id, rng.choice(SKUS), rng.randint(1, 3))
        done = co.pay_cash(order.order_id, Money(100_00 * 100))
        assert done.receipt_no is not None
        receipts.append(done.receipt_no)
    return receipts


def copy_till(src: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def raw_connection(data_dir: Path) -> Connection:
    """A keyed connection outside the program, as someone holding the key would use."""
    key = keys.DemoKeyStore(data_dir).get(keys.DB_KEY)
    assert key is not None
    return connect(data_dir / DB_FILE, key, "rw", 5000)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    traceback: str = ""


def run_pos(data_dir: Path, *args: str) -> Outcome:
    """`pos --data-dir DIR ARGS...` in this process, as the command line runs it.
    Any exception escaping main() is a traceback a person would have seen."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--lang", "en", "--data-dir", str(data_dir), *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    except BaseException:
        return Outcome(-1, out.getvalue(), err.getvalue(), traceback.format_exc())
    return Outcome(code, out.getvalue(), err.getvalue())


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x10]))
