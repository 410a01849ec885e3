"""Opening a 300,000-product store (~400 MB): a command after a clean close
(no page pass: SQLCipher checks the pages it reads), a command after the file
changed outside the till (the whole-file page pass first), and the app (open
returns at once; the page pass runs in the background, sales held). The
baseline is the same command on the small demo store in the same run."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pos.app.till import TillOptions, open_till
from pos.clock import SystemClock
from pos.services.catalog_import import import_products
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import DB_FILE, provision
from tests.benchmarks.test_catalog_bench import _products
from tests.pos.store.till_store import build

RUNS = 5


def _provision_big(data: Path) -> None:
    with TerminalServices.wrap(provision(data, "demo", "S001", "T01", SystemClock())) as s:
        t = s.terminal
        import_products(t.db, t.journal, t.clock, _products(), replace=True, source="bench")
        s.users.add("c1", "Bench", "cashier", "2580")


def _sale(data: Path, sku: str, touch: bool) -> float:
    env = {**os.environ, "POS_DATA_DIR": str(data), "POS_CASHIER_PIN": "2580", "POS_LANG": "en"}
    argv = [sys.executable, "-m", "pos.cli.main", "sale", "--cashier", "c1", "--item", sku]
    if touch:
        os.utime(data / DB_FILE)  # written outside the till: the next open checks every page
    start = time.perf_counter()
    done = subprocess.run([*argv, "--pay", "cash"], env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return took


def test_a_large_store_opens_as_fast_as_a_small_one_after_a_clean_close(
    tmp_path: Path, record
) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    build(small, sales=0)  # the demo catalog, cashier c1 (PIN 2580)
    _provision_big(big)
    _sale(small, "DRK-001", touch=False)
    _sale(big, "SKU0000001", touch=False)
    small_s = statistics.median(_sale(small, "DRK-001", False) for _ in range(RUNS))
    big_clean = statistics.median(_sale(big, "SKU0000001", False) for _ in range(RUNS))
    big_changed = statistics.median(_sale(big, "SKU0000001", True) for _ in range(3))
    os.utime(big / DB_FILE)
    start = time.perf_counter()
    with open_till(big, TillOptions(background=True)) as till:
        app_open = time.perf_counter() - start
        check = till.terminal.store_check
        assert check is not None and check.wait(600) and check.state == "ok"
        app_checked = time.perf_counter() - start
    figures = {
        "store_mb": round((big / DB_FILE).stat().st_size / 1e6, 1),
        "small_store_cash_sale_s": round(small_s, 3),
        "big_store_cash_sale_clean_s": round(big_clean, 3),
        "big_store_cash_sale_changed_s": round(big_changed, 3),
        "app_open_changed_s": round(app_open, 3),
        "app_page_pass_done_s": round(app_checked, 3),
        "big_clean_x_small": round(big_clean / small_s, 2),
        "load_1m": round(os.getloadavg()[0], 2),
    }
    record("store_open", figures)
    if os.getloadavg()[0] < (os.cpu_count() or 1):
        assert big_clean / small_s < 1.5
