"""Start-up recovery over the real router and the sandbox gateway: a payment the
gateway took but the till never recorded (a crash between the two) is added
to its sale, or given back when the sale no longer wants it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pos.flows.core import CoreServices
from pos.flows.views import Role, Session
from pos.money import Money
from pos.payments.alipay.channel import AlipayChannel
from pos.payments.channel import ChannelEnv, Notice, PaymentMode
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.server import SandboxServer
from pos.services.terminal_services import TerminalServices

COLA = "6901234000016"  # 3.50


class _Shopper:
    """Scans the QR as soon as it is shown."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox

    def show_qr(self, payload: str) -> None:
        self.sandbox.state.scan_now(None, None)

    def status(self, notice: Notice) -> None:
        pass

    def cancel_requested(self) -> bool:
        return False


@pytest.fixture
def sandbox(terminal_services: TerminalServices) -> Iterator[SandboxServer]:
    t = terminal_services.terminal
    with SandboxServer(t.data_dir, clock=t.clock) as server:
        yield server


@pytest.fixture
def router(terminal_services: TerminalServices, sandbox: SandboxServer) -> PaymentRouter:
    t = terminal_services.terminal
    cfg = sandbox.keys.terminal_config(sandbox.base_url, timeout=2.0, poll_interval=1.0)
    channel = AlipayChannel(ChannelEnv("alipay", cfg["alipay"], t.data_dir, t.clock))
    return PaymentRouter(IntentStore(t.db, t.clock, t.journal), {"alipay": channel}, t.clock)


def _paid_at_gateway_only(core: CoreServices, router: PaymentRouter, sandbox, amount: Money):  # type: ignore[no-untyped-def]
    session = Session("c1", "Zhang Wei", Role.CASHIER)
    order = core.new_order(session, "cashier")
    core.scan(order.order_id, COLA)
    intent = router.open(order.order_id, "alipay", amount, PaymentMode.QR)
    outcome = router.run(intent, _Shopper(sandbox))
    assert outcome.paid  # ... and here the till went down before recording it
    return order.order_id, outcome.intent


def test_payment_taken_before_a_crash_is_added_to_its_sale(
    terminal_services: TerminalServices, router: PaymentRouter, sandbox: SandboxServer
) -> None:
    core = CoreServices(terminal_services, router)
    order_id, _ = _paid_at_gateway_only(core, router, sandbox, Money(350))
    assert core.get(order_id).state == "open"
    notes = core.recover()
    assert len(notes) == 1 and "added" in notes[0].render("en")
    order = core.get(order_id)
    assert order.state == "paid" and order.tenders[0].channel == "alipay"
    assert core.recover() == []  # nothing is added twice
    assert terminal_services.verify().ok


def test_payment_that_no_longer_fits_its_sale_goes_back(
    terminal_services: TerminalServices, router: PaymentRouter, sandbox: SandboxServer
) -> None:
    core = CoreServices(terminal_services, router)
    order_id, intent = _paid_at_gateway_only(core, router, sandbox, Money(350))
    line = core.get(order_id).lines[0].line_id
    core.void_line(order_id, line)  # the sale changed meanwhile: nothing left to pay
    notes = core.recover()
    assert "went back" in notes[0].render("en")
    assert router.intents.refunded_total(intent, include_open=False) == Money(350)
    assert core.get(order_id).paid == Money(0)


def test_nothing_to_recover_without_payment_channels(terminal_services: TerminalServices) -> None:
    assert CoreServices(terminal_services).recover() == []
