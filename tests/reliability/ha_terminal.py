"""One terminal of the redundancy run, as its own process: sells `target`
cash sales at a till's pace while its sync worker pushes to whichever of the
server's URLs answers, writes every acknowledged high-water mark to
`acked` (so the run knows what was acknowledged before a failover), then
syncs until the server holds every entry, and prints DONE."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from pos.clock import SystemClock
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, SyncReport, status
from sync.worker import SyncWorker


def main(data_dir: str, target: int, seed: int) -> int:
    base = Path(data_dir)
    services = TerminalServices.open(base, SystemClock())
    terminal = services.terminal
    rng = random.Random(seed)
    with terminal.db.read() as conn:
        barcodes = [
            r[0]
            for r in conn.execute(
                "SELECT b.barcode FROM product_barcodes b JOIN products p ON p.sku = b.sku "
                "WHERE p.active = 1 AND p.sold_by_weight = 0 ORDER BY b.barcode"
            )
        ]

    def acked(report: SyncReport | None, exc: Exception | None) -> None:
        if report is not None:
            tmp = base / "acked.tmp"
            tmp.write_text(str(report.pushed.hwm))
            os.replace(tmp, base / "acked")
        if exc is not None:
            print(f"sync failed: {exc}", file=sys.stderr, flush=True)

    worker = SyncWorker(
        lambda: SyncClient.for_terminal(terminal, {}, timeout=3.0),
        interval=0.2,
        base_backoff=0.1,
        max_backoff=1.0,
        rng=rng,
        on_report=acked,
    )
    worker.start()
    for i in range(target):
        order = services.checkout.new_order("cashier-1")
        for code in rng.sample(barcodes, rng.randint(1, 2)):
            services.checkout.add_item(order.order_id, code, 1, None)
        due = services.checkout.get(order.order_id).order.remaining
        services.checkout.pay_cash(order.order_id, due + Money(rng.choice([0, 100])))
        worker.nudge()
        time.sleep(0.02)
        if i % 50 == 0:
            print(f"sold {i}", flush=True)
    while True:
        st = status(terminal)
        with terminal.db.read() as conn:
            last = conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
        if st.backlog == 0 and st.server_hwm == last:
            break
        worker.nudge()
        time.sleep(0.2)
    worker.stop()
    print(f"DONE {status(terminal).server_url}", flush=True)
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
