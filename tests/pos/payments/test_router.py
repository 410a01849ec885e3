"""Every payment path and sandbox scenario through the router, over real HTTP."""

from __future__ import annotations

import pytest

from pos.money import Money
from pos.payments.breaker import BreakerPolicy, BreakerState
from pos.payments.channel import PaymentMode, PaymentStatus, RefundStatus
from pos.payments.errors import PaymentError
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.server import SandboxServer
from pos.payments.sandbox.state import Fault
from pos.store.terminal import Terminal
from tests.pos.payments.conftest import AUTH_CODES, RecordingHandler, make_router

PLATFORMS = ["alipay", "wechat"]


def charged(sandbox: SandboxServer, out_trade_no: str) -> int:
    return sum(t["charged"] for t in sandbox.state.view() if t["out_trade_no"] == out_trade_no)


@pytest.mark.parametrize("channel", PLATFORMS)
def test_qr_payment_is_shown_polled_and_succeeds(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"pay_after": 6, "confirm": 2})
    handler = RecordingHandler()
    out = router.pay("O-1", channel, Money(1250), PaymentMode.QR, handler, subject="Tea")
    assert out.paid and out.intent.status == PaymentStatus.SUCCEEDED
    assert handler.qr and handler.qr[0].startswith(("https://qr.alipay.com/", "weixin://"))
    assert "pos.user_paying" in handler.codes and handler.codes[-1] == "pos.succeeded"
    assert out.intent.channel_ref
    assert charged(sandbox, out.intent.out_trade_no) == 1250


@pytest.mark.parametrize("channel", PLATFORMS)
def test_payment_code_paid_at_once(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"pay_after": 0})
    out = router.pay(
        "O-1",
        channel,
        Money(990),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    assert out.intent.status == PaymentStatus.SUCCEEDED
    assert charged(sandbox, out.intent.out_trade_no) == 990


@pytest.mark.parametrize("channel", PLATFORMS)
def test_payment_code_user_paying_then_success(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"pay_after": 5})
    handler = RecordingHandler()
    out = router.pay(
        "O-1", channel, Money(990), PaymentMode.PAYMENT_CODE, handler, auth_code=AUTH_CODES[channel]
    )
    assert out.intent.status == PaymentStatus.SUCCEEDED
    assert handler.codes.count("pos.user_paying") >= 2


@pytest.mark.parametrize(
    ("channel", "code"), [("alipay", "ACQ.BUYER_BALANCE_NOT_ENOUGH"), ("wechat", "NOTENOUGH")]
)
def test_decline_is_final_explained_and_allows_another_channel(
    router: PaymentRouter, sandbox, channel, code
):
    sandbox.state.set_scenario({"decline": code})
    out = router.pay(
        "O-1",
        channel,
        Money(500),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    assert out.intent.status == PaymentStatus.FAILED
    assert out.notice.code == f"{channel}.{code}"
    assert "余额不足" in out.notice.zh and "another way" in out.notice.en
    assert set(router.alternatives(out.intent)) == {"cash", *PLATFORMS} - {channel}


@pytest.mark.parametrize("channel", PLATFORMS)
def test_invalid_payment_code_is_declined(router: PaymentRouter, channel):
    out = router.pay(
        "O-1", channel, Money(500), PaymentMode.PAYMENT_CODE, RecordingHandler(), auth_code="999"
    )
    assert out.intent.status == PaymentStatus.FAILED
    assert "refresh the payment code" in out.notice.en


@pytest.mark.parametrize("channel", PLATFORMS)
def test_shopper_cancelling_closes_the_payment(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"pay_after": 4, "outcome": "cancel"})
    out = router.pay(
        "O-1",
        channel,
        Money(700),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    assert out.intent.status == PaymentStatus.CLOSED
    assert charged(sandbox, out.intent.out_trade_no) == 0


@pytest.mark.parametrize("channel", PLATFORMS)
def test_qr_not_paid_in_time_is_cancelled(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"outcome": "never"})
    handler = RecordingHandler()
    out = router.pay("O-1", channel, Money(700), PaymentMode.QR, handler)
    assert out.intent.status == PaymentStatus.CLOSED
    assert out.notice.code == "pos.timeout"
    # The code cannot be paid any more.
    sandbox.state.scan_now(channel, out.intent.out_trade_no)
    assert charged(sandbox, out.intent.out_trade_no) == 0


@pytest.mark.parametrize("channel", PLATFORMS)
def test_cashier_cancel_closes_a_waiting_qr(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"outcome": "never"})
    out = router.pay(
        "O-1", channel, Money(700), PaymentMode.QR, RecordingHandler(cancel_after_polls=3)
    )
    assert out.intent.status == PaymentStatus.CLOSED
    assert out.notice.code == "pos.cashier_cancelled"


@pytest.mark.parametrize("channel", PLATFORMS)
def test_shopper_scans_now(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"outcome": "never"})

    class ScanOnFirstPoll(RecordingHandler):
        def cancel_requested(self) -> bool:
            if self.qr and not self.notices[1:]:
                sandbox.state.scan_now(None, None)
            return False

    out = router.pay("O-1", channel, Money(300), PaymentMode.QR, ScanOnFirstPoll())
    assert out.intent.status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize("channel", PLATFORMS)
@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "timeout", "after": True, "delay": 3},
        {"kind": "5xx", "after": True},
        {"kind": "torn", "after": True},
        {"kind": "torn_body", "after": True},
        {"kind": "bad_signature"},
    ],
)
def test_lost_answer_to_a_payment_code_is_resolved_by_query(
    router: PaymentRouter, sandbox, channel, fault
):
    sandbox.state.set_scenario({"pay_after": 0, "faults": [fault]})
    handler = RecordingHandler()
    out = router.pay(
        "O-1", channel, Money(880), PaymentMode.PAYMENT_CODE, handler, auth_code=AUTH_CODES[channel]
    )
    assert "pos.checking" in handler.codes
    assert out.intent.status == PaymentStatus.SUCCEEDED
    assert charged(sandbox, out.intent.out_trade_no) == 880


@pytest.mark.parametrize("channel", PLATFORMS)
def test_timeout_after_send_with_query_failing_too_is_cancelled(
    router: PaymentRouter, sandbox, channel
):
    """The request was accepted, the answer lost, and queries keep failing until
    the payment window ends: the payment is reversed, and no money is kept."""
    sandbox.state.set_scenario(
        {
            "pay_after": 0,
            "faults": [
                {"kind": "timeout", "op": "start", "delay": 3},
                {"kind": "5xx", "op": "query", "times": 1000, "after": False},
            ],
        }
    )
    out = router.pay(
        "O-1",
        channel,
        Money(880),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    # The till is not held: the attempt is let go to the background ...
    assert out.released and out.notice.code == "pos.released"
    # ... which reverses it once the platform answers again.
    sandbox.state.reset()
    assert router.resolve(out.intent).status == PaymentStatus.CLOSED
    assert charged(sandbox, out.intent.out_trade_no) == 0


@pytest.mark.parametrize("channel", PLATFORMS)
def test_qr_create_lost_is_closed_without_showing_a_code(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"faults": [{"kind": "torn", "op": "start"}]})
    handler = RecordingHandler()
    out = router.pay("O-1", channel, Money(880), PaymentMode.QR, handler)
    assert handler.qr == []
    # Known unpaid at once: let go, and another tender may be taken now.
    assert out.released and out.never_shown and out.notice.code == "pos.qr_never_shown"
    router.open("O-1", "cash", Money(880), PaymentMode.CASH)
    # The background closes the code at the platform.
    assert router.resolve(out.intent).status == PaymentStatus.CLOSED
    assert charged(sandbox, out.intent.out_trade_no) == 0


def test_slow_gateway_within_the_timeout_is_fine(router: PaymentRouter, sandbox):
    sandbox.state.set_scenario({"pay_after": 0, "faults": [{"kind": "slow", "delay": 0.3}]})
    out = router.pay(
        "O-1",
        "alipay",
        Money(100),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES["alipay"],
    )
    assert out.intent.status == PaymentStatus.SUCCEEDED


def test_unreachable_gateway_fails_cleanly_and_offers_others(tmp_terminal: Terminal, sandbox):
    router = make_router(tmp_terminal, sandbox)
    sandbox.stop()
    out = router.pay("O-1", "wechat", Money(100), PaymentMode.QR, RecordingHandler())
    assert out.intent.status.known_no_money
    assert "cash" in router.alternatives(out.intent)


def test_an_unknown_attempt_is_let_go_and_settled_in_the_background(
    tmp_terminal: Terminal, sandbox
):
    router = make_router(tmp_terminal, sandbox)
    sandbox.state.set_scenario(
        {"pay_after": 0, "faults": [{"kind": "5xx", "op": "*", "times": 10_000}]}
    )
    out = router.pay(
        "O-1",
        "alipay",
        Money(100),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES["alipay"],
    )
    assert out.intent.status == PaymentStatus.UNKNOWN and out.released
    assert out.notice.code == "pos.released"
    # It no longer holds the order: another tender may be opened ...
    router.open("O-1", "cash", Money(100), PaymentMode.CASH)
    # ... but an attempt the till still waits on does.
    with pytest.raises(PaymentError):
        router.open("O-1", "alipay", Money(100), PaymentMode.QR)
    # The gateway comes back: the let-go attempt is reversed.
    sandbox.state.reset()
    assert router.resolve(out.intent).status == PaymentStatus.CLOSED
    assert charged(sandbox, out.intent.out_trade_no) == 0


def test_breaker_opens_after_repeated_failures_and_recovers(tmp_terminal: Terminal, sandbox):
    router = make_router(tmp_terminal, sandbox, breaker=BreakerPolicy(2, cooldown=600))
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    sandbox.stop()
    for n in range(2):
        out = router.pay(f"O-{n}", "wechat", Money(100), PaymentMode.QR, RecordingHandler())
        assert out.intent.status == PaymentStatus.FAILED
    assert router.breaker("wechat").state == BreakerState.OPEN
    assert "wechat" not in router.available() and "alipay" in router.available()
    with pytest.raises(PaymentError) as err:
        router.open("O-2", "wechat", Money(100), PaymentMode.QR)
    assert err.value.notice.code == "pos.circuit_open"
    tmp_terminal.clock.advance(601)
    assert router.breaker("wechat").state == BreakerState.HALF_OPEN
    with SandboxServer(tmp_terminal.data_dir, clock=tmp_terminal.clock, port=port):
        out = router.pay("O-2", "wechat", Money(100), PaymentMode.QR, RecordingHandler())
    assert out.paid and router.breaker("wechat").state == BreakerState.CLOSED


@pytest.mark.parametrize("channel", PLATFORMS)
def test_refunds_go_back_through_the_original_channel(router: PaymentRouter, sandbox, channel):
    sandbox.state.set_scenario({"pay_after": 0})
    out = router.pay(
        "O-1",
        channel,
        Money(1000),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    first = router.refund(out.intent, Money(300), "damaged")
    assert first.status == RefundStatus.SUCCEEDED
    assert router.intents.payment(out.intent.intent_id).status == PaymentStatus.PARTLY_REFUNDED
    with pytest.raises(PaymentError):
        router.refund(out.intent, Money(800))
    # The second refund's answer is lost: it is resolved by refund query.
    sandbox.state.per_order[out.intent.out_trade_no].faults.append(Fault("torn", op="refund"))
    second = router.refund(out.intent, Money(700))
    assert second.status == RefundStatus.SUCCEEDED
    assert router.intents.payment(out.intent.intent_id).status == PaymentStatus.REFUNDED
    assert charged(sandbox, out.intent.out_trade_no) == 0


def test_refund_that_never_arrived_is_sent_again_with_the_same_number(
    router: PaymentRouter, sandbox
):
    sandbox.state.set_scenario(
        {"pay_after": 0, "faults": [{"kind": "torn", "op": "refund", "after": False}]}
    )
    out = router.pay(
        "O-1",
        "wechat",
        Money(1000),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES["wechat"],
    )
    refund = router.refund(out.intent, Money(1000))
    assert refund.status == RefundStatus.SUCCEEDED
    trade = sandbox.state.get("wechat", out.intent.out_trade_no)
    assert trade is not None and list(trade.refunds) == [refund.out_refund_no]


def test_cash_goes_through_the_same_interface(router: PaymentRouter):
    out = router.pay("O-1", "cash", Money(2000), PaymentMode.CASH, RecordingHandler())
    assert out.paid
    assert router.refund(out.intent, Money(500)).status == RefundStatus.SUCCEEDED


def test_intent_lifecycle_is_journalled(router: PaymentRouter, sandbox, tmp_terminal: Terminal):
    sandbox.state.set_scenario({"pay_after": 0})
    router.pay(
        "O-1",
        "alipay",
        Money(100),
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES["alipay"],
    )
    with tmp_terminal.db.read() as conn:
        types = [r[0] for r in conn.execute("SELECT type FROM journal ORDER BY seq")]
    assert types[-2:] == ["payment.intent_opened", "payment.intent_status"]
    assert tmp_terminal.verify_journal().ok
