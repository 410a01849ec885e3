"""SHA256withRSA (PKCS#1 v1.5), the signature both Alipay (RSA2) and WeChat Pay
API v3 use, and loading of PEM keys from files or bytes."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pos.errors import PosError
from pos.messages import Message, msg

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey


class KeyFileError(PosError):
    pass


def load_private_key(pem: bytes, what: str | Message = "") -> PrivateKey:
    what = what or msg("payments.key.private")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(msg("payments.key.not_private", what=what)) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(msg("payments.key.not_rsa_private", what=what))
    return key


def load_public_key(pem: bytes, what: str | Message = "") -> PublicKey:
    """A PEM public key, an X.509 certificate, or the bare base64 body Alipay's
    console shows."""
    what = what or msg("payments.key.public")
    text = pem.strip()
    key: object
    try:
        if text.startswith(b"-----BEGIN CERTIFICATE"):
            from cryptography import x509

            key = x509.load_pem_x509_certificate(text).public_key()
        elif text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise KeyFileError(msg("payments.key.not_public", what=what)) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFileError(msg("payments.key.not_rsa_public", what=what))
    return key


def read_key_file(path: str | Path, what: str | Message) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(
            msg("payments.key.unreadable", what=what, path=str(path), detail=str(exc.strerror))
        ) from exc


def sign(key: PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: PublicKey, data: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def generate() -> PrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
