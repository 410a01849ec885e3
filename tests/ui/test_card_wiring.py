"""`pos app` takes the card tender from the card section of payments.json
(the channel `pos` registers), with the reader's prompts going to the app:
here the sandbox acquirer service and the vpcd virtual reader, and a shopper
who inserts the emulated card when the app is told to ask for it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from drivers.virtualcard.profiles import UNIONPAY
from pos.flows import CheckoutFlow
from pos.flows.core import CardPromptRelay
from pos.flows.text import Said
from pos.flows.views import Outcome
from pos.money import Money
from pos.payments.settings import load_payments_config
from pos.services.terminal_services import TerminalServices
from tests.ui.conftest import CHIPS
from ui.demo import CASHIER, provision_demo
from ui.demo.card import CardSetup, DemoShopper, demo_card
from ui.wiring import Runtime, open_runtime

pytest.importorskip("smartcard")
pytestmark = pytest.mark.integration


class Shopper:
    """The payment's events: inserts the card when asked, takes the first application."""

    def __init__(self, setup: CardSetup) -> None:
        assert setup.shopper is not None
        assert setup.shopper.slot is not None
        self.shopper = setup.shopper
        self.slot = setup.shopper.slot
        self.prompts: list[str] = []

    def qr(self, payload: str, expires_in_s: int) -> None:
        raise AssertionError("a card payment shows no QR")

    def status(self, text: Said) -> None:
        self.prompts.append(f"status:{text.render('en')}")

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        from drivers.virtualcard.card import EmvCard

        self.prompts.append(kind)
        if kind == "insert":
            self.slot.insert(EmvCard(self.shopper.profile))
        elif kind == "remove":
            self.slot.remove()
        return 0


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[tuple[Runtime, CardSetup]]:
    """A terminal whose payments.json has a card section (the sandbox acquirer
    and the virtual reader), opened as `pos app` opens it: no demo wiring."""
    data_dir = tmp_path / "term"
    provision_demo(data_dir)
    with TerminalServices.open(data_dir) as services:
        setup = demo_card(services.terminal, DemoShopper(CardPromptRelay(), UNIONPAY))
    try:
        if setup.why_not is not None:
            pytest.fail(f"no virtual reader: {setup.why_not.render('en')}")
        runtime = open_runtime(data_dir)
        try:
            yield runtime, setup
        finally:
            runtime.close()
    finally:
        for close in reversed(setup.closers):
            close()


def test_app_offers_the_configured_card_and_its_prompts_reach_the_payment(
    configured: tuple[Runtime, CardSetup],
) -> None:
    runtime, setup = configured
    assert "card" in load_payments_config(runtime.terminal.terminal.data_dir)
    core = runtime.core
    card = next(ch for ch in core.channels("cashier") if ch.channel == "card")
    assert card.available and card.modes == ("card",)
    flow = CheckoutFlow(core.login(CASHIER.pin), core, core, core)
    flow.scan(CHIPS)
    tender = flow.start_tender()
    assert tender.prepare("card", "card") is not None
    shopper = Shopper(setup)
    result = tender.run(shopper)
    assert result.status is Outcome.SUCCEEDED, result.message.render("en")
    assert result.order.paid == Money(750) and result.order.tenders[0].channel == "card"
    assert shopper.prompts.index("insert") < shopper.prompts.index("remove")


def test_app_without_a_card_section_says_the_card_is_not_set_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "term"
    provision_demo(data_dir)
    runtime = open_runtime(data_dir)
    try:
        card = next(ch for ch in runtime.core.channels("cashier") if ch.channel == "card")
        assert not card.available and card.why_unavailable is not None
        why = card.why_unavailable.render("en")
        # Set up, a reader would not help: that is said when one is there.
        assert why.startswith(("The card channel is not set up", "No card reader"))
    finally:
        runtime.close()
