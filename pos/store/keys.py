"""Where the terminal's secrets live: the OS keyring, or (demo only) a file.

Three secrets are generated at `pos init`: the database key (32 random
bytes, used raw by SQLCipher), the Ed25519 journal-signing key (its 32-byte
private seed) and the HMAC-SHA256 key for card tokens. A fourth comes from the
central server: the chain's card-token key, the same at every terminal of the
chain (sync.cardkey), which card tokens use once the terminal holds it. They
are never logged, printed or written to the database.

`KeyringKeyStore` uses the keyring package, so keyring's own
PYTHON_KEYRING_BACKEND setting and keyringrc.cfg are honoured, but backends
that do not protect secrets (null, fail, plaintext files) are refused. With
neither set, the Secret Service is taken directly when it is reachable (what
keyring's discovery picks on Linux, without importing every backend); the
three keys are one keyring item, read in one round trip. A terminal
provisioned with one item per key opens as before and gains the single item
at its first open (the old items stay, so an older program still opens it).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pos.messages import Message, msg
from pos.store.errors import KeystoreUnavailable, MissingKey
from pos.store.files import atomic_write

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    # keyring is imported where it is used: loading it scans every installed
    # distribution's entry points (~20 ms), which a demo-keystore command skips.
    from keyring.backend import KeyringBackend

DB_KEY = "database-key"
SIGNING_KEY = "journal-signing-key"
CARD_TOKEN_KEY = "card-token-key"
ALL_KEYS = (DB_KEY, SIGNING_KEY, CARD_TOKEN_KEY)
# The keyring item (user name) holding ALL_KEYS together.
BUNDLE = "terminal-keys"
# Delivered by the server (sync.cardkey), not made here.
CHAIN_CARD_TOKEN_KEY = "chain-card-token-key"
KEY_BYTES = 32

DEMO_WARNING = (
    "WARNING: DEMO KEYSTORE. This terminal's keys are in a plain file in its data "
    "directory; anyone who can read that directory can read the database. Never "
    "take real payments with it: provision with `pos init` and a real OS keyring."
)


class KeyStore(Protocol):
    kind: str

    def get(self, name: str) -> bytes | None: ...

    def get_many(
        self, names: Iterable[str], hold: Iterable[str] = ()
    ) -> dict[str, bytes | None]: ...

    def set(self, name: str, secret: bytes) -> None: ...

    def delete(self, name: str) -> None: ...

    def describe(self) -> Message: ...


def new_secret() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def require(store: KeyStore, name: str, terminal_id: str) -> bytes:
    """The secret `name`, or MissingKey saying where it was looked for."""
    return _checked(store, name, store.get(name), terminal_id)


def require_all(store: KeyStore, terminal_id: str, hold: Iterable[str] = ()) -> dict[str, bytes]:
    """The three terminal keys (in one keyring round trip), or MissingKey. The
    entries named in `hold` are read in the same round trip and given to the
    next get() of each."""
    found = store.get_many(ALL_KEYS, hold)
    return {name: _checked(store, name, found[name], terminal_id) for name in ALL_KEYS}


def _checked(store: KeyStore, name: str, secret: bytes | None, terminal_id: str) -> bytes:
    if secret is None:
        raise MissingKey(
            msg("store.key_missing", name=name, terminal_id=terminal_id, keystore=store.describe())
        )
    if len(secret) != KEY_BYTES:
        raise MissingKey(
            msg(
                "store.key_damaged",
                name=name,
                terminal_id=terminal_id,
                keystore=store.describe(),
                size=len(secret),
                expected=KEY_BYTES,
            )
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
            msg("store.keyring_none_secure", found=names, remedy=msg("store.enable_keyring"))
        )
    if _insecure(backend):
        raise KeystoreUnavailable(
            msg(
                "store.keyring_insecure",
                backend=backend_name(backend),
                remedy=msg("store.enable_keyring"),
            )
        )
    return backend


def default_backend() -> KeyringBackend:
    """The backend keyring itself would use, without its discovery when it can be skipped.

    A backend configured for keyring (PYTHON_KEYRING_BACKEND, keyringrc.cfg)
    wins, as in keyring. Otherwise a reachable Secret Service is the one
    keyring's discovery resolves to on Linux (highest priority of the
    backends that protect secrets), so it is taken without importing every
    backend and scanning entry points; elsewhere keyring discovers as usual.
    """
    import keyring.core

    configured = keyring.core.load_env() or keyring.core.load_config()
    if configured is not None:
        return configured
    try:
        from keyring.backends.SecretService import Keyring as SecretService

        # keyring's own viability test: raises when the service is unreachable.
        if SecretService.priority >= 1:
            chosen: KeyringBackend = SecretService()  # type: ignore[no-untyped-call]
            return chosen
    except Exception:  # not viable here (no secretstorage, no D-Bus): discover as keyring does
        pass
    return keyring.core.get_keyring()


_NOT_HELD = object()


class KeyringKeyStore:
    """Secrets in the OS keyring under service "store-checkout/<terminal id>".

    The three terminal keys are one item (user "terminal-keys", a JSON object
    of base64 keys); each other secret (the journal anchor, channel secrets)
    is an item of its own."""

    kind = "keyring"

    def __init__(self, terminal_id: str, backend: KeyringBackend | None = None) -> None:
        self.service = service_name(terminal_id)
        if backend is None:
            try:
                backend = default_backend()
            except Exception as exc:  # a backend named in PYTHON_KEYRING_BACKEND failed to load
                raise self._unavailable(exc) from exc
        self._backend = secure_backend(backend)
        self._held: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"KeyringKeyStore({self.service!r}, {backend_name(self._backend)})"

    def describe(self) -> Message:
        return msg(
            "store.keystore.keyring",
            backend=backend_name(self._backend),
            service=repr(self.service),
        )

    def _unavailable(self, exc: Exception) -> KeystoreUnavailable:
        return KeystoreUnavailable(
            msg(
                "store.keyring_unusable",
                detail=f"{type(exc).__name__}: {exc}",
                remedy=msg("store.enable_keyring"),
            )
        )

    def _read(self, user: str) -> str | None:
        try:
            return self._backend.get_password(self.service, user)
        except Exception as exc:  # any backend failure (D-Bus, locked, denied) is reported
            raise self._unavailable(exc) from exc

    def _write(self, user: str, text: str) -> None:
        try:
            self._backend.set_password(self.service, user, text)
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def _remove(self, user: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(self.service, user)
        except PasswordDeleteError:
            return  # already absent: deleting is idempotent
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def _decode(self, user: str, text: str) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise MissingKey(
                msg("store.keyring_entry_not_key", name=user, service=self.service)
            ) from exc

    def _bundle(self) -> dict[str, str] | None:
        return self._parse_bundle(self._read(BUNDLE))

    def _parse_bundle(self, text: str | None) -> dict[str, str] | None:
        if text is None:
            return None
        try:
            doc: Any = json.loads(text)
            if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
                raise TypeError("not an object of strings")
        except (ValueError, TypeError) as exc:
            log.warning("keyring entry %s for %s unreadable: %s", BUNDLE, self.service, exc)
            raise MissingKey(
                msg("store.keyring_entry_not_key", name=BUNDLE, service=self.service)
            ) from exc
        return {str(k): v for k, v in doc.items()}

    def _save_bundle(self, bundle: dict[str, str]) -> None:
        # One Secret Service item, replaced whole: a reader sees the old or the new set.
        self._write(BUNDLE, json.dumps(bundle, sort_keys=True))

    def get_many(self, names: Iterable[str], hold: Iterable[str] = ()) -> dict[str, bytes | None]:
        """Several secrets: the terminal keys are one item (one read), the
        others one read each.
        `hold`: entries read too and kept for the next get() of each.

        A terminal whose keys are separate items (provisioned before the
        single item) gets the single item here, written and read back."""
        names, hold = list(names), [h for h in hold if h not in ALL_KEYS]
        wanted = [n for n in names if n in ALL_KEYS]
        others = [n for n in (*names, *hold) if n not in ALL_KEYS and n not in self._held]
        first = self._read_together(([BUNDLE] if wanted else []) + others)
        bundle = self._parse_bundle(first.pop(BUNDLE, None))
        found = {**(bundle or {}), **first}
        missing = [n for n in ALL_KEYS if n not in found] if wanted else []
        if missing:  # the earlier layout: one item per key
            found.update(self._read_together(missing))
            if bundle is None and all(n in found for n in ALL_KEYS):
                self._adopt({n: found[n] for n in ALL_KEYS})
        out: dict[str, bytes | None] = {}
        for name in names:
            value = self._held.pop(name, _NOT_HELD)  # one pop: safe across threads
            if value is _NOT_HELD:
                value = found.get(name)
            out[name] = None if value is None else self._decode(name, str(value))
        for name in hold:
            if name not in names and name not in self._held:
                self._held[name] = found.get(name)
        return out

    def _read_together(self, users: list[str]) -> dict[str, str]:
        # One keyring read per entry, through keyring's own public calls: a
        # shared Secret Service session over its private API was seen to take
        # gnome-keyring down under load.
        texts = {user: self._read(user) for user in users}
        return {user: text for user, text in texts.items() if text is not None}

    def _adopt(self, separate: dict[str, str]) -> None:
        """Write the single item from the separate ones; a failure leaves the old layout."""
        try:
            self._save_bundle(separate)
            if self._bundle() != separate:
                self._remove(BUNDLE)
        except (KeystoreUnavailable, MissingKey):
            return

    def get(self, name: str) -> bytes | None:
        return self.get_many([name])[name]

    def set(self, name: str, secret: bytes) -> None:
        self._held.pop(name, None)
        text = base64.b64encode(secret).decode()
        if name not in ALL_KEYS:
            self._write(name, text)
            return
        bundle = self._bundle() or {}
        bundle[name] = text
        self._save_bundle(bundle)

    def delete(self, name: str) -> None:
        self._held.pop(name, None)
        if name in ALL_KEYS:
            bundle = self._bundle()
            if bundle is not None and bundle.pop(name, None) is not None:
                if bundle:
                    self._save_bundle(bundle)
                else:
                    self._remove(BUNDLE)
        self._remove(name)  # the separate item of the earlier layout, if any


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

    def describe(self) -> Message:
        return msg("store.keystore.demo", path=str(self.path))

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
                msg("store.demo_keystore_damaged", path=str(self.path), detail=str(exc))
            ) from exc
        return {str(k): str(v) for k, v in keys.items()}

    def get(self, name: str) -> bytes | None:
        return self.get_many([name])[name]

    def get_many(self, names: Iterable[str], hold: Iterable[str] = ()) -> dict[str, bytes | None]:
        stored = self._load()  # a local file: `hold` is read again when asked for
        return {name: self._decode(name, stored.get(name)) for name in names}

    @staticmethod
    def _decode(name: str, text: str | None) -> bytes | None:
        if text is None:
            return None
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise MissingKey(msg("store.demo_key_damaged", name=name)) from exc

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
