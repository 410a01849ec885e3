"""Finding the terminal's payment channels and wiring the router.

Channels come from the ``pos.payment_channels`` entry-point group: each entry
is ``name = module:factory`` where ``factory(env: ChannelEnv)`` builds the
channel from the ``name`` section of payments.json. A channel whose section is
missing or wrong is left out (and the reason reported), so a terminal without
WeChat Pay credentials still takes cash and Alipay."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from pos.clock import Clock
from pos.errors import PosError
from pos.payments.channel import ChannelEnv, PaymentChannel, SecretSource
from pos.payments.intents import IntentStore, JournalPort, Store
from pos.payments.router import PaymentRouter, ResolutionPolicy
from pos.payments.settings import load_payments_config
from pos.store.demo import is_demo_terminal, refuse_live_endpoints

log = logging.getLogger(__name__)
GROUP = "pos.payment_channels"
NEEDS_NO_CONFIG = frozenset({"cash"})


class _KeyStore(Protocol):
    def get(self, name: str) -> bytes | None: ...


class KeystoreSecrets:
    """Secrets for channels from the terminal's keystore (the OS keyring)."""

    def __init__(self, keystore: _KeyStore) -> None:
        self._keystore = keystore

    def get_secret(self, name: str) -> bytes | None:
        return self._keystore.get(name)


def load_channels(
    data_dir: Path,
    clock: Clock,
    secret: SecretSource | None = None,
    only: Iterable[str] | None = None,
) -> tuple[dict[str, PaymentChannel], dict[str, str]]:
    """(channels by name, why each missing one is missing)."""
    config = load_payments_config(data_dir)
    wanted = set(only) if only is not None else None
    demo = is_demo_terminal(data_dir)
    channels: dict[str, PaymentChannel] = {}
    problems: dict[str, str] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if wanted is not None and ep.name not in wanted:
            continue
        section: dict[str, Any] | None = config.get(ep.name)
        if section is None and ep.name not in NEEDS_NO_CONFIG:
            problems[ep.name] = "not configured in payments.json"
            continue
        if demo and (refused := refuse_live_endpoints(ep.name, section or {})) is not None:
            problems[ep.name] = refused.render("en")
            continue
        try:
            factory = ep.load()
            env = ChannelEnv(ep.name, section or {}, data_dir, clock, secret)
            channel = factory(env)
        except (PosError, ImportError, OSError, ValueError) as exc:
            log.warning("payment channel %s unavailable: %s", ep.name, exc)
            problems[ep.name] = str(exc).splitlines()[0]
            continue
        if not isinstance(channel, PaymentChannel):
            problems[ep.name] = "does not implement PaymentChannel"
            continue
        channels[ep.name] = channel
    return channels, problems


class _Terminal(Protocol):
    @property
    def data_dir(self) -> Path: ...

    @property
    def db(self) -> Store: ...

    @property
    def journal(self) -> JournalPort: ...

    @property
    def keystore(self) -> _KeyStore: ...

    @property
    def clock(self) -> Clock: ...


def open_router(
    terminal: _Terminal, policy: ResolutionPolicy | None = None
) -> tuple[PaymentRouter, dict[str, str]]:
    """The router over every usable channel of an opened terminal."""
    channels, problems = load_channels(
        terminal.data_dir, terminal.clock, KeystoreSecrets(terminal.keystore)
    )
    intents = IntentStore(terminal.db, terminal.clock, terminal.journal)
    return PaymentRouter(intents, channels, terminal.clock, policy=policy), problems
