"""The card payment channel as the terminal builds it: the `card` section of
payments.json, a PC/SC reader with the EMV kernel, the acquirer link, the
card ledger in the terminal's store, and the risk engine asked before an
offline approval. Registered as `card` in the `pos.payment_channels`
entry-point group (`make_card_channel`); the Qt app passes its own
CardHandler, the command line prints the reader's prompts."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from drivers.emv.config import TerminalConfig
from drivers.handler import CardHandler, CliCardHandler
from drivers.pcsc.terminal import PcscCardTerminal
from pos.clock import SystemClock
from pos.payments.card.acquirer import AcquirerClient
from pos.payments.card.channel import CardChannel, CardChannelParts, OfflineRiskQuery
from pos.payments.card.ledger import CardLedger
from pos.payments.card.settings import CardSettings, card_settings
from pos.payments.channel import ChannelEnv
from pos.services.risk_gate import RiskRefused
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import Terminal, open_terminal


@dataclass
class RiskOffline:
    """The offline_risk hook: the terminal's risk engine decides the sale again
    as an offline card payment (``online=False``) with the card's token and
    BIN, for the order's own basket, cashier and mode. Only an outright allow
    lets the card approve offline: no step-up (manager PIN, ID check, "pay
    online") can be met while the card waits in the reader. A refusal is
    recorded like any refused tender (declines velocity, journal)."""

    terminal: Terminal
    _services: TerminalServices | None = None

    def services(self) -> TerminalServices:
        # The engine is opened at the first offline decision: most card
        # payments go online and never need it.
        if self._services is None:
            self._services = TerminalServices.wrap(self.terminal)
        return self._services

    def __call__(self, query: OfflineRiskQuery) -> str:
        checkout = self.services().checkout
        gate = checkout.risk
        if gate is None:
            return "the terminal's risk rules are not loaded"
        stored = checkout.get(query.intent.order_id)
        ctx = gate.sale_context(
            stored.order,
            channel=query.intent.channel,
            amount=query.intent.amount,
            mode=stored.mode,
            online=False,
            at=checkout.local_time(),
            card_token=query.card_token,
            card_bin=query.card_bin,
        )
        try:
            gate.check(ctx)
        except RiskRefused as refused:
            gate.record_refused(self.terminal.db, refused, ctx)
            return refused.message
        return ""


def build_card_channel(
    terminal: Terminal, settings: CardSettings, handler: CardHandler
) -> CardChannel:
    """The card channel on an opened terminal."""
    reader = PcscCardTerminal(
        handler,
        SystemClock(),  # reader timing is wall time, whatever the payment clock is
        reader=settings.reader,
        config=TerminalConfig(card_timeout_s=settings.card_timeout_s),
    )
    channel = CardChannel(
        CardChannelParts(
            terminal=reader,
            ledger=CardLedger(terminal.db, terminal.journal, terminal.clock),
            acquirer=AcquirerClient(settings.acquirer),
            card_key=terminal.card_token_key,
            clock=terminal.clock,
            policy=settings.policy,
            acquirer_key=settings.acquirer_key,
            offline_risk=RiskOffline(terminal),
        )
    )
    weakref.finalize(channel, reader.close)
    return channel


def make_card_channel(env: ChannelEnv, handler: CardHandler | None = None) -> CardChannel:
    """The `pos.payment_channels` factory. The card ledger lives in the
    terminal's store, which a ChannelEnv does not carry, so the channel opens
    its own handle on it (same data directory, keys from the same keystore)
    and closes it when the channel is dropped."""
    settings = card_settings(env)
    terminal = open_terminal(env.data_dir, env.clock)
    try:
        channel = build_card_channel(terminal, settings, handler or CliCardHandler())
    except BaseException:
        terminal.close()
        raise
    weakref.finalize(channel, terminal.close)
    return channel
