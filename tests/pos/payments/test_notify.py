"""Asynchronous notifications from the sandbox platforms to the terminal's
receiver, over real HTTP on loopback: a genuine one wakes the payment to
query at once; a forged or mismatched one is refused and changes nothing; a
notification is never taken for money by itself."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from pos.clock import FakeClock
from pos.money import Money
from pos.payments import rsa
from pos.payments.channel import PaymentIntent, PaymentMode, PaymentStatus
from pos.payments.notify import NotificationReceiver, receiver_from_config
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.server import SandboxServer
from pos.payments.sandbox.state import Trade, TradeState
from pos.payments.wechat import v3sign
from pos.store.terminal import Terminal
from tests.pos.payments.conftest import RecordingHandler, make_router

POLL = 60.0  # seconds between scheduled queries: long, so a notification shows


@pytest.fixture
def slow_router(tmp_terminal: Terminal, sandbox: SandboxServer) -> PaymentRouter:
    return make_router(tmp_terminal, sandbox, poll_interval=POLL, payment_timeout=600.0)


@pytest.fixture
def receiver(slow_router: PaymentRouter) -> Iterator[NotificationReceiver]:
    with NotificationReceiver(slow_router) as running:
        yield running


class PaysWhenShown(RecordingHandler):
    """The shopper scans and pays as soon as the code is on the screen, and the
    test waits until the platform's notification has been handled."""

    def __init__(self, sandbox: SandboxServer, receiver: NotificationReceiver | None) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.receiver = receiver

    def show_qr(self, payload: str) -> None:
        super().show_qr(payload)
        assert self.sandbox.state.scan_now(None, None) is not None
        if self.receiver is not None:
            assert self.receiver.wait_for(1, timeout=20)


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_a_genuine_notification_confirms_a_qr_payment_before_the_next_poll(
    slow_router, sandbox, receiver, tmp_terminal, channel
):
    sandbox.state.set_scenario({"outcome": "never"})
    clock: FakeClock = tmp_terminal.clock
    started = clock.monotonic()

    out = slow_router.pay(
        "O-1", channel, Money(1250), PaymentMode.QR, PaysWhenShown(sandbox, receiver)
    )

    assert out.paid and out.intent.channel_ref
    assert clock.monotonic() - started < POLL
    assert [(r.accepted, r.out_trade_no) for r in receiver.received] == [
        (True, out.intent.out_trade_no)
    ]
    assert [d.out_trade_no for d in sandbox.notifier.acknowledged] == [out.intent.out_trade_no]


def test_without_notifications_the_payment_waits_for_the_scheduled_poll(
    slow_router, sandbox, tmp_terminal
):
    sandbox.state.set_scenario({"outcome": "never"})
    clock: FakeClock = tmp_terminal.clock
    started = clock.monotonic()

    out = slow_router.pay(
        "O-1", "alipay", Money(1250), PaymentMode.QR, PaysWhenShown(sandbox, None)
    )

    assert out.paid
    assert clock.monotonic() - started >= POLL


# -- refused notifications ----------------------------------------------------------------
def started_qr(router: PaymentRouter, channel: str) -> PaymentIntent:
    """A QR payment shown and waiting, as a till that stopped polling left it."""
    intent = router.intents.mark_sent(router.open("O-9", channel, Money(1250), PaymentMode.QR))
    result = router.channel(channel).start(intent, RecordingHandler())
    return router.intents.record(intent, result)


def sandbox_trade(sandbox: SandboxServer, intent: PaymentIntent) -> Trade:
    return sandbox.state.trades[(intent.channel, intent.out_trade_no)]


def paid_copy(trade: Trade, **changes: object) -> Trade:
    """What the platform would say had the shopper paid (the real trade is unpaid)."""
    return replace(trade, state=TradeState.PAID, paid_at=trade.created, **changes)  # type: ignore[arg-type]


def post(receiver: NotificationReceiver, channel: str, headers: dict[str, str], body: bytes):
    return httpx.post(receiver.url_for(channel), headers=headers, content=body, trust_env=False)


def unchanged(router: PaymentRouter, tmp_terminal: Terminal, intent: PaymentIntent):
    """The intent as stored, its request count, and the journal's length."""
    with tmp_terminal.db.read() as conn:
        attempts = conn.execute(
            "SELECT attempts FROM payment_intents WHERE id = ?", (intent.intent_id,)
        ).fetchone()[0]
        seq = conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
    return router.intents.payment(intent.intent_id), attempts, seq


def alipay_forgeries(sandbox: SandboxServer, trade: Trade) -> dict[str, tuple[dict, bytes]]:
    headers, body = sandbox.alipay.notification(paid_copy(trade))
    forger = rsa.generate()
    form = dict(httpx.QueryParams(body.decode()))
    form["sign"] = rsa.sign(forger, body)
    return {
        "amount edited": (headers, body.replace(b"total_amount=12.50", b"total_amount=0.01")),
        "signed by someone else": (headers, str(httpx.QueryParams(form)).encode()),
        "unsigned": (headers, body.split(b"&sign=")[0]),
        "genuine, wrong amount": sandbox.alipay.notification(paid_copy(trade, amount=1)),
        "genuine, unknown order": sandbox.alipay.notification(
            paid_copy(trade, out_trade_no="P" + secrets.token_hex(8))
        ),
        "not a form": (headers, b"\xff\xfe"),
    }


def wechat_callback(
    sandbox: SandboxServer, doc: dict, *, at_offset: int = 0, ciphertext: str | None = None
) -> tuple[dict, bytes]:
    """A callback built by the platform's rules, with the sandbox's platform keys."""
    keys, nonce = sandbox.keys, secrets.token_hex(6)
    resource = {
        "original_type": "transaction",
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": ciphertext
        or v3sign.encrypt_resource(
            keys.wechat_apiv3_key, nonce, "transaction", json.dumps(doc).encode()
        ),
        "associated_data": "transaction",
        "nonce": nonce,
    }
    text = json.dumps(
        {
            "id": "EV-1",
            "resource_type": "encrypt-resource",
            "resource": resource,
            "event_type": "TRANSACTION.SUCCESS",
        }
    )
    when = int(sandbox.state.clock.now().timestamp()) + at_offset
    headers = v3sign.signed_headers(
        keys.wechat_platform_private, keys.wechat_platform_serial, text, str(when), "n1"
    )
    return headers, text.encode()


def wechat_forgeries(sandbox: SandboxServer, trade: Trade) -> dict[str, tuple[dict, bytes]]:
    doc = sandbox.wechat.transaction(paid_copy(trade))
    headers, body = sandbox.wechat.notification(paid_copy(trade))
    other_serial = {**headers, "Wechatpay-Serial": "0123456789ABCDEF"}
    return {
        "body edited": (headers, body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.FAILED")),
        "unknown platform serial": (other_serial, body),
        "unsigned": ({"Content-Type": "application/json"}, body),
        "six minutes old": wechat_callback(sandbox, doc, at_offset=-360),
        "resource does not decrypt": wechat_callback(sandbox, doc, ciphertext="AAAA" * 8),
        "another merchant": wechat_callback(sandbox, {**doc, "mchid": "1900000999"}),
        "another app": wechat_callback(sandbox, {**doc, "appid": "wx0000000000000999"}),
        "genuine, wrong amount": wechat_callback(
            sandbox, {**doc, "amount": {"total": 1, "currency": "CNY"}}
        ),
        "genuine, unknown order": wechat_callback(
            sandbox, {**doc, "out_trade_no": "P" + secrets.token_hex(8)}
        ),
    }


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_forged_or_mismatched_notifications_are_refused_and_change_nothing(
    slow_router, sandbox, receiver, tmp_terminal, channel
):
    sandbox.state.set_scenario({"outcome": "never"})
    intent = started_qr(slow_router, channel)
    trade = sandbox_trade(sandbox, intent)
    before = unchanged(slow_router, tmp_terminal, intent)
    forgeries = (alipay_forgeries if channel == "alipay" else wechat_forgeries)(sandbox, trade)

    for name, (headers, body) in forgeries.items():
        resp = post(receiver, channel, headers, body)
        assert resp.status_code == 400, name
        if channel == "alipay":
            assert resp.text == "fail", name
        else:
            assert resp.json()["code"] == "FAIL", name

    assert [r.accepted for r in receiver.received] == [False] * len(forgeries)
    assert unchanged(slow_router, tmp_terminal, intent) == before


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_a_notification_alone_never_marks_money_taken(
    slow_router, sandbox, receiver, tmp_terminal, channel
):
    sandbox.state.set_scenario({"outcome": "never"})
    intent = started_qr(slow_router, channel)
    # Genuinely signed, but the platform's own query says the shopper has not paid.
    builder = sandbox.alipay if channel == "alipay" else sandbox.wechat
    headers, body = builder.notification(paid_copy(sandbox_trade(sandbox, intent)))

    resp = post(receiver, channel, headers, body)

    assert resp.status_code in (200, 204)
    assert receiver.received[-1].accepted
    assert slow_router.intents.payment(intent.intent_id).status is not PaymentStatus.SUCCEEDED


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_a_notification_for_a_payment_nobody_is_polling_is_confirmed_by_query(
    slow_router, sandbox, receiver, channel
):
    sandbox.state.set_scenario({"outcome": "never"})
    intent = started_qr(slow_router, channel)

    sandbox.state.scan_now(channel, intent.out_trade_no)

    assert receiver.wait_for(1, timeout=20)
    stored = slow_router.intents.payment(intent.intent_id)
    assert stored.status is PaymentStatus.SUCCEEDED and stored.channel_ref


def test_notifications_are_off_unless_configured_and_listen_where_told(
    slow_router, tmp_terminal, sandbox
):
    data = tmp_terminal.data_dir
    assert receiver_from_config(data, slow_router) is None
    write_terminal_config(
        data, {"notify": {"listen": "127.0.0.1:0", "public_url": "https://t7.example/pos/"}}
    )

    configured = receiver_from_config(data, slow_router)

    assert configured is not None
    assert configured.url_for("alipay") == "https://t7.example/pos/notify/alipay"
    configured.stop()
    write_terminal_config(data, {"notify": {"listen": "nowhere"}})
    with pytest.raises(Exception, match="notify"):
        receiver_from_config(data, slow_router)


def test_a_wechat_callback_six_minutes_off_the_tills_clock_is_refused(
    slow_router, sandbox, receiver, tmp_terminal
):
    """Six minutes of drift between till and platform is refused, whichever side moved."""
    sandbox.state.set_scenario({"outcome": "never"})
    intent = started_qr(slow_router, "wechat")
    headers, body = sandbox.wechat.notification(paid_copy(sandbox_trade(sandbox, intent)))
    tmp_terminal.clock.advance(timedelta(minutes=6).total_seconds())

    assert post(receiver, "wechat", headers, body).status_code == 400
    assert "5 minutes" in receiver.received[-1].reason
