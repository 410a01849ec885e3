"""Where the terminal's secrets live: the OS keyring, or (demo only) a file.

Three secrets are generated at `pos init`: the database key (32 random
bytes, used raw by SQLCipher), the Ed25519 journal-signing key (its 32-byte
private seed) and the HMAC-SHA256 key for card tokens. A fourth comes from the
central server: the chain's card-token key, the same at every terminal of the
chain (sync.cardkey), which card tokens use once the terminal holds it. They
are never logged, printed or written to the database.

`KeyringKeyStore` uses the keyring package, so keyring's own
PYTHON_KEYRING_BACKEND setting is honoured, but backends that do not protect
secrets (null, fail, plaintext files) are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

import keyring
from keyring.backend import KeyringBackend

from pos.store.errors import KeystoreUnavailable, MissingKey
from pos.store.files import atomic_write

DB_KEY = "database-key"
SIGNING_KEY = "journal-signing-key"
CARD_TOKEN_KEY = "card-token-key"
ALL_KEYS = (DB_KEY, SIGNING_KEY, CARD_TOKEN_KEY)
# Delivered by the server (sync.cardkey), not made here.
CHAIN_CARD_TOKEN_KEY = "chain-card-token-key"
KEY_BYTES = 32

DEMO_WARNING = (
    "WARNING: DEMO KEYSTORE. This terminal's keys are in a plain file in its data "
    "directory; anyone who can read that directory can read the database. Never "
    "take real payments with it: provision with `pos init` and a real OS keyring."
)

ENABLE_KEYRING = (
    "Enable a real OS keyring: on Linux, run a Secret Service provider (gnome-keyring "
    "or KWallet) in the session and unlock it; on Windows the Credential Locker and "
    "on macOS the Keychain are used automatically. If PYTHON_KEYRING_BACKEND is set, "
    "unset it or point it at one of those. (For a demo only: `pos init --demo-keystore`.)"
)


class KeyStore(Protocol):
    kind: str

    def get(self, name: str) -> bytes | None: ...

    def set(self, name: str, secret: bytes) -> None: ...

    def delete(self, name: str) -> None: ...

    def describe(self) -> str: ...


def new_secret() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def require(store: KeyStore, name: str, terminal_id: str) -> bytes:
    """The secret `name`, or MissingKey saying where it was looked for."""
    secret = store.get(name)
    if secret is None:
        raise MissingKey(
            f"the {name} of terminal {terminal_id} is not in {store.describe()}",
            "Unlock the keyring this terminal was provisioned with (same OS user and "
            "session). If the keyring was lost the database cannot be decrypted: restore "
            "the keyring, or provision a new terminal. No file was changed.",
        )
    if len(secret) != KEY_BYTES:
        raise MissingKey(
            f"the {name} of terminal {terminal_id} in {store.describe()} is damaged "
            f"({len(secret)} bytes instead of {KEY_BYTES})",
            "Restore the keyring from its backup. No file was changed.",
        )
    return secret


# --- the OS keyring -------------------------------------------------------------

_INSECURE_MODULES = ("keyring.backends.null", "keyring.backends.fail", "keyrings.alt")


def backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _insecure(backend: KeyringBackend) -> bool:
    name = backend_name(backend)
    return name.startswith(_INSECURE_MODULES) or "plaintext" in name.lower()


def secure_backend(backend: KeyringBackend) -> KeyringBackend:
    """The backend to keep secrets in, or KeystoreUnavailable explaining why none is safe.

    A chain of backends resolves to its best secure member, so a plaintext
    fallback lower in the chain is never written to or read from.
    """
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = list(backend.backends)
        for member in members:
            if not _insecure(member):
                chosen: KeyringBackend = member
                return chosen
        names = ", ".join(backend_name(m) for m in members) or "none"
        raise KeystoreUnavailable(
            f"no keyring backend here protects secrets (found: {names})", ENABLE_KEYRING
        )
    if _insecure(backend):
        raise KeystoreUnavailable(
            f"the keyring backend {backend_name(backend)} does not protect secrets "
            "(it stores nothing, fails, or writes plain files)",
            ENABLE_KEYRING,
        )
    return backend


class KeyringKeyStore:
    """Secrets in the OS keyring under service "store-checkout/<terminal id>"."""

    kind = "keyring"

    def __init__(self, terminal_id: str, backend: KeyringBackend | None = None) -> None:
        self.service = service_name(terminal_id)
        if backend is None:
            try:
                backend = keyring.get_keyring()
            except Exception as exc:  # a backend named in PYTHON_KEYRING_BACKEND failed to load
                raise self._unavailable(exc) from exc
        self._backend = secure_backend(backend)

    def __repr__(self) -> str:
        return f"KeyringKeyStore({self.service!r}, {backend_name(self._backend)})"

    def describe(self) -> str:
        return f"the OS keyring ({backend_name(self._backend)}, service {self.service!r})"

    def _unavailable(self, exc: Exception) -> KeystoreUnavailable:
        return KeystoreUnavailable(
            f"the OS keyring could not be used: {type(exc).__name__}: {exc}",
            "Unlock the keyring (log in to the desktop session, or unlock gnome-keyring/"
            "KWallet) and try again. " + ENABLE_KEYRING,
        )

    def get(self, name: str) -> bytes | None:
        try:
            text = self._backend.get_password(self.service, name)
        except Exception as exc:  # any backend failure (D-Bus, locked, denied) is reported
            raise self._unavailable(exc) from exc
        if text is None:
            return None
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise MissingKey(
                f"the keyring entry {name} for {self.service} is not a key",
                "Restore the keyring from its backup. No file was changed.",
            ) from exc

    def set(self, name: str, secret: bytes) -> None:
        try:
            self._backend.set_password(self.service, name, base64.b64encode(secret).decode())
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(self.service, name)
        except PasswordDeleteError:
            return  # already absent: deleting is idempotent
        except Exception as exc:
            raise self._unavailable(exc) from exc


def service_name(terminal_id: str) -> str:
    return f"store-checkout/{terminal_id}"


# --- the demo keystore ----------------------------------------------------------

DEMO_FILE = "demo-keystore.json"


class DemoKeyStore:
    """DEMO ONLY: secrets in a 0600 file next to the database. Anyone who can read
    the data directory can decrypt the store; every command using it warns."""

    kind = "demo"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / DEMO_FILE

    def __repr__(self) -> str:
        return f"DemoKeyStore({str(self.path)!r})"

    def describe(self) -> str:
        return f"the demo keystore file {self.path}"

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            doc: Any = json.loads(self.path.read_text(encoding="utf-8"))
            keys = doc["keys"]
            if not isinstance(keys, dict):
                raise TypeError("keys is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            raise KeystoreUnavailable(
                f"the demo keystore {self.path} is damaged ({exc})",
                "Provision the demo terminal again in an empty data directory.",
            ) from exc
        return {str(k): str(v) for k, v in keys.items()}

    def get(self, name: str) -> bytes | None:
        text = self._load().get(name)
        if text is None:
            return None
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise MissingKey(f"the demo key {name} is damaged", "Provision again.") from exc

    def _save(self, keys: dict[str, str]) -> None:
        doc = {"warning": DEMO_WARNING, "keys": keys}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(doc, indent=2).encode(), mode=0o600)

    def set(self, name: str, secret: bytes) -> None:
        keys = self._load()
        keys[name] = base64.b64encode(secret).decode()
        self._save(keys)

    def delete(self, name: str) -> None:
        keys = self._load()
        if keys.pop(name, None) is not None:
            self._save(keys)
        if not keys and self.path.exists():
            os.unlink(self.path)
