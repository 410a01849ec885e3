"""Kill a till mid-stream, many times, at random moments: every sale it said
was committed is there, none is half there, and the store and journal check out."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("POS_CRASH_KILLS", "25"))


def _provision(data_dir: Path) -> None:
    terminal = provision(data_dir, "demo", "S001", "T01", SystemClock())
    services = TerminalServices.wrap(terminal)
    t = services.terminal
    products = read_catalog_file(ROOT / "assets" / "demo_catalog.csv", "CNY")
    import_products(t.db, t.journal, t.clock, products, replace=True, source="demo")
    services.users.add("c1", "Zhang Wei", "manager", "7391")
    services.close()


def _run_and_kill(data_dir: Path, seed: int, after: float) -> list[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "reliability" / "crash_worker.py"),
            str(data_dir),
            str(seed),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # Wait until it is really selling, then kill it at a random moment.
    deadline = time.monotonic() + 30
    while not lines and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    time.sleep(after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(5)
    return [ln for ln in lines if ln.endswith("\n")]


def _check(data_dir: Path, committed: dict[str, tuple[str, int]]) -> None:
    services = TerminalServices.open(data_dir, SystemClock())
    try:
        report = services.verify()
        assert report.ok, report.summary()
        with services.terminal.db.read() as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
            paid = {
                r[0]: (r[1], r[2])
                for r in conn.execute(
                    "SELECT id, receipt_no, total_minor FROM orders WHERE state = 'paid'"
                )
            }
            # Every paid order is whole: its payments add up to its total.
            for oid, (_, total) in paid.items():
                taken = conn.execute(
                    "SELECT coalesce(sum(amount_minor), 0) FROM tenders"
                    " WHERE order_id = ? AND kind = 'payment'",
                    (oid,),
                ).fetchone()[0]
                assert taken == total, oid
            # An order still open may hold some tenders, never all of its total.
            for oid, total in conn.execute(
                "SELECT id, total_minor FROM orders WHERE state = 'open'"
            ):
                taken = conn.execute(
                    "SELECT coalesce(sum(amount_minor), 0) FROM tenders WHERE order_id = ?", (oid,)
                ).fetchone()[0]
                assert taken < total or total == 0
        for oid, (receipt_no, total) in committed.items():
            assert oid in paid, f"{oid} was reported committed but is not paid in the store"
            assert paid[oid] == (receipt_no, total)
    finally:
        services.close()


@pytest.mark.slow
def test_sales_reported_committed_survive_sigkill_at_random_points(tmp_path: Path) -> None:
    data_dir = tmp_path / "till"
    _provision(data_dir)
    rng = random.Random(20261124)
    committed: dict[str, tuple[str, int]] = {}
    for i in range(KILLS):
        lines = _run_and_kill(data_dir, seed=i, after=rng.uniform(0.0, 0.4))
        for line in lines:
            _, oid, receipt_no, total = line.split()
            committed[oid] = (receipt_no, int(total))
        _check(data_dir, committed)
    assert len(committed) > KILLS  # it really sold between kills
