"""Finding the terminal's payment channels and wiring the router.

Channels come from the ``pos.payment_channels`` entry-point group: each entry
is ``name = module:factory`` where ``factory(env: ChannelEnv)`` builds the
channel from the ``name`` section of payments.json. A channel whose section is
missing or wrong is left out (and the reason reported), so a terminal without
WeChat Pay credentials still takes cash and Alipay."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pos.clock import Clock
from pos.errors import PosError
from pos.payments.channel import ChannelEnv, PaymentChannel, SecretSource
from pos.payments.intents import IntentStore
from pos.payments.router import PaymentRouter, ResolutionPolicy
from pos.payments.settings import load_payments_config
from pos.store.demo import is_demo_terminal, refuse_live_endpoints

if TYPE_CHECKING:
    from pos.store.terminal import Terminal

log = logging.getLogger(__name__)
GROUP = "pos.payment_channels"
NEEDS_NO_CONFIG = frozenset({"cash"})
# The core's own channels (also in the entry-point group): a command that pays
# only with these loads them without scanning every installed distribution's
# entry points (~20 ms of a cash sale).
CORE_CHANNELS = {"cash": "pos.payments.cash:CashChannel"}
NOT_CONFIGURED = "not configured in payments.json"


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
    env: ChannelEnv | None = None,
) -> tuple[dict[str, PaymentChannel], dict[str, str]]:
    """(channels by name, why each missing one is missing). `env` is the
    till's environment (store, offline risk, device handler) that every
    channel gets, with its own name and section filled in."""
    config = load_payments_config(data_dir)
    wanted = set(only) if only is not None else None
    demo = is_demo_terminal(data_dir)
    channels: dict[str, PaymentChannel] = {}
    problems: dict[str, str] = {}
    for ep in _entries(wanted):
        if wanted is not None and ep.name not in wanted:
            continue
        section: dict[str, Any] | None = config.get(ep.name)
        if section is None and ep.name not in NEEDS_NO_CONFIG:
            problems[ep.name] = NOT_CONFIGURED
            continue
        if demo and (refused := refuse_live_endpoints(ep.name, section or {})) is not None:
            problems[ep.name] = refused.render("en")
            continue
        try:
            factory = ep.load()
            base = env or ChannelEnv(ep.name, {}, data_dir, clock, secret)
            channel = factory(
                replace(base, name=ep.name, config=section or {}, data_dir=data_dir, clock=clock)
            )
        except (PosError, ImportError, OSError, ValueError) as exc:
            log.warning("payment channel %s unavailable: %s", ep.name, exc)
            problems[ep.name] = str(exc).splitlines()[0]
            continue
        if not isinstance(channel, PaymentChannel):
            problems[ep.name] = "does not implement PaymentChannel"
            continue
        channels[ep.name] = channel
    return channels, problems


class _CoreEntry:
    """A core channel's entry, loaded like an entry point."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        return getattr(importlib.import_module(module), attr)


def _entries(wanted: set[str] | None) -> list[Any]:
    if wanted is not None and wanted <= CORE_CHANNELS.keys():
        return [_CoreEntry(name, CORE_CHANNELS[name]) for name in sorted(wanted)]
    from importlib.metadata import entry_points

    return sorted(entry_points(group=GROUP), key=lambda e: e.name)


def open_router(
    terminal: Terminal,
    policy: ResolutionPolicy | None = None,
    *,
    only: Iterable[str] | None = None,
    offline_risk: Callable[[Any], str] | None = None,
    handler: Any = None,
) -> tuple[PaymentRouter, dict[str, str]]:
    """The router over every usable channel of an opened terminal (or the
    `only` ones), each channel given the terminal's environment: its store,
    the offline risk question and the device handler."""
    secrets = KeystoreSecrets(terminal.keystore)
    env = ChannelEnv(
        "", {}, terminal.data_dir, terminal.clock, secrets, terminal, offline_risk, handler
    )
    channels, problems = load_channels(terminal.data_dir, terminal.clock, secrets, only, env)
    intents = IntentStore(terminal.db, terminal.clock, terminal.journal)
    return PaymentRouter(intents, channels, terminal.clock, policy=policy), problems
