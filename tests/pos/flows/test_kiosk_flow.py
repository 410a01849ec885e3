from __future__ import annotations

import threading

import pytest

from pos.clock import FakeClock
from pos.flows import CheckoutFlow, CheckoutState, FlowError, KioskConfig, KioskSession, KioskState
from pos.flows.kiosk import TickAction
from pos.flows.views import Outcome, Role
from tests.pos.flows.flow_fakes import (
    MANAGER_OK,
    Events,
    FakeCatalog,
    FakeCheckout,
    FakePayments,
    Session,
)

COLA = "6901234567892"
KIOSK = Session("kiosk-1", "Kiosk 1", Role.CASHIER)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def kiosk(checkout: FakeCheckout, payments: FakePayments, clock: FakeClock) -> KioskSession:
    flow = CheckoutFlow(KIOSK, checkout, FakeCatalog(), payments, mode="kiosk")
    return KioskSession(flow, clock, KioskConfig(idle_timeout_s=60, warning_s=15, thanks_s=5))


def test_touch_leaves_the_attract_screen(kiosk: KioskSession) -> None:
    assert kiosk.state is KioskState.ATTRACT
    kiosk.touch()
    assert kiosk.state is KioskState.SHOPPING


def test_idle_shopper_is_warned_then_the_cart_is_voided(
    kiosk: KioskSession, checkout: FakeCheckout, clock: FakeClock
) -> None:
    kiosk.touch()
    kiosk.set_locale("en")
    order_id = kiosk.checkout.scan(COLA).order_id
    clock.advance(44)
    assert kiosk.tick().action is TickAction.NONE
    clock.advance(2)
    tick = kiosk.tick()
    assert tick.action is TickAction.WARN and tick.seconds_left == 14
    clock.advance(14)
    assert kiosk.tick().action is TickAction.RESET
    kiosk.reset()
    assert kiosk.state is KioskState.ATTRACT and kiosk.locale == "zh_CN"
    assert checkout.orders[order_id].state == "voided"
    assert kiosk.checkout.state is CheckoutState.EMPTY


def test_a_touch_during_the_warning_keeps_the_cart(kiosk: KioskSession, clock: FakeClock) -> None:
    kiosk.touch()
    kiosk.checkout.scan(COLA)
    clock.advance(50)
    assert kiosk.tick().action is TickAction.WARN
    kiosk.touch()
    assert kiosk.tick().action is TickAction.NONE


def test_idle_reset_cancels_the_open_payment_at_the_gateway(
    kiosk: KioskSession, checkout: FakeCheckout, payments: FakePayments, clock: FakeClock
) -> None:
    kiosk.touch()
    order_id = kiosk.checkout.scan(COLA).order_id
    tender = kiosk.checkout.start_tender()
    kiosk.paying()
    tender.prepare("alipay", "qr")
    release = threading.Event()
    payments.wait_for_cancel = release
    events = Events()
    results = []
    worker = threading.Thread(target=lambda: results.append(tender.run(events)))
    worker.start()
    while not events.statuses:
        release.wait(0.01)
    clock.advance(61)
    assert kiosk.tick().action is TickAction.RESET
    kiosk.reset()
    release.set()
    worker.join(5)
    assert results[0].status is Outcome.CANCELLED
    assert payments.cancelled_at_gateway == [order_id]
    kiosk.after_cancelled_payment()
    assert checkout.orders[order_id].state == "voided"
    assert kiosk.state is KioskState.ATTRACT


def test_thanks_screen_returns_to_attract(kiosk: KioskSession, clock: FakeClock) -> None:
    kiosk.touch()
    kiosk.paid()
    clock.advance(4)
    assert kiosk.tick().action is TickAction.NONE
    clock.advance(1)
    assert kiosk.tick().action is TickAction.RESET


def test_locked_actions_need_an_attendant_override(kiosk: KioskSession, clock: FakeClock) -> None:
    kiosk.touch()
    kiosk.call_attendant()
    assert kiosk.attendant_called
    with pytest.raises(FlowError):
        kiosk.require_override()
    kiosk.override(MANAGER_OK)
    kiosk.require_override()
    assert not kiosk.attendant_called
    clock.advance(kiosk.config.override_s)
    with pytest.raises(FlowError):
        kiosk.require_override()


def test_idle_timer_does_not_run_on_the_attract_screen(
    kiosk: KioskSession, clock: FakeClock
) -> None:
    clock.advance(10_000)
    assert kiosk.tick().action is TickAction.NONE
