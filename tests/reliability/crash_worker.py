"""A till ringing up cash sales as fast as it can, saying each one it has
committed; the crash test kills it with SIGKILL at random moments."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from pos.clock import SystemClock
from pos.money import Money
from pos.services.terminal_services import TerminalServices

SKUS = ["DRK-001", "DRK-002", "SNK-001", "SNK-010", "DLY-005", "FRS-001"]


def main(data_dir: str, seed: int) -> None:
    rng = random.Random(seed)
    services = TerminalServices.open(Path(data_dir), SystemClock())
    co = services.checkout
    out = sys.stdout
    while True:
        order = co.new_order("c1")
        for _ in range(rng.randint(1, 3)):
            co.add_item(order.order_id, rng.choice(SKUS), rng.randint(1, 3))
        remaining = co.get(order.order_id).order.remaining
        if rng.random() < 0.3 and remaining.minor > 100:
            co.take_tender(order.order_id, _alipay(remaining))
        done = co.pay_cash(order.order_id, Money(10_000_00))
        out.write(f"COMMITTED {order.order_id} {done.receipt_no} {done.order.total.minor}\n")
        out.flush()


def _alipay(remaining: Money):  # type: ignore[no-untyped-def]
    from pos.order.tenders import Tender

    return Tender("alipay", Money(remaining.minor // 2), reference="A")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
