"""A terminal process killed (SIGKILL) after its payment request reached the
gateway and before the answer came back: at restart the open intent is
resolved by query, then cancel/reverse, and the shopper is charged at most once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.payments.channel import ChannelEnv, PaymentStatus
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.server import SandboxServer
from pos.payments.settings import load_payments_config
from pos.store.terminal import open_terminal, provision
from tests.pos.payments.conftest import AUTH_CODES

CHILD = """
import sys
from pathlib import Path
from pos.clock import SystemClock
from pos.money import Money
from pos.payments.channel import ChannelEnv, PaymentMode
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter
from pos.payments.settings import load_payments_config
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
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), channel, mode, auth],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while not sandbox.state.view():
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
                assert time.monotonic() < deadline, "the request never reached the gateway"
                time.sleep(0.05)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
        assert child.returncode == -signal.SIGKILL

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
