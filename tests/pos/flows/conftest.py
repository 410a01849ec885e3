from __future__ import annotations

import pytest
from flow_fakes import CASHIER, Events, FakeCatalog, FakeCheckout, FakePayments

from pos.flows import CheckoutFlow


@pytest.fixture
def checkout() -> FakeCheckout:
    return FakeCheckout()


@pytest.fixture
def payments(checkout: FakeCheckout) -> FakePayments:
    return FakePayments(checkout)


@pytest.fixture
def flow(checkout: FakeCheckout, payments: FakePayments) -> CheckoutFlow:
    return CheckoutFlow(CASHIER, checkout, FakeCatalog(), payments)


@pytest.fixture
def events() -> Events:
    return Events()
