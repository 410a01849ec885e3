"""Card tenders through the screens: pcscd with the vpcd virtual reader, an
emulated EMV card, the sandbox acquirer over ISO 8583 on loopback."""

from __future__ import annotations

import pytest

from pos.flows.views import Outcome
from pos.money import Money
from tests.ui.conftest import CHIPS, COLA, close_receipt, open_tender, ring_up, settle
from ui.app import App
from ui.screens.cashier import CashierScreen

pytest.importorskip("smartcard")
pytestmark = pytest.mark.integration


@pytest.fixture
def with_card() -> bool:
    return True


def choose_first_application(app: App, dialog) -> None:  # type: ignore[no-untyped-def]
    """The UnionPay card carries two applications: the cardholder picks one."""
    settle(app, lambda: dialog.apps.count() > 0 or dialog.outcome is not None, idle=False)
    if dialog.apps.count():
        assert "Choose the card application" in dialog.hint.text()
        dialog.apps.itemAt(0).widget().click()


@pytest.fixture
def card_ready(app: App) -> App:
    if app.runtime.card is None or app.runtime.card.channel is None:
        why = app.runtime.card.why_not if app.runtime.card else None
        pytest.fail(f"the card tender is not available: {why}")
    return app


def test_card_sale_approved_online_shows_the_prompts_and_the_receipt(
    card_ready: App, qtbot, cashier: CashierScreen
) -> None:
    app = card_ready
    ring_up(app, qtbot, cashier, COLA, CHIPS)
    open_tender(app, cashier)
    button = cashier.tender_panel.channel_buttons[("card", "card")]
    assert button.isEnabled()
    button.click()
    settle(app, lambda: cashier.payer.dialog is not None, idle=False)
    dialog = cashier.payer.dialog
    assert not dialog.qr.isVisible()
    choose_first_application(app, dialog)
    receipt = close_receipt(app, cashier)
    order = app.runtime.core.find_receipt(receipt)
    assert [t.channel for t in order.tenders] == ["card"] and order.paid == Money(1100)
    text = app.runtime.core.receipt_text(order.order_id)
    assert "623456" in text or "****" in text or "card" in text.lower()


def test_card_declined_for_funds_says_why_and_the_sale_stays_open(
    card_ready: App, qtbot, cashier: CashierScreen
) -> None:
    app = card_ready
    from drivers.virtualcard.profiles import MASTERCARD

    card = app.runtime.card
    card.shopper.profile = MASTERCARD  # this shopper's card has 1.00 on it
    card.acquirer.set_account(MASTERCARD.pan, balance_minor=100)
    ring_up(app, qtbot, cashier, CHIPS)
    open_tender(app, cashier)
    cashier.tender_panel.channel_buttons[("card", "card")].click()
    settle(app, lambda: cashier.payer.dialog is not None, idle=False)
    dialog = cashier.payer.dialog
    choose_first_application(app, dialog)
    settle(app, lambda: dialog.outcome is not None, timeout=30)
    assert dialog.outcome.status is Outcome.FAILED
    assert dialog.status.text().startswith("Payment not completed")
    assert cashier.flow.tender is not None and cashier.flow.tender.remaining == Money(750)
