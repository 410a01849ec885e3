"""Recovery never runs while another process (or window) on the same terminal
is taking a payment, and a payment is not started while recovery runs; a
process that dies lets go of its claim."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from pos.errors import NotAllowed
from pos.money import Money
from pos.payments.channel import PaymentMode, PaymentStatus
from pos.payments.live import recovering, taking_payment
from pos.services.payments import recover_payments
from tests.pos.payments.conftest import open_order

HOLDER = """
import sys, time
from pathlib import Path
from pos.payments.live import taking_payment
with taking_payment(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_recovery_leaves_a_live_payment_alone(services, router, sandbox):
    sandbox.state.set_scenario({"outcome": "never"})
    order_id = open_order(services, "DRK-001")
    intent = router.intents.mark_sent(router.open(order_id, "alipay", Money(350), PaymentMode.QR))
    data_dir = services.terminal.data_dir

    with taking_payment(data_dir), pytest.raises(NotAllowed, match="being taken"):
        recover_payments(services, router)

    assert router.intents.payment(intent.intent_id).status is PaymentStatus.PENDING
    report = recover_payments(services, router)  # once the payment is no longer live
    assert [i.status for i in report.channels.resolved] == [PaymentStatus.CLOSED]


def test_payments_run_side_by_side_but_not_during_recovery(tmp_path):
    with taking_payment(tmp_path), taking_payment(tmp_path):
        pass  # two windows taking payments at once
    with (
        recovering(tmp_path),
        pytest.raises(NotAllowed, match="being settled"),
        taking_payment(tmp_path),
    ):
        pass


def test_a_killed_till_does_not_keep_recovery_out(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"held\n"
        with pytest.raises(NotAllowed), recovering(tmp_path):
            pass
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with recovering(tmp_path):
        pass
