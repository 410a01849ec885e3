"""The demo's card: the till's own card channel (drivers.card_channel, built
by the till from the `card` section of payments.json) on the vpcd virtual
reader inside pcscd, with the sandbox acquirer service on loopback (which
writes the card section) and a "shopper" at the reader, the till's device
handler, who inserts the emulated card when the reader asks for it. When
pcscd or the virtual reader is not there, the card tender says why instead."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos.clock import SystemClock
from pos.flows.core import CardPromptRelay
from pos.flows.text import Said
from pos.messages import msg
from pos.store.terminal import Terminal

if TYPE_CHECKING:
    from drivers.virtualcard.profiles import CardProfile
    from drivers.virtualcard.vpcd import VirtualCardSlot

log = logging.getLogger(__name__)
READER = "Virtual PCD 00 00"
ROOT = Path(__file__).resolve().parents[2]


class DemoShopper:
    """The reader's CardHandler in the demo: every prompt goes to the payment
    dialog (through the relay); when asked, the shopper's emulated card goes
    into the virtual slot (once the reader is up), and comes out when the
    reader says so."""

    def __init__(self, relay: CardPromptRelay, profile: CardProfile) -> None:
        self.relay = relay
        self.slot: VirtualCardSlot | None = None
        self.profile = profile  # the card the next shopper hands over

    def show_message(self, text: str) -> None:
        self.relay.show_message(text)

    def insert_card(self, reader: str, amount_text: str) -> None:
        from drivers.virtualcard.card import EmvCard

        self.relay.insert_card(reader, amount_text)
        if self.slot is not None:
            self.slot.insert(EmvCard(self.profile))

    def choose_application(self, options: list[str]) -> int | None:
        return self.relay.choose_application(options)

    def remove_card(self, text: str) -> None:
        self.relay.remove_card(text)
        if self.slot is not None:
            self.slot.remove()

    def cancelled(self) -> bool:
        return self.relay.cancelled()


@dataclass
class CardSetup:
    """The demo's card: the shopper at the reader and the sandbox acquirer.
    `channel` is the configured card channel once the router has it."""

    channel: object | None
    why_not: Said | None = None
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


def demo_card(terminal: Terminal, shopper: DemoShopper) -> CardSetup:
    """The virtual reader with the demo shopper at it, and the sandbox acquirer
    service, which points the card section of payments.json at itself and at
    this reader; or why there is none. The channel itself is the one the till
    then builds from that section, with the shopper as its device handler."""
    try:
        from drivers.virtualcard.vpcd import VirtualCardSlot
        from pos.payments.card.sandbox_service import (
            PUBLIC_KEY_FILE,
            SANDBOX_DIR,
            SandboxAcquirerService,
        )
        from pos.payments.card.settings import card_section
        from pos.payments.sandbox.keys import write_terminal_config
    except ImportError as exc:
        return CardSetup(None, msg("demo.card_not_installed", error=str(exc)))
    if not _virtual_reader_up(0.5):
        script = ROOT / "scripts" / "pcscd-vpcd.sh"
        if script.exists():
            subprocess.run(["bash", str(script), "start"], capture_output=True, check=False)
        if not _virtual_reader_up(8.0):
            return CardSetup(
                None,
                msg("demo.no_virtual_reader"),
            )
    service = SandboxAcquirerService(terminal.data_dir, SystemClock()).start(configure=False)
    host, port = service.acquirer.address
    section = card_section(host, port, f"{SANDBOX_DIR}/{PUBLIC_KEY_FILE}")
    section["reader"] = READER
    write_terminal_config(terminal.data_dir, {"card": section})
    slot = VirtualCardSlot()
    shopper.slot = slot
    return CardSetup(None, None, service.acquirer, shopper, [service.stop, slot.remove])
