"""The server's Ed25519 signing key, which signs configuration versions and
which every terminal pins at enrolment. Kept in a file readable by the server
account only (a server has no desktop keyring); losing it means re-enrolling
every terminal, so back it up with the database."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)


class ServerKeyError(Exception):
    pass


def load_or_create(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise ServerKeyError(
                f"{path} is not a PEM private key; restore it from backup or move it away "
                "(a new key means every terminal must enrol again)"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ServerKeyError(f"{path} holds a key that is not Ed25519")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return key
