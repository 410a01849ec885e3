"""The kiosk when a payment goes wrong: the shopper is told in their words,
the attendant is called (through the attendant port), and a cart whose money
is uncertain is held: no idle reset, no clearing, until the attendant comes."""

from __future__ import annotations

import pytest

from pos.auth import Approval, Role
from pos.clock import FakeClock
from pos.flows import CheckoutFlow, FlowError, KioskConfig, KioskSession, KioskState
from pos.flows.kiosk import TickAction
from pos.flows.views import Outcome, TenderResult
from tests.pos.flows.flow_fakes import FakeCatalog, FakeCheckout, FakePayments
from tests.pos.flows.test_kiosk_flow import COLA, KIOSK


class Attendant:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.came = 0
        self.uncertain = True

    def call_attendant(self, reason: str, order_id: str = "") -> None:
        self.calls.append((reason, order_id))

    def attendant_came(self) -> None:
        self.came += 1

    def money_uncertain(self, order_id: str) -> bool:
        return self.uncertain


@pytest.fixture
def attendant() -> Attendant:
    return Attendant()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def kiosk(
    checkout: FakeCheckout, payments: FakePayments, clock: FakeClock, attendant: Attendant
) -> KioskSession:
    flow = CheckoutFlow(KIOSK, checkout, FakeCatalog(), payments, mode="kiosk")
    config = KioskConfig(idle_timeout_s=60, warning_s=15)
    return KioskSession(flow, clock, config, attendant)


def _result(kiosk: KioskSession, status: Outcome, released: bool) -> TenderResult:
    order = kiosk.checkout.order
    assert order is not None
    return TenderResult(status, order, released=released)


def test_an_unknown_payment_holds_the_cart_for_the_attendant(
    kiosk: KioskSession, clock: FakeClock, attendant: Attendant
) -> None:
    kiosk.touch()
    order_id = kiosk.checkout.scan(COLA).order_id
    kiosk.paying()
    failure = kiosk.payment_failed(_result(kiosk, Outcome.UNKNOWN, released=True))
    assert failure is not None and failure.holds_cart
    assert "do not pay again" in failure.text.render("en")
    assert "请不要重复付款" in failure.text.render("zh_CN")
    assert attendant.calls == [("payment_unknown", order_id)]
    clock.advance(600)
    assert kiosk.tick().action is TickAction.NONE  # never dropped by the idle timer
    with pytest.raises(FlowError):
        kiosk.reset()
    assert kiosk.checkout.order is not None and kiosk.state is KioskState.SHOPPING
    kiosk.override(Approval("boss", Role.MANAGER, "attendant came"))
    assert not kiosk.held and attendant.came == 1


def test_the_hold_ends_when_the_background_has_settled_the_money(
    kiosk: KioskSession, attendant: Attendant
) -> None:
    kiosk.touch()
    kiosk.checkout.scan(COLA)
    kiosk.payment_failed(_result(kiosk, Outcome.UNKNOWN, released=True))
    assert kiosk.refresh_held()
    attendant.uncertain = False
    assert not kiosk.refresh_held()


def test_a_failed_payment_tells_the_shopper_and_calls_the_attendant_without_holding(
    kiosk: KioskSession, attendant: Attendant
) -> None:
    kiosk.touch()
    kiosk.checkout.scan(COLA)
    failure = kiosk.payment_failed(_result(kiosk, Outcome.FAILED, released=False))
    assert failure is not None and not failure.holds_cart and not kiosk.held
    assert "no money was taken" in failure.text.render("en")
    assert [r for r, _ in attendant.calls] == ["payment_failed"]


def test_the_shoppers_own_cancel_calls_nobody(kiosk: KioskSession, attendant: Attendant) -> None:
    kiosk.touch()
    kiosk.checkout.scan(COLA)
    failure = kiosk.payment_failed(_result(kiosk, Outcome.CANCELLED, released=False))
    assert failure is not None and "You cancelled" in failure.text.render("en")
    assert attendant.calls == []


def test_an_idle_reset_keeps_a_cart_whose_cancelled_payment_came_back_unknown(
    kiosk: KioskSession, attendant: Attendant
) -> None:
    kiosk.touch()
    kiosk.checkout.scan(COLA)
    kiosk.reset_pending = True  # the idle reset cancelled a running payment
    failure = kiosk.after_cancelled_payment(_result(kiosk, Outcome.UNKNOWN, released=True))
    assert failure is not None and kiosk.held
    assert kiosk.state is not KioskState.ATTRACT and kiosk.checkout.order is not None


def test_the_shoppers_call_is_journalled_through_the_port(
    kiosk: KioskSession, attendant: Attendant
) -> None:
    kiosk.touch()
    kiosk.call_attendant()
    assert attendant.calls == [("shopper", "")] and kiosk.attendant_called


