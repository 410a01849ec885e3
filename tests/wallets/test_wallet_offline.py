"""Offline, a till spends a member's balance within the allowance the server
signed at the last online use; beyond it the spend is refused with a reason
in both languages; the offline spend is recorded at the server at sync."""

from __future__ import annotations

from pos.app import TillOptions, open_till
from pos.flows import CheckoutFlow
from pos.flows.core import CoreServices
from pos.flows.views import Outcome
from pos.money import Money
from tests.pos.flows.flow_fakes import Events
from tests.wallets.conftest import CASHIER_PIN, MANAGER_PIN, Shop
from wallets.offline import OfflineBook
from wallets.service import WalletSync

COLA, CHIPS = "6901234000016", "6901234001013"  # 3.50, 7.50
CHANNELS = ("cash", "stored_value")


def test_an_offline_spend_within_the_allowance_is_reconciled_at_sync(shop: Shop) -> None:
    code = shop.code()  # the member's page shows it; the till checks it offline
    with open_till(shop.data, TillOptions(channels=CHANNELS)) as till:
        core = CoreServices.on(till)
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        flow.scan(COLA)
        tender = flow.start_tender()
        # Online: 1.00 spent; the answer brings an allowance of the 9.00 left.
        assert tender.prepare("stored_value", "payment_code", Money(100), auth_code=code)
        assert tender.run(Events()).status is Outcome.SUCCEEDED
        tender.prepare("cash", "cash", tendered=Money(250))
        tender.run(Events())
        assert flow.finish_if_paid()

        shop.server.stop()  # the network is gone
        flow.scan(COLA)
        tender = flow.start_tender()
        assert tender.prepare("stored_value", "payment_code", auth_code=code)
        assert tender.run(Events()).status is Outcome.SUCCEEDED  # 3.50 of the 9.00
        assert flow.finish_if_paid()

        flow.scan(CHIPS)
        tender = flow.start_tender()
        assert tender.prepare("stored_value", "payment_code", auth_code=code)
        refused = tender.run(Events())  # 7.50 > the 5.50 left of the allowance
        assert refused.status is Outcome.FAILED
        assert "offline allowance" in refused.message.render("en")
        assert "离线额度" in refused.message.render("zh_CN")
        tender.prepare("cash", "cash", tendered=Money(750))
        assert tender.run(Events()).status is Outcome.SUCCEEDED
        assert flow.finish_if_paid()

        for _ in range(7):
            flow.scan(COLA)  # 24.50: above the one-touch limit, and offline no PIN can be checked
        tender = flow.start_tender()
        assert tender.prepare("stored_value", "payment_code", Money(2100), auth_code=code + "/4321")
        refused = tender.run(Events())
        assert refused.status is Outcome.FAILED
        assert "one-touch limit" in refused.message.render("en")
        flow.back_from_tender()
        flow.void_order(core.approve(MANAGER_PIN, "void"))

        book = OfflineBook(shop.data)
        assert len(book.pending()) == 1
        shop.server = shop.server.restart()  # back: the till's service sends the spend
        till.start_services()
        assert isinstance(till.running.get("wallets"), WalletSync)
        till.nudge()
        for _ in range(200):
            if not book.pending():
                break
            till.terminal.clock.sleep(0.05)
    assert book.pending() == []
    assert shop.balance("stored_value") == 1000 - 100 - 350
