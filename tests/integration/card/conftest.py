"""The real path a card takes: pyscard -> pcscd -> vpcd reader driver ->
the emulated card in this process; and a sandbox acquirer on 127.0.0.1."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from importlib.metadata import entry_points
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
from tests.integration.card import private_pcscd
from tests.integration.card.card_rig import build_rig

ROOT = Path(__file__).resolve().parents[3]
READER = "Virtual PCD 00 00"


def _vpcd_listening() -> bool:
    out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
    return ":35963 " in out


def _shared_pcscd() -> Iterator[None]:
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


_DAEMON: list[private_pcscd.PrivatePcscd] = []


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pcscd with the vpcd reader: our own (see private_pcscd) when the
    machine lets us, else the system one, whose slot other processes share."""
    daemon, why = private_pcscd.start(tmp_path_factory.mktemp("pcscd"))
    if daemon is None:
        warnings.warn(f"card tests share the system pcscd ({why}); another process's "
                      "emulated card can occupy the slot", stacklevel=1)  # fmt: skip
        yield from _shared_pcscd()
        return
    _DAEMON.append(daemon)
    try:
        yield
    finally:
        _DAEMON.clear()
        private_pcscd.stop(daemon)


def wait_slot_state(present: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        atr = card_present(READER)
        if (atr is not None) == present:
            return
        if time.monotonic() > deadline:
            raise AssertionError(_slot_report(present, atr))
        time.sleep(0.02)


def _slot_report(present: bool, atr: bytes | None) -> str:
    """What the slot held, and who might have put it there."""
    want = "full" if present else "empty"
    text = f"reader did not become {want} in time"
    if atr is not None:
        text += f"; the card in it answers ATR {atr.hex().upper()}"
    if _DAEMON:
        text += f"\n--- our pcscd's log ---\n{_DAEMON[0].log_tail()}"
    else:
        out = subprocess.run(["ss", "-tnp"], capture_output=True, text=True).stdout
        peers = [line for line in out.splitlines() if ":35963 " in line or ":35964 " in line]
        text += "\nconnections to the shared vpcd slot:\n" + "\n".join(peers)
    return text


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


@pytest.fixture(scope="session")
def card_channel_registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """The `card` payment channel in the `pos.payment_channels` entry points,
    as the installed package declares it. Until the installed metadata has
    the line, a one-line distribution on sys.path declares the same entry
    point (found by importlib.metadata like any other); yields its folder
    for subprocesses' PYTHONPATH, or None when the package already has it."""
    if any(ep.name == "card" for ep in entry_points(group="pos.payment_channels")):
        yield None
        return
    root = tmp_path_factory.mktemp("card-entry-point")
    info = root / "store_checkout_card_channel-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: store-checkout-card-channel\nVersion: 0\n"
    )
    (info / "entry_points.txt").write_text(
        "[pos.payment_channels]\ncard = drivers.card_channel:make_card_channel\n"
    )
    sys.path.append(str(root))
    importlib.invalidate_caches()
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        importlib.invalidate_caches()
