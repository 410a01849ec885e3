"""One terminal of the fault run, as its own process (so it can be killed):
sells until the store holds `target` paid sales while its sync worker
pushes in the background, then syncs until the server acknowledges every
entry, and prints DONE. Started again after a kill, it carries on."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from pos.clock import SystemClock
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import Terminal
from sync.client import SyncClient, status
from sync.worker import SyncWorker


def barcodes_of(terminal: Terminal) -> list[str]:
    with terminal.db.read() as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT b.barcode FROM product_barcodes b JOIN products p ON p.sku = b.sku "
                "WHERE p.active = 1 AND p.sold_by_weight = 0 ORDER BY b.barcode"
            )
        ]


def sell_one(services: TerminalServices, rng: random.Random, barcodes: list[str]) -> None:
    """One cash sale of one or two items, paid exactly or with change."""
    order = services.checkout.new_order("cashier-1")
    for code in rng.sample(barcodes, rng.randint(1, 2)):
        services.checkout.add_item(order.order_id, code, 1, None)
    due = services.checkout.get(order.order_id).order.remaining
    services.checkout.pay_cash(order.order_id, due + Money(rng.choice([0, 100])))


def until_acknowledged(terminal: Terminal, worker: SyncWorker) -> None:
    """Keeps the worker syncing until the server holds every journal entry."""
    while True:
        st = status(terminal)
        with terminal.db.read() as conn:
            last = conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
        if st.backlog == 0 and st.server_hwm == last:
            return
        worker.nudge()
        time.sleep(0.2)


def main(data_dir: str, target: int, seed: int) -> int:
    services = TerminalServices.open(Path(data_dir), SystemClock())
    terminal = services.terminal
    rng = random.Random(seed * 7919 + int(time.time()))
    barcodes = barcodes_of(terminal)
    with terminal.db.read() as conn:
        paid = conn.execute("SELECT count(*) FROM orders WHERE state = 'paid'").fetchone()[0]
    worker = SyncWorker(
        lambda: SyncClient.for_terminal(terminal, {}, timeout=2.0),
        interval=0.3,
        base_backoff=0.05,
        max_backoff=1.0,
        rng=rng,
    )
    worker.start()
    while paid < target:
        sell_one(services, rng, barcodes)
        paid += 1
        if paid % 25 == 0:
            worker.nudge()
    until_acknowledged(terminal, worker)
    worker.stop()
    services.close()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
