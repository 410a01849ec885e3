"""A terminal process killed (SIGKILL) after its payment request reached the
gateway and before the answer came back: at restart the open intent is
resolved by query, then cancel/reverse, and the shopper is charged at most once.
Killed inside the sale's commit, after the channel confirmed: at restart the
payment is attached to its order, or refunded, and the shopper pays once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.payments.channel import ChannelEnv, PaymentStatus
from pos.payments.intents import IntentStore
from pos.payments.registry import open_router
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.server import SandboxServer
from pos.payments.settings import load_payments_config
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.payments import recover_payments
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import open_terminal, provision
from tests.pos.payments.conftest import AUTH_CODES
from tests.pos.services.conftest import DEMO_CATALOG

CHILD = """
import sys
from pathlib import Path
from pos.clock import SystemClock
from pos.money import Money
from pos.payments.channel import ChannelEnv, PaymentMode
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter
from pos.payments.settings import load_payments_config
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.payments import recover_payments
from pos.services.terminal_services import TerminalServices
from pos.payments.alipay.channel import AlipayChannel
from pos.payments.wechat.channel import WechatChannel

data_dir, channel, mode, auth = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] or None
from pos.store.terminal import open_terminal
clock = SystemClock()
terminal = open_terminal(data_dir, clock)
factory = {"alipay": AlipayChannel, "wechat": WechatChannel}[channel]
ch = factory(ChannelEnv(channel, load_payments_config(data_dir)[channel], data_dir, clock))
router = PaymentRouter(IntentStore(terminal.db, clock, terminal.journal), {channel: ch}, clock)

class Quiet:
    def show_qr(self, payload): pass
    def status(self, notice): pass
    def cancel_requested(self): return False

router.pay("ORDER-1", channel, Money(1234), PaymentMode(mode), Quiet(), auth_code=auth)
print("returned", flush=True)
"""


def kill_when(argv: list[str], ready: Callable[[subprocess.Popen[bytes]], None]) -> None:
    """Run `python -c argv...` and SIGKILL it once `ready` returns."""
    child = subprocess.Popen(
        [sys.executable, "-c", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        ready(child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL


def channels_for(data_dir: Path, clock: SystemClock):
    from pos.payments.alipay.channel import AlipayChannel
    from pos.payments.wechat.channel import WechatChannel

    cfg = load_payments_config(data_dir)
    return {
        "alipay": AlipayChannel(ChannelEnv("alipay", cfg["alipay"], data_dir, clock)),
        "wechat": WechatChannel(ChannelEnv("wechat", cfg["wechat"], data_dir, clock)),
    }


@pytest.mark.parametrize(
    ("channel", "mode", "expected"),
    [
        ("alipay", "payment_code", PaymentStatus.SUCCEEDED),
        ("wechat", "payment_code", PaymentStatus.SUCCEEDED),
        ("alipay", "qr", PaymentStatus.CLOSED),
        ("wechat", "qr", PaymentStatus.CLOSED),
    ],
)
def test_killed_between_send_and_result_is_resolved_at_restart(tmp_path, channel, mode, expected):
    clock = SystemClock()
    data_dir = tmp_path / "terminal"
    provision(data_dir, "demo", "S001", "T-CRASH", clock).close()
    with SandboxServer(data_dir, clock=clock) as sandbox:
        write_terminal_config(
            data_dir,
            sandbox.keys.terminal_config(
                sandbox.base_url, timeout=60.0, poll_interval=1.0, payment_timeout=60.0
            ),
        )
        # The gateway acts on the request, then never answers in time.
        sandbox.state.set_scenario(
            {
                "pay_after": 0,
                "outcome": "never" if mode == "qr" else "pay",
                "faults": [{"kind": "timeout", "op": "start", "delay": 120}],
            }
        )
        auth = AUTH_CODES[channel] if mode == "payment_code" else ""

        def reached_the_gateway(child: subprocess.Popen[bytes]) -> None:
            deadline = time.monotonic() + 60
            while not sandbox.state.view():
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
                assert time.monotonic() < deadline, "the request never reached the gateway"
                time.sleep(0.05)

        kill_when([CHILD, str(data_dir), channel, mode, auth], reached_the_gateway)

        terminal = open_terminal(data_dir, clock)
        try:
            intents = IntentStore(terminal.db, clock, terminal.journal)
            (left_open,) = intents.open_payments()
            assert left_open.sent and left_open.order_id == "ORDER-1"
            router = PaymentRouter(intents, channels_for(data_dir, clock), clock)
            report = router.recover()
            assert [i.status for i in report.resolved] == [expected]
            assert intents.open_payments() == []
            (trade,) = sandbox.state.view()
            assert trade["charged"] == (1234 if expected == PaymentStatus.SUCCEEDED else 0)
            assert terminal.verify_journal().ok
        finally:
            terminal.close()


COMMIT_CHILD = """
import sys, time
from pathlib import Path
from pos.payments.channel import PaymentMode
from pos.payments.registry import open_router
from pos.services.payments import record_payment
from pos.services.terminal_services import TerminalServices

data_dir, order_id, channel, auth = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
services = TerminalServices.open(data_dir)
router, _ = open_router(services.terminal)

class Quiet:
    def show_qr(self, payload): pass
    def status(self, notice): pass
    def cancel_requested(self): return False

total = services.checkout.get(order_id).order.total
outcome = router.pay(order_id, channel, total, PaymentMode.PAYMENT_CODE, Quiet(), auth_code=auth)
assert outcome.paid, outcome.intent.status

def stop_inside_the_commit(conn, order, stored):
    # Runs inside the sale's transaction, after the tender row and journal entry.
    print("committing", flush=True)
    time.sleep(600)

services.checkout.paid_hooks.append(stop_inside_the_commit)
record_payment(services.checkout, order_id, outcome.intent, outcome)
print("committed", flush=True)
"""


@pytest.mark.parametrize(
    ("channel", "after_restart", "charged_after"),
    [("alipay", "recover", "total"), ("wechat", "cash", 0)],
)
def test_killed_inside_the_sale_commit_charges_the_shopper_once(
    tmp_path, channel, after_restart, charged_after
):
    clock = SystemClock()
    data_dir = tmp_path / "till"
    with TerminalServices.wrap(provision(data_dir, "demo", "S001", "T-KILL", clock)) as services:
        t = services.terminal
        import_products(
            t.db, t.journal, clock, read_catalog_file(DEMO_CATALOG, "CNY"), replace=True, source="t"
        )
        order_id = services.checkout.new_order("c1").order_id
        services.checkout.add_item(order_id, "DRK-004")
        total = services.checkout.get(order_id).order.total
    with SandboxServer(data_dir, clock=clock) as sandbox:
        write_terminal_config(
            data_dir, sandbox.keys.terminal_config(sandbox.base_url, timeout=30.0)
        )

        def inside_the_commit(child: subprocess.Popen[bytes]) -> None:
            line = child.stdout.readline() if child.stdout else b""
            assert line == b"committing\n", child.stderr.read().decode() if child.stderr else ""

        kill_when(
            [COMMIT_CHILD, str(data_dir), order_id, channel, AUTH_CODES[channel]], inside_the_commit
        )
        (trade,) = sandbox.state.view()
        assert trade["charged"] == total.minor

        with TerminalServices.open(data_dir, clock) as services:
            left = services.checkout.get(order_id).order
            assert left.state.value == "open" and left.tenders == ()
            if after_restart == "cash":
                services.checkout.pay_cash(order_id, total)
            router, _ = open_router(services.terminal)
            report = recover_payments(services, router)
            assert report.settled, report.problems
            paid = services.checkout.get(order_id).order
            assert paid.state.value == "paid"
            assert [t.channel for t in paid.tenders] == (
                ["cash"] if after_restart == "cash" else [channel]
            )
            (trade,) = sandbox.state.view()
            assert trade["charged"] == (total.minor if charged_after == "total" else 0)
            assert services.verify().ok
