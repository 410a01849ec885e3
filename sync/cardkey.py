"""The chain's card-token key on its way from the server to a terminal.

A card token is an HMAC of the card number; one key for the whole chain
makes one card the same token at every till, so the server can follow it
across stores. The server holds the key (sync.server.cardkey) and hands it
to a terminal sealed to a one-time X25519 key the terminal made for that
request (ECIES: X25519, HKDF-SHA256, AES-256-GCM), signed with the server's
key, so only that terminal can open it and it knows the server sent it.
Neither side logs the key or keeps it anywhere but its keystore.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.protocol import check_signed_document, signed_document
from sync.schemas import CardKeyDelivery

KEY_BYTES = 32


class CardKeyRejected(Exception):
    """The delivery is not for this terminal, not the server's, or does not open."""


def _box(shared: bytes, terminal_id: str, ephemeral: str, box_key: str) -> AESGCM:
    info = f"pos-card-token-key-v1|{terminal_id}|{ephemeral}|{box_key}".encode()
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared))


def _fields(d: CardKeyDelivery) -> dict[str, object]:
    return {
        "purpose": "pos-card-token-key",
        "terminal_id": d.terminal_id,
        "generation": d.generation,
        "box_key": d.box_key,
        "ephemeral_key": d.ephemeral_key,
        "sealed": d.sealed,
    }


def new_box_key() -> tuple[X25519PrivateKey, str]:
    """A one-time key pair for one request: the private half and the public as hex."""
    private = X25519PrivateKey.generate()
    return private, private.public_key().public_bytes_raw().hex()


def seal(
    card_key: bytes, generation: int, terminal_id: str, box_key: str, server: Ed25519PrivateKey
) -> CardKeyDelivery:
    """`card_key` sealed to the terminal's one-time `box_key`, signed by `server`."""
    ephemeral = X25519PrivateKey.generate()
    eph_hex = ephemeral.public_key().public_bytes_raw().hex()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(box_key)))
    nonce = os.urandom(12)
    aad = f"{terminal_id}:{generation}".encode()
    sealed = nonce + _box(shared, terminal_id, eph_hex, box_key).encrypt(nonce, card_key, aad)
    unsigned = CardKeyDelivery(
        terminal_id=terminal_id,
        generation=generation,
        box_key=box_key,
        ephemeral_key=eph_hex,
        sealed=sealed.hex(),
        signature="0" * 128,
    )
    return unsigned.model_copy(update={"signature": signed_document(_fields(unsigned), server)})


def open_delivery(
    d: CardKeyDelivery, terminal_id: str, box: X25519PrivateKey, server: Ed25519PublicKey
) -> bytes:
    """The card-token key in `d`, checked to be the server's and for this terminal."""
    mine = box.public_key().public_bytes_raw().hex()
    if d.terminal_id != terminal_id or d.box_key != mine:
        raise CardKeyRejected("the card-token key was sealed for another request")
    if not check_signed_document(_fields(d), d.signature, server):
        raise CardKeyRejected("the card-token key is not signed by the pinned server key")
    try:
        raw = bytes.fromhex(d.sealed)
        shared = box.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(d.ephemeral_key)))
        key = _box(shared, terminal_id, d.ephemeral_key, d.box_key).decrypt(
            raw[:12], raw[12:], f"{terminal_id}:{d.generation}".encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise CardKeyRejected("the card-token key does not open") from exc
    if len(key) != KEY_BYTES:
        raise CardKeyRejected("the card-token key has the wrong length")
    return key
