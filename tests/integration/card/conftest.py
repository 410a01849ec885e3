"""The real path a card takes: pyscard -> pcscd -> vpcd reader driver ->
the emulated card in this process; and a sandbox acquirer on 127.0.0.1."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("smartcard")

from drivers.pcsc.reader import card_present, list_readers
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import CardProfile
from drivers.virtualcard.vpcd import VirtualCardSlot
from pos.clock import SystemClock
from pos.payments.card.sandbox_acquirer import SandboxAcquirer
from pos.payments.channel import Notice
from tests.integration.card.card_rig import build_rig

ROOT = Path(__file__).resolve().parents[3]
READER = "Virtual PCD 00 00"


def _vpcd_listening() -> bool:
    out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
    return ":35963 " in out


@pytest.fixture(scope="session")
def pcscd() -> Iterator[None]:
    started = False
    if not _vpcd_listening():
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pcscd-vpcd.sh"), "start"],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.fail(f"pcscd with the vpcd reader would not start: {proc.stderr}")
        started = True
    deadline = time.monotonic() + 10
    while READER not in list_readers():
        if time.monotonic() > deadline:
            pytest.fail(f"the virtual reader did not appear: {list_readers()}")
        time.sleep(0.1)
    yield
    if started:
        subprocess.run(["bash", str(ROOT / "scripts" / "pcscd-vpcd.sh"), "stop"], check=False)


def wait_slot_state(present: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (card_present(READER) is not None) != present:
        if time.monotonic() > deadline:
            raise AssertionError(f"reader did not become {'full' if present else 'empty'}")
        time.sleep(0.02)


class Counter:
    """The person at the counter: inserts the card when asked."""

    def __init__(self, slot: VirtualCardSlot) -> None:
        self.slot = slot
        self.card: EmvCard | None = None
        self.messages: list[str] = []
        self.choices: list[list[str]] = []
        self.choose_index = 0

    def hand_over(self, profile: CardProfile) -> EmvCard:
        self.card = EmvCard(profile)
        return self.card

    # CardHandler
    def show_message(self, text: str) -> None:
        self.messages.append(text)

    def insert_card(self, reader: str, amount_text: str) -> None:
        self.messages.append(f"insert {amount_text}")
        assert self.card is not None, "the test did not hand over a card"
        wait_slot_state(False)
        self.slot.insert(self.card)

    def choose_application(self, options: list[str]) -> int | None:
        self.choices.append(options)
        return self.choose_index

    def remove_card(self, text: str) -> None:
        self.messages.append(text)
        self.slot.remove()

    def cancelled(self) -> bool:
        return False


class Shown:
    """The PaymentHandler side: notices shown to the cashier."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def show_qr(self, payload: str) -> None:
        raise AssertionError("a card payment shows no QR")

    def status(self, notice: Notice) -> None:
        self.notices.append(notice)

    def cancel_requested(self) -> bool:
        return False


@pytest.fixture
def slot(pcscd: None) -> Iterator[VirtualCardSlot]:
    s = VirtualCardSlot()
    yield s
    s.remove()
    wait_slot_state(False)


@pytest.fixture
def counter(slot: VirtualCardSlot) -> Counter:
    return Counter(slot)


@pytest.fixture
def acquirer() -> Iterator[SandboxAcquirer]:
    a = SandboxAcquirer(SystemClock()).start()
    yield a
    a.stop()


@pytest.fixture
def rig(tmp_terminal, counter, acquirer):  # type: ignore[no-untyped-def]
    r = build_rig(tmp_terminal, acquirer, counter, Shown())
    yield r
    r.channel.p.terminal.close()  # type: ignore[attr-defined]
