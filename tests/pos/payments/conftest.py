"""A provisioned terminal and the loopback sandbox gateways sharing one
FakeClock, and a router over Alipay, WeChat Pay and cash configured against
them. Real HTTP on 127.0.0.1, real SQLCipher store, real signatures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pos.clock import FakeClock
from pos.money import Money
from pos.payments.alipay.channel import AlipayChannel
from pos.payments.breaker import BreakerPolicy
from pos.payments.cash import CashChannel
from pos.payments.channel import (
    ChannelEnv,
    Notice,
    PaymentChannel,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
)
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter, ResolutionPolicy
from pos.payments.sandbox.keys import SandboxKeys
from pos.payments.sandbox.server import SandboxServer
from pos.payments.wechat.channel import WechatChannel
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import Terminal
from tests.pos.services.conftest import DEMO_CATALOG

ALIPAY_CODE = "286543210987654321"
WECHAT_CODE = "134567890123456789"
AUTH_CODES = {"alipay": ALIPAY_CODE, "wechat": WECHAT_CODE}


@dataclass
class RecordingHandler:
    qr: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    cancel_after_polls: int | None = None

    def show_qr(self, payload: str) -> None:
        self.qr.append(payload)

    def status(self, notice: Notice) -> None:
        self.notices.append(notice)

    def cancel_requested(self) -> bool:
        if self.cancel_after_polls is None:
            return False
        self.cancel_after_polls -= 1
        return self.cancel_after_polls < 0

    @property
    def codes(self) -> list[str]:
        return [n.code for n in self.notices]


@pytest.fixture(scope="session")
def sandbox_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sandbox keys made once per run (RSA key generation is slow), copied per test."""
    root = tmp_path_factory.mktemp("sandbox-keys")
    SandboxKeys.load_or_create(root)
    return root / "sandbox"


@pytest.fixture
def sandbox(tmp_terminal: Terminal, sandbox_keys_dir: Path) -> Iterator[SandboxServer]:
    assert isinstance(tmp_terminal.clock, FakeClock)
    shutil.copytree(sandbox_keys_dir, tmp_terminal.data_dir / "sandbox")
    with SandboxServer(tmp_terminal.data_dir, clock=tmp_terminal.clock) as server:
        yield server


def make_channels(
    terminal: Terminal, sandbox: SandboxServer, **settings: Any
) -> dict[str, PaymentChannel]:
    opts: dict[str, Any] = {"timeout": 1.0, "poll_interval": 2.0, "payment_timeout": 30.0}
    opts.update(settings)
    cfg = sandbox.keys.terminal_config(sandbox.base_url, **opts)
    d, clock = terminal.data_dir, terminal.clock
    return {
        "alipay": AlipayChannel(ChannelEnv("alipay", cfg["alipay"], d, clock)),
        "wechat": WechatChannel(ChannelEnv("wechat", cfg["wechat"], d, clock)),
        "cash": CashChannel(ChannelEnv("cash", {}, d, clock)),
    }


def make_router(
    terminal: Terminal,
    sandbox: SandboxServer,
    breaker: BreakerPolicy | None = None,
    policy: ResolutionPolicy | None = None,
    **settings: Any,
) -> PaymentRouter:
    return PaymentRouter(
        IntentStore(terminal.db, terminal.clock, terminal.journal),
        make_channels(terminal, sandbox, **settings),
        terminal.clock,
        policy=policy,
        breaker_policy=breaker,
    )


@pytest.fixture
def router(tmp_terminal: Terminal, sandbox: SandboxServer) -> PaymentRouter:
    return make_router(tmp_terminal, sandbox)


@pytest.fixture
def data_dir(tmp_terminal: Terminal) -> Path:
    return tmp_terminal.data_dir


@pytest.fixture
def services(tmp_terminal: Terminal) -> TerminalServices:
    svc = TerminalServices.wrap(tmp_terminal)
    t = svc.terminal
    import_products(
        t.db, t.journal, t.clock, read_catalog_file(DEMO_CATALOG, "CNY"), replace=True, source="t"
    )
    return svc


def open_order(services: TerminalServices, *skus: str) -> str:
    order = services.checkout.new_order("c1")
    for sku in skus:
        services.checkout.add_item(order.order_id, sku)
    return order.order_id


def pay_without_recording(
    router: PaymentRouter, order_id: str, channel: str, amount: Money
) -> PaymentIntent:
    """The till's answer arrived, then the till stopped before its commit."""
    outcome = router.pay(
        order_id,
        channel,
        amount,
        PaymentMode.PAYMENT_CODE,
        RecordingHandler(),
        auth_code=AUTH_CODES[channel],
    )
    assert outcome.intent.status is PaymentStatus.SUCCEEDED
    return outcome.intent
