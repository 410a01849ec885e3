"""The card payment channel as the till builds it: the `card` section of
payments.json, a PC/SC reader with the EMV kernel, the acquirer link, the
card ledger in the till's own store, and the till's risk gate asked before an
offline approval. Registered as `card` in the `pos.payment_channels`
entry-point group (`make_card_channel`); everything it needs comes in its
ChannelEnv from the till (pos.app), the reader's prompts going to the till's
device handler (the app's dialog, or the console)."""

from __future__ import annotations

import weakref

from drivers.emv.config import TerminalConfig
from drivers.handler import CardHandler, CliCardHandler
from drivers.pcsc.terminal import PcscCardTerminal
from pos.clock import SystemClock
from pos.errors import NotAllowed
from pos.messages import msg
from pos.payments.card.acquirer import AcquirerClient
from pos.payments.card.channel import CardChannel, CardChannelParts, OfflineRisk
from pos.payments.card.ledger import CardLedger
from pos.payments.card.settings import CardSettings, card_settings
from pos.payments.channel import ChannelEnv, OpenedStore


def _no_offline_risk(query: object) -> str:
    return "the terminal's risk rules are not loaded"


def build_card_channel(
    store: OpenedStore,
    settings: CardSettings,
    handler: CardHandler,
    offline_risk: OfflineRisk = _no_offline_risk,
) -> CardChannel:
    """The card channel on an opened store."""
    reader = PcscCardTerminal(
        handler,
        SystemClock(),  # reader timing is wall time, whatever the payment clock is
        reader=settings.reader,
        config=TerminalConfig(card_timeout_s=settings.card_timeout_s),
    )
    channel = CardChannel(
        CardChannelParts(
            terminal=reader,
            ledger=CardLedger(store.db, store.journal, store.clock),
            acquirer=AcquirerClient(settings.acquirer),
            card_key=lambda: store.card_token_key,
            clock=store.clock,
            policy=settings.policy,
            acquirer_key=settings.acquirer_key,
            offline_risk=offline_risk,
        )
    )
    weakref.finalize(channel, reader.close)
    return channel


def make_card_channel(env: ChannelEnv) -> CardChannel:
    """The `pos.payment_channels` factory: the card ledger lives in the till's
    store, which the till hands over in the env."""
    settings = card_settings(env)
    if env.store is None:
        raise NotAllowed(msg("till.card_needs_till"))
    handler = env.handler if env.handler is not None else CliCardHandler()
    return build_card_channel(env.store, settings, handler, env.offline_risk or _no_offline_risk)
