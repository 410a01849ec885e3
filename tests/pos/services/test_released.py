"""Attempts the till let go of, settled in the background against the sandbox
gateways over loopback HTTP: one that proves paid after the order was paid
another way is given back and journalled; asked for again while the order
still owes it, it pays the order instead."""

from __future__ import annotations

from dataclasses import replace

from pos.canonical import loads
from pos.events import Event
from pos.payments.channel import PaymentMode
from pos.payments.consistency import payments_agree_with_journal
from pos.payments.registry import open_router
from pos.services.released import settle_released
from pos.services.terminal_services import TerminalServices
from tests.pos.payments.conftest import AUTH_CODES, RecordingHandler

# The terminal with the demo catalogue, a cashier and the sandbox gateways.
from tests.pos.services.test_cli_payments import keys_dir, till  # noqa: F401

# The shopper's code is charged, and every answer is lost until the test heals it.
LOST = {"pay_after": 0, "faults": [{"kind": "5xx", "op": "*", "times": 1000}]}


def _let_go(services: TerminalServices, server, order_id: str):  # type: ignore[no-untyped-def]
    router, _ = open_router(services.terminal)
    router.policy = replace(router.policy, first_backoff=0.2, max_backoff=0.5)
    server.state.set_scenario(LOST)
    total = services.checkout.get(order_id).order.total
    intent = router.open(order_id, "alipay", total, PaymentMode.PAYMENT_CODE)
    out = router.run(intent, RecordingHandler(), AUTH_CODES["alipay"], hold_s=1.0)
    assert out.released
    server.state.set_scenario({"out_trade_no": intent.out_trade_no})  # answers again
    return router, out.intent


def _ends(services: TerminalServices) -> list[dict]:  # type: ignore[type-arg]
    with services.terminal.db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM journal WHERE type = ?", (Event.PAYMENT_RELEASED_SETTLED,)
        ).fetchall()
        assert payments_agree_with_journal(conn) == []
    return [loads(r[0]) for r in rows]


def test_paid_after_cash_covered_the_order_it_is_given_back(till) -> None:  # noqa: F811
    data, server = till
    with TerminalServices.open(data) as services:
        checkout = services.checkout
        order_id = checkout.new_order("c1").order_id
        checkout.add_item(order_id, "SNK-001")
        router, intent = _let_go(services, server, order_id)
        checkout.pay_cash(order_id, checkout.get(order_id).order.remaining)
        [end] = settle_released(checkout, router)
        assert end.action == "refunded" and end.money_back == intent.amount
        assert [t["charged"] for t in server.state.view()] == [0]
        assert [(e["action"], e["amount_minor"]) for e in _ends(services)] == [
            ("refunded", intent.amount.minor)
        ]
        assert checkout.get(order_id).order.state.value == "paid"


def test_asked_for_again_while_the_order_owes_it_pays_the_order(till) -> None:  # noqa: F811
    data, server = till
    with TerminalServices.open(data) as services:
        checkout = services.checkout
        order_id = checkout.new_order("c1").order_id
        checkout.add_item(order_id, "SNK-001")
        router, intent = _let_go(services, server, order_id)
        [end] = settle_released(checkout, router, order_id=order_id, attach=True)
        assert end.action == "attached"
        stored = checkout.get(order_id)
        assert stored.order.state.value == "paid" and stored.receipt_no
        assert [t["charged"] for t in server.state.view()] == [intent.amount.minor]
