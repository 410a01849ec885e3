"""WeChat Pay v3 codepay (the shopper's payment code over API v3) through the
router, against the sandbox over loopback HTTP. The channel is configured
without a v2 key, so every request shown here went over API v3."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest

from pos.errors import InvalidInput
from pos.money import Money
from pos.payments.breaker import BreakerPolicy
from pos.payments.cash import CashChannel
from pos.payments.channel import ChannelEnv, PaymentMode, PaymentStatus, RefundStatus
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter, ResolutionPolicy
from pos.payments.sandbox.server import SandboxServer
from pos.payments.wechat.channel import WechatChannel
from pos.store.terminal import Terminal
from tests.pos.payments.conftest import AUTH_CODES, RecordingHandler
from tests.pos.payments.test_ambiguous_random import random_scenario

CODE = AUTH_CODES["wechat"]


def v3_section(sandbox: SandboxServer, **settings: object) -> dict:
    cfg = sandbox.keys.terminal_config(
        sandbox.base_url, timeout=1.0, poll_interval=2.0, payment_timeout=30.0
    )["wechat"]
    del cfg["v2_key_file"]
    return {**cfg, "payment_code_api": "v3", **settings}


@pytest.fixture
def v3_router(tmp_terminal: Terminal, sandbox: SandboxServer) -> PaymentRouter:
    d, clock = tmp_terminal.data_dir, tmp_terminal.clock
    channels = {
        "wechat": WechatChannel(ChannelEnv("wechat", v3_section(sandbox), d, clock)),
        "cash": CashChannel(ChannelEnv("cash", {}, d, clock)),
    }
    return PaymentRouter(IntentStore(tmp_terminal.db, clock, tmp_terminal.journal), channels, clock)


def pay(router: PaymentRouter, amount: int = 990, handler: RecordingHandler | None = None):
    return router.pay(
        "O-1",
        "wechat",
        Money(amount),
        PaymentMode.PAYMENT_CODE,
        handler or RecordingHandler(),
        CODE,
    )


def charged(sandbox: SandboxServer) -> int:
    return sum(t["charged"] for t in sandbox.state.view())


def test_payment_code_paid_at_once_over_v3(v3_router, sandbox):
    sandbox.state.set_scenario({"pay_after": 0})
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.SUCCEEDED and out.intent.channel_ref
    assert charged(sandbox) == 990


def test_user_paying_is_polled_until_the_shopper_confirms(v3_router, sandbox):
    sandbox.state.set_scenario({"pay_after": 7})
    handler = RecordingHandler()
    out = pay(v3_router, handler=handler)
    assert out.intent.status is PaymentStatus.SUCCEEDED
    assert handler.codes.count("pos.user_paying") >= 2
    assert charged(sandbox) == 990


def test_declined_code_takes_no_money_and_offers_another_channel(v3_router, sandbox):
    sandbox.state.set_scenario({"next": True, "decline": "NOTENOUGH"})
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.FAILED
    assert charged(sandbox) == 0
    assert v3_router.alternatives(out.intent) == ["cash"]


def test_shopper_who_never_confirms_is_reversed(v3_router, sandbox):
    sandbox.state.set_scenario({"pay_after": 5, "outcome": "never"})
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.CLOSED
    [trade] = sandbox.state.view()
    assert trade["state"] == "closed" and charged(sandbox) == 0


@pytest.mark.parametrize("kind", ["timeout", "5xx", "torn"])
def test_lost_answer_after_the_code_was_charged_is_resolved_by_query(v3_router, sandbox, kind):
    sandbox.state.set_scenario({"pay_after": 0, "faults": [{"kind": kind, "delay": 5}]})
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.SUCCEEDED
    assert charged(sandbox) == 990


def test_unconfirmed_payment_is_reversed_after_a_lost_answer(v3_router, sandbox):
    sandbox.state.set_scenario(
        {"pay_after": 3, "outcome": "never", "faults": [{"kind": "timeout", "delay": 5}]}
    )
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.CLOSED
    assert charged(sandbox) == 0


def test_reverse_answer_lost_is_retried_until_confirmed(v3_router, sandbox):
    sandbox.state.set_scenario(
        {
            "pay_after": 3,
            "outcome": "never",
            "faults": [{"kind": "5xx", "op": "cancel", "times": 2}],
        }
    )
    out = pay(v3_router)
    assert out.intent.status is PaymentStatus.CLOSED
    assert charged(sandbox) == 0


def test_codepay_payment_is_refunded_on_v3(v3_router, sandbox):
    sandbox.state.set_scenario({"pay_after": 0})
    out = pay(v3_router, amount=1500)
    refund = v3_router.refund(out.intent, Money(500), "damaged")
    assert refund.status is RefundStatus.SUCCEEDED
    assert charged(sandbox) == 1000


def test_an_unknown_payment_code_api_is_refused_with_the_fix(tmp_terminal, sandbox):
    env = ChannelEnv(
        "wechat",
        v3_section(sandbox, payment_code_api="v4"),
        tmp_terminal.data_dir,
        tmp_terminal.clock,
    )
    with pytest.raises(InvalidInput, match="v2 or v3"):
        WechatChannel(env)


def test_random_ambiguous_v3_codepay_payments_end_final_and_agree_with_the_gateway(
    tmp_terminal, sandbox
):
    """The 1,000-payment randomized run's faults and shoppers, on v3 codepay."""
    d, clock = tmp_terminal.data_dir, tmp_terminal.clock
    section = v3_section(sandbox, timeout=0.25, payment_timeout=12.0)
    router = PaymentRouter(
        IntentStore(tmp_terminal.db, clock, tmp_terminal.journal),
        {"wechat": WechatChannel(ChannelEnv("wechat", section, d, clock))},
        clock,
        policy=ResolutionPolicy(first_backoff=0.5, max_backoff=4, settle_rounds=12),
        breaker_policy=BreakerPolicy(failure_threshold=10**9),
    )
    rng = random.Random(20260302)
    plans = [
        (f"ORDER-{n:03d}", Money(rng.randint(1, 500_000)), random.Random(rng.random()))
        for n in range(200)
    ]

    def work(chunk) -> None:
        for order_id, amount, prng in chunk:
            intent = router.open(order_id, "wechat", amount, PaymentMode.PAYMENT_CODE)
            sandbox.state.set_scenario(random_scenario(prng, intent.out_trade_no))
            router.run(intent, RecordingHandler(), CODE)

    threads = [threading.Thread(target=work, args=(plans[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for intent in router.intents.open_payments():
        router.resolve(intent)

    trades = {t["out_trade_no"]: t for t in sandbox.state.view()}
    ended = defaultdict(int)
    for order_id, amount, _ in plans:
        [intent] = router.intents.payments_for_order(order_id)
        assert intent.status.is_final
        trade = trades.get(intent.out_trade_no)
        expected = amount.minor if intent.status.took_money else 0
        assert (trade["charged"] if trade else 0) == expected, (intent, trade)
        ended[intent.status] += 1
    assert ended[PaymentStatus.SUCCEEDED] > 60 and ended[PaymentStatus.CLOSED] > 5
