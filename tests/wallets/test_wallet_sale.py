"""A sale paid by stored value, points and cash through the till's one
assembly and the core's router, the ledger at a real server on loopback;
refunded back to the same balances."""

from __future__ import annotations

from pos.app import TillOptions, open_till
from pos.flows import CheckoutFlow, RefundFlow
from pos.flows.core import CoreServices
from pos.flows.views import Outcome
from pos.money import Money
from tests.pos.flows.flow_fakes import Events
from tests.wallets.conftest import CASHIER_PIN, MANAGER_PIN, MEMBER_PIN, Shop

COLA, CHIPS = "6901234000016", "6901234001013"  # 3.50, 7.50
CHANNELS = ("cash", "stored_value", "points")


def test_a_sale_paid_by_stored_value_points_and_cash_is_refunded_to_the_same_balances(
    shop: Shop,
) -> None:
    with open_till(shop.data, TillOptions(channels=CHANNELS)) as till:
        assert not {"stored_value", "points"} & set(till.problems), till.problems
        core = CoreServices.on(till)
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        flow.scan(COLA)
        flow.scan(CHIPS)  # 11.00
        tender = flow.start_tender()
        assert tender.prepare("stored_value", "payment_code", Money(500), auth_code=shop.code())
        assert tender.run(Events()).status is Outcome.SUCCEEDED
        assert tender.prepare("points", "payment_code", Money(300), auth_code=shop.code())
        assert tender.run(Events()).status is Outcome.SUCCEEDED
        assert tender.prepare("cash", "cash", tendered=Money(300)) is not None
        assert tender.run(Events()).status is Outcome.SUCCEEDED
        assert flow.finish_if_paid()
        paid = flow.last_paid
        assert paid is not None
        assert shop.balance("stored_value") == 500
        assert shop.balance("points") == 200  # 3.00 at 100 points a yuan

        refund = RefundFlow(core, core)
        refund.lookup(paid.receipt_no)
        for line in paid.lines:
            refund.toggle_line(line.line_id)
        refund.request_approval("")
        assert refund.run(core.approve(MANAGER_PIN, "refund")).status is Outcome.SUCCEEDED
    assert shop.balance("stored_value") == 1000
    assert shop.balance("points") == 500


def test_above_the_one_touch_limit_the_member_keys_the_pin(shop: Shop) -> None:
    shop.client.activity(
        number=shop.number, kind="stored_value", type="load", amount=2000, key="load-sv-2"
    )
    with open_till(shop.data, TillOptions(channels=CHANNELS)) as till:
        core = CoreServices.on(till)
        flow = CheckoutFlow(core.login(CASHIER_PIN), core, core, core)
        for _ in range(7):
            flow.scan(COLA)  # 24.50, above the 20.00 limit
        tender = flow.start_tender()
        assert tender.prepare("stored_value", "payment_code", auth_code=shop.code())
        result = tender.run(Events())
        assert result.status is Outcome.FAILED
        assert "PIN" in result.message.render("en")
        assert "密码" in result.message.render("zh_CN")
        code = f"{shop.code()}/{MEMBER_PIN}"
        assert tender.prepare("stored_value", "payment_code", auth_code=code)
        assert tender.run(Events()).status is Outcome.SUCCEEDED
    assert shop.balance("stored_value") == 3000 - 2450


def test_an_unknown_spend_resolved_by_query_can_never_be_taken_later(shop: Shop) -> None:
    from pos.payments.channel import PaymentIntent, PaymentMode, PaymentStatus

    with open_till(shop.data, TillOptions(channels=CHANNELS)) as till:
        channel = till.router.channel("stored_value")
        lost = PaymentIntent(
            "i-1", "order-1", "stored_value", PaymentMode.PAYMENT_CODE, Money(300), "otn-lost-0001",
            sent=True,
        )  # fmt: skip
        # The answer to the spend never came; the query finds nothing and claims the key.
        assert channel.query(lost).status is PaymentStatus.CLOSED
        late = channel.start(lost, Events(), shop.code())  # the same request, arriving late
        assert late.status is PaymentStatus.FAILED
        assert channel.query(lost).status is PaymentStatus.CLOSED
        paid = PaymentIntent(
            "i-2", "order-2", "stored_value", PaymentMode.PAYMENT_CODE, Money(300), "otn-paid-0001",
            sent=True,
        )  # fmt: skip
        assert channel.start(paid, Events(), shop.code()).status is PaymentStatus.SUCCEEDED
        assert channel.query(paid).status is PaymentStatus.SUCCEEDED
        assert channel.cancel(paid).status is PaymentStatus.CLOSED  # given back
    assert shop.balance("stored_value") == 1000
