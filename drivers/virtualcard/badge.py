"""The emulated staff badge: a card with one applet (BADGE_AID) that makes
its Ed25519 key pair on the card when first asked, hands out only the public
key, and signs challenges (INTERNAL AUTHENTICATE) bound to its own id.

    SELECT BADGE_AID                 -> FCI with the badge id (tag C1)
    00 46 81 00  (read public key)   -> 86 <32 bytes>; 6A88 before one is made
    00 46 80 00  (generate key pair) -> 86 <32 bytes>; 6985 once made
    00 88 00 00 Lc purpose||challenge Le  -> 64-byte signature

A badge made with `copy_of` carries another badge's id with a key of its
own: what a cloned id looks like to the till."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from drivers.badge_applet import (
    BADGE_AID,
    INS_INTERNAL_AUTHENTICATE,
    INS_KEY_PAIR,
    P1_GENERATE,
    P1_READ,
    SW_NO_KEY,
    TAG_BADGE_ID,
    TAG_PUBLIC_KEY,
)
from drivers.virtualcard.card import (
    SW_CONDITIONS,
    SW_INS,
    SW_NOT_FOUND,
    SW_OK,
    SW_P1P2,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    Command,
)
from drivers.virtualcard.profiles import ATR_T1
from pos.auth_badge import CHALLENGE_BYTES, signed_message
from pos.payments.card.tlv import encode, encode_constructed

_SW_NO_KEY = SW_NO_KEY.to_bytes(2, "big")


@dataclass(frozen=True)
class BadgeProfile:
    name: str
    badge_id: str
    holder: str


BADGE_PROFILES: dict[str, BadgeProfile] = {
    p.name: p
    for p in (
        BadgeProfile("badge-manager", "B-0001", "manager"),
        BadgeProfile("badge-cashier", "B-0002", "cashier"),
    )
}


class BadgeCardEmulator:
    """One badge. `respond` runs on the vpcd thread."""

    def __init__(self, badge_id: str, key: Ed25519PrivateKey | None = None) -> None:
        self.badge_id = badge_id
        self._key = key
        self._selected = False
        self.lock = threading.Lock()
        self.signatures = 0

    @classmethod
    def of(cls, profile: BadgeProfile) -> BadgeCardEmulator:
        return cls(profile.badge_id)

    def copy_of(self) -> BadgeCardEmulator:
        """A card with this badge's id and a key of its own."""
        return BadgeCardEmulator(self.badge_id, Ed25519PrivateKey.generate())

    def private_bytes(self) -> bytes | None:
        """The chip's key, for the emulator to keep between runs (never the till)."""
        with self.lock:
            if self._key is None:
                return None
            return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def atr(self) -> bytes:
        return ATR_T1

    def power_on(self) -> None:
        with self.lock:
            self._selected = False

    def respond(self, apdu: bytes) -> bytes:
        with self.lock:
            cmd = Command.parse(apdu)
            if cmd is None:
                return SW_WRONG_LENGTH
            if (cmd.cla, cmd.ins) == (0x00, 0xA4):
                return self._select(cmd)
            if not self._selected:
                return SW_CONDITIONS
            if (cmd.cla, cmd.ins) == (0x00, INS_KEY_PAIR):
                return self._key_pair(cmd)
            if (cmd.cla, cmd.ins) == (0x00, INS_INTERNAL_AUTHENTICATE):
                return self._internal_authenticate(cmd)
            return SW_INS

    def _select(self, cmd: Command) -> bytes:
        if cmd.p1 != 0x04 or cmd.data != BADGE_AID:
            self._selected = False
            return SW_NOT_FOUND
        self._selected = True
        fci = encode_constructed(
            0x6F,
            [
                encode(0x84, BADGE_AID),
                encode_constructed(0xA5, [encode(TAG_BADGE_ID, self.badge_id.encode("ascii"))]),
            ],
        )
        return fci + SW_OK

    def _public(self) -> bytes:
        assert self._key is not None
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return encode(TAG_PUBLIC_KEY, raw) + SW_OK

    def _key_pair(self, cmd: Command) -> bytes:
        if cmd.p1 == P1_READ:
            return _SW_NO_KEY if self._key is None else self._public()
        if cmd.p1 == P1_GENERATE:
            if self._key is not None:
                return SW_CONDITIONS
            self._key = Ed25519PrivateKey.generate()
            return self._public()
        return SW_P1P2

    def _internal_authenticate(self, cmd: Command) -> bytes:
        if self._key is None:
            return _SW_NO_KEY
        if len(cmd.data) != 1 + CHALLENGE_BYTES:
            return SW_WRONG_DATA
        purpose, challenge = cmd.data[:1], cmd.data[1:]
        self.signatures += 1
        return self._key.sign(signed_message(self.badge_id, purpose, challenge)) + SW_OK


def badge_with_chip(profile: BadgeProfile, chip_file: Path | None) -> BadgeCardEmulator:
    """The emulated badge, its key pair kept in `chip_file` between runs (what
    a real card keeps in its chip): the demo enrols it once and taps it again."""
    if chip_file is None:
        return BadgeCardEmulator(profile.badge_id)
    if chip_file.exists():
        key = Ed25519PrivateKey.from_private_bytes(chip_file.read_bytes())
    else:
        # A new chip file is a card personalised elsewhere: it has its key.
        key = Ed25519PrivateKey.generate()
    return BadgeCardEmulator(profile.badge_id, key)


def keep_chip(card: BadgeCardEmulator, chip_file: Path | None) -> None:
    if chip_file is None or card.private_bytes() is None:
        return
    chip_file.parent.mkdir(parents=True, exist_ok=True)
    chip_file.write_bytes(card.private_bytes() or b"")
    chip_file.chmod(0o600)
