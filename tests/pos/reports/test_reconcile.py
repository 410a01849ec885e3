"""Reconciliation against the sandbox gateways' real bill formats, downloaded
over HTTP with the terminal's signed requests, with differences planted in
what the channel has."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pos.clock import FakeClock
from pos.errors import InvalidInput
from pos.money import Money
from pos.order import Tender
from pos.payments.channel import PaymentMode
from pos.payments.sandbox.server import SandboxServer
from pos.payments.sandbox.state import TradeState
from pos.reports.exports import export
from pos.reports.reconcile import Category, GatewayBills, recon_doc, reconcile
from pos.services.terminal_services import TerminalServices
from tests.pos.payments.conftest import (  # noqa: F401  (sandbox_keys_dir is a fixture)
    AUTH_CODES,
    RecordingHandler,
    make_channels,
    make_router,
    sandbox_keys_dir,
)

DAY = "2026-03-02"  # the fixture clock is 09:00 in Beijing on this day


@pytest.fixture
def gateway(services: TerminalServices, sandbox_keys_dir: Path) -> Iterator[SandboxServer]:  # noqa: F811
    t = services.terminal
    assert isinstance(t.clock, FakeClock)
    shutil.copytree(sandbox_keys_dir, t.data_dir / "sandbox")
    with SandboxServer(t.data_dir, clock=t.clock) as server:
        server.state.set_scenario({"pay_after": 0})
        yield server


def _sell(services: TerminalServices, router, channel: str, sku: str, record: bool = True):
    co = services.checkout
    order = co.new_order("c1")
    co.add_item(order.order_id, sku, 2)
    total = co.get(order.order_id).order.total
    outcome = router.pay(
        order.order_id, channel, total, PaymentMode.PAYMENT_CODE, RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )  # fmt: skip
    if outcome.paid and record:
        co.take_tender(
            order.order_id,
            Tender(channel, total, reference=outcome.intent.channel_ref),
            intent_id=outcome.intent.intent_id,
        )
    services.terminal.clock.advance(300)
    return outcome.intent


def _plant_paid(gateway: SandboxServer, platform: str, like: str, out_trade_no: str, fen: int):
    """A trade the channel has as paid, copied from a real one."""
    state = gateway.state
    with state.lock:
        src = state.trades[(platform, like)]
        state.trades[(platform, out_trade_no)] = replace(
            src,
            out_trade_no=out_trade_no,
            trade_no=src.trade_no + "9",
            amount=fen,
            refunds={},
            state=TradeState.PAID,
        )


def test_reconciliation_finds_every_difference_planted_in_the_channel_bills(
    services: TerminalServices, gateway: SandboxServer, tmp_path: Path
) -> None:
    t = services.terminal
    router = make_router(t, gateway)
    ali = [_sell(services, router, "alipay", sku) for sku in ("DRK-001", "SNK-001", "DRK-004")]
    wx = [_sell(services, router, "wechat", sku) for sku in ("DRK-002", "SNK-002", "DLY-002")]
    unrecorded = _sell(services, router, "alipay", "DRK-007", record=False)
    refund = router.refund(router.intents.payment(ali[0].intent_id), Money(200), "damaged")
    gateway.state.set_scenario({"next": True, "decline": "ACQ.PAYMENT_AUTH_CODE_INVALID"})
    declined = _sell(services, router, "alipay", "SNK-003")
    assert router.intents.payment(declined.intent_id).status.value == "failed"

    # What the channel has that the terminal does not agree with.
    with gateway.state.lock:
        gateway.state.trades[("alipay", ali[1].out_trade_no)].amount += 100
        del gateway.state.trades[("wechat", wx[0].out_trade_no)]
    _plant_paid(gateway, "wechat", wx[1].out_trade_no, "FOREIGN-0001", 1234)
    _plant_paid(gateway, "alipay", ali[2].out_trade_no, declined.out_trade_no, 1100)

    bills = GatewayBills(make_channels(t, gateway))
    a = reconcile(t.db, bills, "alipay", DAY)
    w = reconcile(t.db, bills, "wechat", DAY)
    found = {(i.channel, i.kind, i.out_no): i.category for i in a.items + w.items}

    assert found == {
        ("alipay", "payment", ali[0].out_trade_no): Category.MATCHED,
        ("alipay", "payment", ali[1].out_trade_no): Category.AMOUNT_DIFFERS,
        ("alipay", "payment", ali[2].out_trade_no): Category.MATCHED,
        ("alipay", "payment", unrecorded.out_trade_no): Category.STATUS_DIFFERS,
        ("alipay", "payment", declined.out_trade_no): Category.STATUS_DIFFERS,
        ("alipay", "refund", refund.out_refund_no): Category.MATCHED,
        ("wechat", "payment", wx[0].out_trade_no): Category.MISSING_AT_CHANNEL,
        ("wechat", "payment", wx[1].out_trade_no): Category.MATCHED,
        ("wechat", "payment", wx[2].out_trade_no): Category.MATCHED,
        ("wechat", "payment", "FOREIGN-0001"): Category.MISSING_ON_TERMINAL,
    }
    by_no = {i.out_no: i for i in a.items + w.items}
    off = by_no[ali[1].out_trade_no]
    assert off.bill_amount is not None and off.terminal_amount is not None
    assert off.bill_amount - off.terminal_amount == Money(100)
    assert by_no[unrecorded.out_trade_no].note == "paid, but no sale is recorded for it"
    assert by_no[declined.out_trade_no].terminal_status == "failed"
    assert by_no["FOREIGN-0001"].bill_amount == Money(1234)
    assert a.fees.minor > 0 and w.fees.minor > 0
    assert len(a.differences) == 3 and len(w.differences) == 2

    # The manager exports the differences.
    out = export(recon_doc([a, w], t.terminal_id, "CNY"), "xlsx", tmp_path / "recon.xlsx")
    sheet = load_workbook(out)["差异 Differences"]
    listed = {row[3] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert listed == {i.out_no for i in a.differences + w.differences}


def test_a_day_where_both_sides_agree_has_no_differences(
    services: TerminalServices, gateway: SandboxServer
) -> None:
    t = services.terminal
    router = make_router(t, gateway)
    sold = [_sell(services, router, "wechat", sku) for sku in ("DRK-001", "DRK-002")]
    result = reconcile(t.db, GatewayBills(make_channels(t, gateway)), "wechat", DAY)
    assert result.differences == ()
    assert {i.out_no for i in result.items} == {s.out_trade_no for s in sold}


def test_only_channels_with_a_daily_bill_are_reconciled(
    services: TerminalServices, gateway: SandboxServer
) -> None:
    t = services.terminal
    with pytest.raises(InvalidInput, match="no daily bill"):
        reconcile(t.db, GatewayBills(make_channels(t, gateway)), "cash", DAY)
    with pytest.raises(InvalidInput, match="not set up"):
        reconcile(t.db, GatewayBills({}), "alipay", DAY)
