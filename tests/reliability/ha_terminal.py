"""One terminal of the redundancy run, as its own process: sells cash sales
at a till's pace (at least `target`, and until the run creates the file
`stop`) while its sync worker pushes to whichever of the server's URLs
answers, writes every acknowledged high-water mark to `acked` (so the run
knows what was acknowledged before a failover), then syncs until the server
holds every entry, and prints DONE."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

# Run as a script: the repository root makes the fault run's terminal importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pos.clock import SystemClock
from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, SyncReport, status
from sync.worker import SyncWorker
from tests.sync.fault_terminal import barcodes_of, sell_one, until_acknowledged


def main(data_dir: str, target: int, seed: int) -> int:
    base = Path(data_dir)
    services = TerminalServices.open(base, SystemClock())
    terminal = services.terminal
    rng = random.Random(seed)
    barcodes = barcodes_of(terminal)

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
    sold = 0
    while sold < target or not (base / "stop").exists():
        sell_one(services, rng, barcodes)
        sold += 1
        worker.nudge()
        time.sleep(0.02)
    until_acknowledged(terminal, worker)
    worker.stop()
    print(f"DONE {status(terminal).server_url}", flush=True)
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
