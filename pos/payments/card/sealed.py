"""Card data sealed for the acquirer. An offline approval must be forwarded
later with its card number, yet the terminal must never keep one: the number
is encrypted at the card (RSA-OAEP, SHA-256) to the acquirer's public key and
only that ciphertext is stored. The terminal cannot open it; the acquirer can."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from pos import canonical
from pos.errors import InvalidInput
from pos.messages import msg
from pos.payments import rsa

_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def seal_card(acquirer_key: rsa.PublicKey, pan: str, expiry_yymm: str) -> str:
    blob = canonical.dumps({"pan": pan, "exp": expiry_yymm})
    return base64.b64encode(acquirer_key.encrypt(blob, _OAEP)).decode()


def open_card(acquirer_private: rsa.PrivateKey, sealed: str) -> tuple[str, str]:
    """The acquirer's side: (PAN, expiry YYMM)."""
    try:
        blob = acquirer_private.decrypt(base64.b64decode(sealed, validate=True), _OAEP)
        data = canonical.loads(blob)
        return str(data["pan"]), str(data["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidInput(msg("card.error.sealed_unreadable")) from exc
