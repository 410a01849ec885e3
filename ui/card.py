"""The card tender for the demo and tests: the card channel on the vpcd
virtual reader inside pcscd, the sandbox acquirer on loopback, and a "shopper"
who inserts the emulated card when the reader asks for it. When pcscd or the
virtual reader is not there, the card tender says why instead."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pos.clock import Clock, SystemClock
from pos.flows.core import CardPromptRelay
from pos.flows.text import Text
from pos.store.terminal import Terminal

if TYPE_CHECKING:
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


@dataclass
class CardSetup:
    channel: object | None
    why_not: Text | None = None
    acquirer: object | None = None
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


def demo_card(terminal: Terminal, relay: CardPromptRelay, clock: Clock | None = None) -> CardSetup:
    """The card channel on the virtual reader, or why there is none."""
    try:
        from drivers.pcsc.terminal import PcscCardTerminal
        from drivers.virtualcard.profiles import UNIONPAY
        from drivers.virtualcard.vpcd import VirtualCardSlot
        from pos.payments import rsa
        from pos.payments.card.acquirer import AcquirerClient, AcquirerConfig
        from pos.payments.card.channel import CardChannel, CardChannelParts
        from pos.payments.card.ledger import CardLedger
        from pos.payments.card.sandbox_acquirer import SandboxAcquirer
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
    clock = clock or terminal.clock
    acquirer = SandboxAcquirer(SystemClock()).start()
    slot = VirtualCardSlot()
    shopper = DemoShopper(relay, slot, UNIONPAY)
    host, port = acquirer.address
    reader = PcscCardTerminal(shopper, SystemClock(), reader=READER)
    channel = CardChannel(
        CardChannelParts(
            terminal=reader,
            ledger=CardLedger(terminal.db, terminal.journal, clock),
            acquirer=AcquirerClient(
                AcquirerConfig(host, port, connect_timeout=1.0, response_timeout=5.0)
            ),
            card_key=terminal.card_token_key,
            clock=clock,
            acquirer_key=rsa.load_public_key(acquirer.public_key_pem),
        )
    )
    return CardSetup(channel, None, acquirer, shopper, [acquirer.stop, slot.remove, reader.close])
