"""Application cryptograms as EMV Book 2 (Annex A1) defines them, with
double-length 3DES keys:

- ICC master key from the issuer master key, option A (A1.4.1),
- session key by the Common Session Key derivation (A1.3) from the ATC,
- the cryptogram as an ISO 9797-1 algorithm 3 MAC (retail MAC, padding
  method 2) over the transaction data,
- ARPC method 1 (A1.2.1): 3DES of ARQC xor ARC.

Both the card emulator and the sandbox issuer compute with this module; a
cryptogram made under one key never verifies under another.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg

# The data elements the cryptogram covers, in this order. The card takes the
# terminal's values from its CDOL1/CDOL2 data and adds its own AIP, ATC and
# issuer application data; the issuer takes them all from field 55.
CRYPTOGRAM_TAGS: tuple[int, ...] = (
    0x9F02,  # amount, authorised
    0x9F03,  # amount, other
    0x9F1A,  # terminal country code
    0x95,  # TVR
    0x5F2A,  # transaction currency code
    0x9A,  # transaction date
    0x9C,  # transaction type
    0x9F37,  # unpredictable number
    0x82,  # AIP
    0x9F36,  # ATC
    0x9F10,  # issuer application data
)

# Cryptogram information data (9F27), bits 8-7.
CID_AAC = 0x00
CID_TC = 0x40
CID_ARQC = 0x80


def cryptogram_type(cid: int) -> str:
    return {CID_AAC: "AAC", CID_TC: "TC", CID_ARQC: "ARQC"}.get(cid & 0xC0, "RFU")


def _check_key(key: bytes) -> None:
    if len(key) != 16:
        raise InvalidInput(msg("card.error.key_length"))


def _ecb(key: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(key if len(key) == 24 else key + key[:8]), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(block) + op.finalize()


def _des(key8: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    return _ecb(key8 * 3, block, decrypt=decrypt)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _odd_parity(key: bytes) -> bytes:
    return bytes((b & 0xFE) | ((bin(b & 0xFE).count("1") + 1) & 1) for b in key)


def pan_block(pan: str, psn: str | None) -> bytes:
    """The 8-byte Y of option A: rightmost 16 digits of PAN || PSN, left-padded."""
    if not is_digits(pan) or not 12 <= len(pan) <= 19:
        raise InvalidInput(msg("card.error.pan_digits"))
    digits = (pan + (psn if psn and is_digits(psn) else "00")).rjust(16, "0")[-16:]
    return bytes.fromhex(digits)


def derive_icc_master_key(imk: bytes, pan: str, psn: str | None) -> bytes:
    _check_key(imk)
    y = pan_block(pan, psn)
    left = _ecb(imk, y)
    right = _ecb(imk, _xor(y, b"\xff" * 8))
    return _odd_parity(left + right)


def derive_session_key(icc_master_key: bytes, atc: bytes) -> bytes:
    _check_key(icc_master_key)
    if len(atc) != 2:
        raise InvalidInput(msg("card.error.atc_length"))
    left = _ecb(icc_master_key, atc + b"\xf0" + bytes(5))
    right = _ecb(icc_master_key, atc + b"\x0f" + bytes(5))
    return _odd_parity(left + right)


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 with padding method 2, 8 bytes."""
    _check_key(key)
    padded = data + b"\x80"
    padded += bytes(-len(padded) % 8)
    kl, kr = key[:8], key[8:]
    chain = bytes(8)
    for i in range(0, len(padded), 8):
        chain = _des(kl, _xor(chain, padded[i : i + 8]))
    return _des(kl, _des(kr, chain, decrypt=True))


def cryptogram_input(values: Mapping[int, bytes]) -> bytes:
    missing = [f"{t:X}" for t in CRYPTOGRAM_TAGS if t not in values]
    if missing:
        raise InvalidInput(msg("card.error.cryptogram_incomplete", missing=", ".join(missing)))
    return b"".join(values[t] for t in CRYPTOGRAM_TAGS)


def compute_cryptogram(session_key: bytes, values: Mapping[int, bytes]) -> bytes:
    return retail_mac(session_key, cryptogram_input(values))


def verify_cryptogram(session_key: bytes, values: Mapping[int, bytes], cryptogram: bytes) -> bool:
    return hmac.compare_digest(compute_cryptogram(session_key, values), cryptogram)


def compute_arpc(session_key: bytes, arqc: bytes, arc: bytes) -> bytes:
    """ARPC method 1; the issuer sends ARPC || ARC as issuer authentication data (91)."""
    _check_key(session_key)
    if len(arqc) != 8 or len(arc) != 2:
        raise InvalidInput(msg("card.error.arqc_length"))
    return _ecb(session_key, _xor(arqc, arc + bytes(6)))
