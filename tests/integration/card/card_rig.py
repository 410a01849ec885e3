"""Wiring for the card integration tests: a provisioned terminal, the card
channel on the virtual reader, the router, and the sandbox acquirer."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.pcsc.terminal import PcscCardTerminal
from pos.clock import FakeClock, SystemClock
from pos.money import Money
from pos.payments import rsa
from pos.payments.card.acquirer import AcquirerClient, AcquirerConfig
from pos.payments.card.channel import CardChannel, CardChannelParts, OfflineRisk
from pos.payments.card.ledger import CardLedger
from pos.payments.card.offline import OfflinePolicy
from pos.payments.card.sandbox_acquirer import SandboxAcquirer
from pos.payments.channel import PaymentMode
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentOutcome, PaymentRouter
from pos.store import Terminal

READER = "Virtual PCD 00 00"


@dataclass
class Rig:
    terminal: Terminal
    acquirer: SandboxAcquirer
    channel: CardChannel
    router: PaymentRouter
    ledger: CardLedger
    clock: FakeClock
    handler: object
    orders: int = 0

    def pay(self, amount_minor: int) -> PaymentOutcome:
        self.orders += 1
        return self.router.pay(
            f"ORDER-{self.orders}", "card", Money(amount_minor), PaymentMode.CARD, self.handler
        )

    def row(self, outcome: PaymentOutcome) -> dict[str, object]:
        row = self.ledger.get(outcome.intent.intent_id)
        assert row is not None
        return dict(row)


def build_rig(
    terminal: Terminal,
    acquirer: SandboxAcquirer,
    card_handler: object,
    payment_handler: object,
    policy: OfflinePolicy | None = None,
    offline_risk: OfflineRisk | None = None,
    response_timeout: float = 1.0,
) -> Rig:
    clock = terminal.clock
    assert isinstance(clock, FakeClock)
    host, port = acquirer.address
    client = AcquirerClient(
        AcquirerConfig(host, port, connect_timeout=1.0, response_timeout=response_timeout)
    )
    ledger = CardLedger(terminal.db, terminal.journal, clock)
    reader = PcscCardTerminal(card_handler, SystemClock(), reader=READER)  # type: ignore[arg-type]
    channel = CardChannel(
        CardChannelParts(
            terminal=reader,
            ledger=ledger,
            acquirer=client,
            card_key=terminal.card_token_key,
            clock=clock,
            policy=policy or OfflinePolicy(),
            acquirer_key=rsa.load_public_key(acquirer.public_key_pem),
            offline_risk=offline_risk,
        )
    )
    router = PaymentRouter(
        IntentStore(terminal.db, clock, terminal.journal), {"card": channel}, clock
    )
    return Rig(terminal, acquirer, channel, router, ledger, clock, payment_handler)
