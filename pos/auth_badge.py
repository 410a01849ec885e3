"""Staff badges: smart cards tapped on the payment reader to sign in and to
approve. A badge holds an Ed25519 key pair made on the card at enrolment; the
private key never leaves it. The till keeps only the public key and, at every
tap, asks the card to sign a fresh random challenge (an INTERNAL
AUTHENTICATE). A card that copies a badge's id but not its key cannot answer.

What the card signs is bound to its own id and to the purpose of the tap, so a
signature given for one badge or one purpose is worth nothing for another:

    b"POS-BADGE-AUTH-v1\\x00" || len(id) || id || purpose || challenge

The reader itself lives outside the core (drivers/pcsc/badge.py); the core
defines the port it implements, and front ends find it through the
`pos.badge_readers` entry-point group.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos.errors import InvalidInput, NotAllowed
from pos.messages import msg

DOMAIN = b"POS-BADGE-AUTH-v1\x00"
CHALLENGE_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
BADGE_READERS = "pos.badge_readers"

_BADGE_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")


class Purpose:
    """Why the card is asked to sign: one byte in the signed message."""

    ENROL = b"E"
    SIGN_IN = b"S"
    APPROVE = b"A"


def validate_badge_id(badge_id: str) -> None:
    if not isinstance(badge_id, str) or not _BADGE_ID_RE.fullmatch(badge_id):
        raise InvalidInput(msg("badge.bad_id", text=str(badge_id)[:40]))


def signed_message(badge_id: str, purpose: bytes, challenge: bytes) -> bytes:
    raw_id = badge_id.encode("ascii")
    return DOMAIN + bytes([len(raw_id)]) + raw_id + purpose + challenge


def new_challenge() -> bytes:
    return os.urandom(CHALLENGE_BYTES)


def signature_valid(
    public_key: bytes, badge_id: str, purpose: bytes, challenge: bytes, signature: bytes
) -> bool:
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, signed_message(badge_id, purpose, challenge)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def key_fingerprint(public_key: bytes) -> str:
    """What a person compares and the journal records: 16 hex digits."""
    return hashlib.sha256(public_key).hexdigest()[:16].upper()


class BadgeCard(Protocol):
    """A badge in the reader, for one tap."""

    @property
    def badge_id(self) -> str: ...

    def public_key(self) -> bytes:
        """The card's public key (made on the card the first time it is asked)."""
        ...

    def sign(self, purpose: bytes, challenge: bytes) -> bytes:
        """INTERNAL AUTHENTICATE: the card's signature over `signed_message`."""
        ...


class BadgeReader(Protocol):
    def tap(self, timeout: float) -> BadgeCard:
        """Waits for a badge on the reader (NotAllowed when what is there is
        no badge, a failure of the reader's own when none comes)."""
        ...

    def release(self) -> None:
        """The badge may be taken away."""
        ...

    def close(self) -> None: ...


def badge_readers_installed() -> bool:
    from importlib.metadata import entry_points  # scanned only when a badge is used

    return any(True for _ in entry_points(group=BADGE_READERS))


def open_badge_reader(reader: str | None = None) -> BadgeReader:
    """The first badge reader the installed layers offer (drivers: PC/SC)."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=BADGE_READERS), key=lambda e: e.name)
    for ep in found:
        try:
            factory: Callable[[str | None], BadgeReader] = ep.load()
        except ImportError:
            continue
        return factory(reader)
    raise NotAllowed(msg("badge.no_reader"))
