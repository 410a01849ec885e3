"""The command line when the gateway tears the connection: `pos sale --pay
alipay` comes back quickly with the order id and the next step, `pos order
pay ORDER --pay cash` completes the sale, and the attempt the till let go of
ends closed or given back at the sandbox. The real `pos` program in its own
process, the sandbox gateway over HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from pos.clock import SystemClock
from pos.events import Event
from pos.store.terminal import open_terminal
from tests.pos.services.conftest import CASHIER_PIN

# The terminal with the demo catalogue, a cashier and the sandbox gateways.
from tests.pos.services.test_cli_payments import keys_dir, till  # noqa: F401

SALE_LIMIT_S = 15.0


def pos(data: Path, *argv: str) -> tuple[int, str, str, float]:
    env = dict(os.environ, POS_CASHIER_PIN=CASHIER_PIN, POS_LANG="en")
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pos.cli.main", "--data-dir", str(data), "--lang", "en", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - began


def test_torn_qr_sale_returns_quickly_and_cash_completes_it(till) -> None:  # noqa: F811
    data, server = till
    # Alipay creates the trade, and the answer is lost on the way back.
    server.state.set_scenario({"faults": [{"kind": "torn", "op": "start", "after": True}]})
    code, out, err, seconds = pos(
        data, "sale", "--cashier", "c1", "--item", "DRK-001:2", "--pay", "alipay"
    )
    print(f"\ntorn: pos sale returned in {seconds:.1f} s")
    assert seconds < SALE_LIMIT_S, (seconds, err)
    assert code != 0
    found = re.search(r"Order (\S+?):", err)
    assert found, err
    order_id = found.group(1)
    assert f"pos order pay {order_id} --pay cash" in err  # the next step, named
    assert "Traceback" not in err

    server.state.set_scenario({})  # the gateway is well again
    code, out, err, _ = pos(
        data, "--json", "order", "pay", order_id, "--cashier", "c1", "--pay", "cash"
    )
    assert code == 0, err
    sale = json.loads(out)
    assert sale["state"] == "paid" and sale["receipt_no"]

    # The attempt let go of ends closed (or given back) at the sandbox: charged nothing.
    trades = server.state.view()
    assert len(trades) == 1
    assert trades[0]["state"] == "closed" and trades[0]["charged"] == 0
    terminal = open_terminal(data, SystemClock())
    try:
        with terminal.db.read() as conn:
            row = conn.execute(
                "SELECT status, released FROM payment_intents WHERE order_id = ?", (order_id,)
            ).fetchone()
            ends = conn.execute(
                "SELECT count(*) FROM journal WHERE type = ?", (Event.PAYMENT_RELEASED_SETTLED,)
            ).fetchone()[0]
    finally:
        terminal.close()
    assert tuple(row) == ("closed", 1)
    assert ends == 1


def test_a_gateway_that_stops_answering_holds_no_command_and_is_settled_later(till) -> None:  # noqa: F811
    data, server = till
    server.state.set_scenario(
        {"faults": [{"kind": "timeout", "op": "*", "times": 1000, "after": False, "delay": 60}]}
    )
    code, _, err, seconds = pos(
        data, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "alipay"
    )
    print(f"\nno answer: pos sale returned in {seconds:.1f} s")
    assert seconds < SALE_LIMIT_S, (seconds, err)
    found = re.search(r"Order (\S+?):", err)
    assert code != 0 and found, err
    order_id = found.group(1)
    assert f"pos order pay {order_id} --pay cash" in err

    code, out, err, seconds = pos(
        data, "--json", "order", "pay", order_id, "--cashier", "c1", "--pay", "cash"
    )
    assert code == 0, err
    print(f"no answer: pos order pay --pay cash returned in {seconds:.1f} s")
    assert seconds < SALE_LIMIT_S, (seconds, err)
    assert json.loads(out)["state"] == "paid"
    assert "still have no answer" in err  # and says who finishes them

    # The gateway answers again: the next command that loads the channel
    # (here a manager's recover) finishes the attempt.
    server.state.reset()
    code, _, err, _ = pos(data, "payment", "recover")
    assert code == 0, err
    terminal = open_terminal(data, SystemClock())
    try:
        with terminal.db.read() as conn:
            (status,) = conn.execute(
                "SELECT status FROM payment_intents WHERE order_id = ?", (order_id,)
            ).fetchone()
    finally:
        terminal.close()
    assert status == "closed"
    assert all(t["charged"] == 0 for t in server.state.view())
