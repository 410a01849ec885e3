"""The card tender in the app: the card channel that the `card` section of
payments.json sets up (drivers.card_channel, the same channel `pos` registers
in `pos.payment_channels`), speaking to the app's own reader handler so its
prompts reach the payment dialog. For the demo and tests, the same channel
on the vpcd virtual reader inside pcscd, with the sandbox acquirer service
on loopback (which writes the card section) and a "shopper" who inserts the
emulated card when the reader asks for it. When pcscd or the virtual reader
is not there, the card tender says why instead."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos.clock import SystemClock
from pos.errors import PosError
from pos.flows.core import CardPromptRelay
from pos.flows.text import Text
from pos.payments.channel import ChannelEnv, PaymentChannel, SecretSource
from pos.payments.settings import load_payments_config
from pos.store.terminal import Terminal

if TYPE_CHECKING:
    from drivers.handler import CardHandler
    from drivers.virtualcard.profiles import CardProfile
    from drivers.virtualcard.vpcd import VirtualCardSlot

log = logging.getLogger(__name__)
READER = "Virtual PCD 00 00"
ROOT = Path(__file__).resolve().parent.parent


class DemoShopper:
    """The reader's CardHandler in the demo: every prompt goes to the payment
    dialog (through the relay); when asked, the shopper's emulated card goes
    into the virtual slot, and comes out when the reader says so."""

    def __init__(self, relay: CardPromptRelay, slot: VirtualCardSlot, profile: CardProfile) -> None:
        self.relay = relay
        self.slot = slot
        self.profile = profile  # the card the next shopper hands over

    def show_message(self, text: str) -> None:
        self.relay.show_message(text)

    def insert_card(self, reader: str, amount_text: str) -> None:
        from drivers.virtualcard.card import EmvCard

        self.relay.insert_card(reader, amount_text)
        self.slot.insert(EmvCard(self.profile))

    def choose_application(self, options: list[str]) -> int | None:
        return self.relay.choose_application(options)

    def remove_card(self, text: str) -> None:
        self.relay.remove_card(text)
        self.slot.remove()

    def cancelled(self) -> bool:
        return self.relay.cancelled()


def configured_card(
    terminal: Terminal, handler: CardHandler, secrets: SecretSource | None = None
) -> tuple[PaymentChannel | None, str | None]:
    """The card channel the `card` section of payments.json sets up, with the
    reader's prompts going to `handler`; (None, None) when there is no card
    section, (None, why) when it cannot start."""
    section = load_payments_config(terminal.data_dir).get("card")
    if section is None:
        return None, None
    try:
        from drivers.card_channel import build_card_channel
        from pos.payments.card.settings import card_settings

        env = ChannelEnv("card", section, terminal.data_dir, terminal.clock, secrets)
        return build_card_channel(terminal, card_settings(env), handler), None
    except (PosError, ImportError, OSError, ValueError) as exc:
        log.warning("card channel unavailable: %s", exc)
        return None, str(exc).splitlines()[0]


@dataclass
class CardSetup:
    """The demo's card: the shopper at the reader and the sandbox acquirer.
    `channel` is the configured card channel once the router has it."""

    channel: object | None
    why_not: Text | None = None
    acquirer: Any = None  # the SandboxAcquirer: accounts and balances for a scenario
    shopper: DemoShopper | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)


def _virtual_reader_up(wait_s: float) -> bool:
    from drivers.pcsc.reader import list_readers

    end = time.monotonic() + wait_s
    while True:
        try:
            if READER in list_readers():
                return True
        except Exception as exc:  # pcscd not running yet
            log.info("no readers yet: %s", exc)
        if time.monotonic() > end:
            return False
        time.sleep(0.1)


def demo_card(terminal: Terminal, relay: CardPromptRelay) -> CardSetup:
    """The virtual reader with the demo shopper at it, and the sandbox acquirer
    service, which points the card section of payments.json at itself and at
    this reader; or why there is none. The channel itself is the configured
    one (`configured_card` with the shopper as its handler)."""
    try:
        from drivers.virtualcard.profiles import UNIONPAY
        from drivers.virtualcard.vpcd import VirtualCardSlot
        from pos.payments.card.sandbox_service import (
            PUBLIC_KEY_FILE,
            SANDBOX_DIR,
            SandboxAcquirerService,
        )
        from pos.payments.card.settings import card_section
        from pos.payments.sandbox.keys import write_terminal_config
    except ImportError as exc:
        return CardSetup(
            None, Text(f"读卡组件未安装：{exc}", f"Card support is not installed: {exc}")
        )
    if not _virtual_reader_up(0.5):
        script = ROOT / "scripts" / "pcscd-vpcd.sh"
        if script.exists():
            subprocess.run(["bash", str(script), "start"], capture_output=True, check=False)
        if not _virtual_reader_up(8.0):
            return CardSetup(
                None,
                Text(
                    "没有读卡器：请启动 pcscd 和虚拟读卡器（scripts/pcscd-vpcd.sh start）。",
                    "No card reader: start pcscd with the virtual reader "
                    "(scripts/pcscd-vpcd.sh start).",
                ),
            )
    service = SandboxAcquirerService(terminal.data_dir, SystemClock()).start(configure=False)
    host, port = service.acquirer.address
    section = card_section(host, port, f"{SANDBOX_DIR}/{PUBLIC_KEY_FILE}")
    section["reader"] = READER
    write_terminal_config(terminal.data_dir, {"card": section})
    slot = VirtualCardSlot()
    shopper = DemoShopper(relay, slot, UNIONPAY)
    return CardSetup(None, None, service.acquirer, shopper, [service.stop, slot.remove])
