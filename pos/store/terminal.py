"""Provisioning and opening a terminal: data directory, keys, database, identity.

The data directory holds `terminal.json` (non-secret: which terminal, which
store, which keystore, the journal's public key) and `terminal.db` (the
encrypted store). The keys are in the keystore, never in the directory
(except with the demo keystore, which says so loudly).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from keyring.backend import KeyringBackend

from pos import canonical
from pos.clock import Clock, iso
from pos.events import Event
from pos.messages import msg
from pos.store import keys, seals
from pos.store.anchor import (
    ANCHOR_FILE,
    KEYRING_ANCHOR,
    AnchorKeeper,
    Loss,
    count_commit,
    raise_receipt_counters,
    receipt_counters_agree_with_journal,
)
from pos.store.db import Database
from pos.store.errors import (
    AlreadyProvisioned,
    IdentityMismatch,
    KeystoreUnavailable,
    NotProvisioned,
    StoreError,
    WrongKey,
)
from pos.store.files import atomic_write
from pos.store.integrity import REMEDY_DAMAGED, Damage, check_pages, check_structure
from pos.store.journal import ExtraCheck, Journal, VerifyReport, records, verify
from pos.store.journal_format import ChainChecker, load_public_key, public_key_hex
from pos.store.migrate import Migrations
from pos.store.outbox import outbox_agrees_with_journal

TERMINAL_FILE = "terminal.json"
DB_FILE = "terminal.db"
STAGING_DB = f"{DB_FILE}.provisioning"
FORMAT = 1
KEYSTORE_KINDS = ("keyring", "demo")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class TerminalInfo:
    """The contents of terminal.json."""

    terminal_id: str
    store_id: str
    keystore: str
    public_key: str
    created_at: str
    provisioning: bool = False  # set until `pos init` has finished

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "terminal_id": self.terminal_id,
            "store_id": self.store_id,
            "keystore": self.keystore,
            "public_key": self.public_key,
            "created_at": self.created_at,
            "database": DB_FILE,
        }
        if self.provisioning:
            doc["provisioning"] = True
        return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def load(cls, path: Path) -> TerminalInfo:
        try:
            doc: Any = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            info = cls(
                terminal_id=str(doc["terminal_id"]),
                store_id=str(doc["store_id"]),
                keystore=str(doc["keystore"]),
                public_key=str(doc["public_key"]),
                created_at=str(doc["created_at"]),
                provisioning=doc.get("provisioning", False) is True,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NotProvisioned(
                f"{path} is not a readable terminal description ({exc})",
                "Restore terminal.json from a backup of the data directory; it is not secret.",
            ) from exc
        if info.keystore not in KEYSTORE_KINDS:
            raise NotProvisioned(
                f"{path} names an unknown keystore {info.keystore!r}",
                "Restore terminal.json from a backup of the data directory.",
            )
        return info


@dataclass
class Terminal:
    """An opened terminal: its database, journal and identity. Close it when done."""

    data_dir: Path
    info: TerminalInfo
    db: Database
    journal: Journal
    keystore: keys.KeyStore
    clock: Clock
    _card_token_key: bytes = field(repr=False)
    # The chain's card-token key once the server delivered it (keys.py).
    _chain_card_key: bytes | None = field(default=None, repr=False)
    anchors: AnchorKeeper | None = None
    # How the database is behind its anchors (empty: it is not). The till takes
    # no sale until a manager acknowledges: `acknowledge_loss`.
    losses: list[Loss] = field(default_factory=list)

    @property
    def terminal_id(self) -> str:
        return self.info.terminal_id

    @property
    def store_id(self) -> str:
        return self.info.store_id

    @property
    def public_key(self) -> str:
        return self.info.public_key

    @property
    def demo_keystore(self) -> bool:
        """True when the keys sit in a demo file: every front end must say so."""
        return self.keystore.kind == "demo"

    @property
    def card_token_key(self) -> bytes:
        """The HMAC-SHA256 key for card tokens: the chain's once the server
        delivered it (one card, one token at every store), else this
        terminal's own. Never log or store it."""
        return self._chain_card_key or self._card_token_key

    @property
    def has_chain_card_key(self) -> bool:
        return self._chain_card_key is not None

    def adopt_chain_card_key(self, key: bytes) -> None:
        """Keep the chain's card-token key in the keystore and use it from now on."""
        if len(key) != keys.KEY_BYTES:
            raise ValueError("a card-token key is 32 bytes")
        self.keystore.set(keys.CHAIN_CARD_TOKEN_KEY, key)
        self._chain_card_key = key

    def verify_journal(self, extra_checks: Sequence[ExtraCheck] = ()) -> VerifyReport:
        """Every page (HMAC) and the structure of the file, then the journal's
        chain and signatures and `extra_checks`. The WAL was checked at open."""
        with self.db.read() as conn:
            damage = Damage(check_pages(conn) + check_structure(conn))
        if not damage.ok:
            report = VerifyReport()
            report.problems.extend(damage.texts())
            report.problems.append(REMEDY_DAMAGED.render("en"))
            return report
        checks = [
            seals.tables_agree_with_seals,
            outbox_agrees_with_journal,
            receipt_counters_agree_with_journal,
            *extra_checks,
        ]
        report = verify(self.db, self.public_key, self.terminal_id, checks)
        report.problems.extend(loss.message().render("en") for loss in self.losses)
        return report

    def acknowledge_loss(self, approver_id: str) -> list[Loss]:
        """A manager accepts that the database lost what the anchors name: the
        receipt counters are lifted past every number already issued, the
        acknowledgement is journaled, and both anchors restart from here."""
        losses = list(self.losses)
        if not losses or self.anchors is None:
            return []
        keeper = self.anchors
        with self.db.transaction() as conn:
            raise_receipt_counters(conn, [keeper.read_file()[0], keeper.read_keyring()])
            self.journal.append(
                conn,
                Event.STORE_LOSS_ACKNOWLEDGED,
                {"approver_id": approver_id, "losses": [loss.to_dict() for loss in losses]},
            )
        self.journal.hold = None
        self.losses = []
        with self.db.read() as conn:
            keeper.reset(conn)
        return losses

    def close(self) -> None:
        if self.anchors is not None:
            self.anchors.flush()
        self.db.close()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_keystore(
    kind: str, data_dir: Path, terminal_id: str, keyring_backend: KeyringBackend | None = None
) -> keys.KeyStore:
    if kind == "demo":
        return keys.DemoKeyStore(data_dir)
    if kind == "keyring":
        return keys.KeyringKeyStore(terminal_id, keyring_backend)
    raise KeystoreUnavailable(f"unknown keystore {kind!r}", "Use 'keyring' (or 'demo').")


def _check_id(label: str, value: str) -> None:
    if not _ID.fullmatch(value):
        from pos.errors import InvalidInput

        raise InvalidInput(
            f"{label} {value!r} is not valid",
            f"A {label} is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )


def provision(
    data_dir: Path,
    keystore_kind: str,
    store_id: str,
    terminal_id: str | None,
    clock: Clock,
    *,
    keyring_backend: KeyringBackend | None = None,
    migrations: Migrations | None = None,
) -> Terminal:
    """Create a terminal in `data_dir`: keys, encrypted database, identity, first
    journal entry. Refuses to overwrite an existing terminal or existing keys.

    terminal.json is written first, marked as provisioning, and rewritten
    without the mark as the last step; a `pos init` killed half-way is cleared
    and redone by the next one, since no sale can have used it.
    """
    data_dir = Path(data_dir)
    terminal_id = terminal_id or f"T-{uuid.uuid4().hex[:16]}"
    _check_id("store id", store_id)
    _check_id("terminal id", terminal_id)
    _clear_interrupted(data_dir, keyring_backend)
    for name in (TERMINAL_FILE, DB_FILE):
        if (data_dir / name).exists():
            raise AlreadyProvisioned(
                f"{data_dir} already holds a terminal ({name} exists)",
                "Use a different --data-dir, or keep using this terminal. Provisioning "
                "never overwrites a terminal.",
            )
    created = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return _provision(
            data_dir, keystore_kind, store_id, terminal_id, clock, keyring_backend, migrations
        )
    except BaseException:
        if created:  # a refused init leaves no empty directory behind
            with contextlib.suppress(OSError):
                data_dir.rmdir()
        raise


def _provision(
    data_dir: Path,
    keystore_kind: str,
    store_id: str,
    terminal_id: str,
    clock: Clock,
    keyring_backend: KeyringBackend | None,
    migrations: Migrations | None,
) -> Terminal:
    store = make_keystore(keystore_kind, data_dir, terminal_id, keyring_backend)
    if any(store.get(name) is not None for name in keys.ALL_KEYS):
        raise AlreadyProvisioned(
            f"{store.describe()} already holds keys for terminal {terminal_id}",
            "Those keys may protect another copy of this terminal's database, so they are "
            "not overwritten. Choose another --terminal-id, or delete the old keys first.",
        )
    # An anchor left by an earlier terminal of this id would hold the new one;
    # a chain key left by it may be another chain's.
    store.delete(KEYRING_ANCHOR)
    store.delete(keys.CHAIN_CARD_TOKEN_KEY)
    (data_dir / ANCHOR_FILE).unlink(missing_ok=True)
    secrets = {name: keys.new_secret() for name in keys.ALL_KEYS}
    signing = Ed25519PrivateKey.from_private_bytes(secrets[keys.SIGNING_KEY])
    info = TerminalInfo(
        terminal_id=terminal_id,
        store_id=store_id,
        keystore=store.kind,
        public_key=public_key_hex(signing),
        created_at=iso(clock.now()),
        provisioning=True,
    )
    atomic_write(data_dir / TERMINAL_FILE, info.to_json())
    try:
        for name, secret in secrets.items():
            store.set(name, secret)
            if store.get(name) != secret:
                raise KeystoreUnavailable(
                    f"{store.describe()} did not return the key just stored",
                    keys.ENABLE_KEYRING,
                )
        tmp_db = data_dir / STAGING_DB
        _create_database(tmp_db, secrets[keys.DB_KEY], info, signing, clock, migrations)
        os.replace(tmp_db, data_dir / DB_FILE)
        atomic_write(data_dir / TERMINAL_FILE, replace(info, provisioning=False).to_json())
    except BaseException as exc:
        try:
            _discard(data_dir, store)
        except StoreError as cleanup:
            exc.add_note(f"cleanup incomplete ({cleanup.message}); the next `pos init` ends it")
        raise
    return open_terminal(data_dir, clock, keyring_backend=keyring_backend, migrations=migrations)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _discard(data_dir: Path, store: keys.KeyStore) -> None:
    """Undo an unfinished provisioning: its keys, anchors, database and terminal.json."""
    for name in (*keys.ALL_KEYS, keys.CHAIN_CARD_TOKEN_KEY, KEYRING_ANCHOR):
        store.delete(name)
    (data_dir / ANCHOR_FILE).unlink(missing_ok=True)
    _remove_database(data_dir / STAGING_DB)
    _remove_database(data_dir / DB_FILE)
    (data_dir / TERMINAL_FILE).unlink(missing_ok=True)


def _clear_interrupted(data_dir: Path, keyring_backend: KeyringBackend | None) -> None:
    path = data_dir / TERMINAL_FILE
    if not path.exists():
        return
    info = TerminalInfo.load(path)
    if info.provisioning:
        store = make_keystore(info.keystore, data_dir, info.terminal_id, keyring_backend)
        _discard(data_dir, store)


def _create_database(
    path: Path,
    db_key: bytes,
    info: TerminalInfo,
    signing: Ed25519PrivateKey,
    clock: Clock,
    migrations: Migrations | None,
) -> None:
    _remove_database(path)  # leftovers of an interrupted init
    with Database.create(path, db_key, migrations=migrations) as db, db.transaction() as conn:
        conn.execute(
            "INSERT INTO terminal (id, terminal_id, store_id, public_key, created_at) "
            "VALUES (1, ?, ?, ?, ?)",
            (info.terminal_id, info.store_id, info.public_key, info.created_at),
        )
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('keystore', ?, ?)",
            (canonical.dumps(info.keystore).decode(), info.created_at),
        )
        Journal(info.terminal_id, signing, clock).append(
            conn,
            Event.TERMINAL_PROVISIONED,
            {
                "terminal_id": info.terminal_id,
                "store_id": info.store_id,
                "public_key": info.public_key,
                "keystore": info.keystore,
                **seals.first_seal(conn),
            },
        )


def is_provisioned(data_dir: Path) -> bool:
    return (Path(data_dir) / TERMINAL_FILE).exists()


def load_info(data_dir: Path) -> TerminalInfo:
    data_dir = Path(data_dir)
    path = data_dir / TERMINAL_FILE
    if not path.exists():
        if (data_dir / DB_FILE).exists():
            raise NotProvisioned(
                f"{data_dir} has a database but no {TERMINAL_FILE}",
                f"Restore {TERMINAL_FILE} from a backup of the data directory (it is not "
                "secret); without it the terminal's keys cannot be found.",
            )
        raise NotProvisioned(
            f"no terminal is provisioned in {data_dir}",
            "Run `pos init --store-id STORE` to provision one, or pass the right --data-dir "
            "(or POS_DATA_DIR).",
        )
    info = TerminalInfo.load(path)
    if info.provisioning:
        raise NotProvisioned(
            f"provisioning of terminal {info.terminal_id} in {data_dir} did not finish",
            "Run `pos init` again: it clears the unfinished terminal and starts over.",
        )
    return info


def open_terminal(
    data_dir: Path,
    clock: Clock,
    *,
    keyring_backend: KeyringBackend | None = None,
    migrations: Migrations | None = None,
) -> Terminal:
    """Open a provisioned terminal, upgrading its database if this program is newer."""
    data_dir = Path(data_dir)
    info = load_info(data_dir)
    store = make_keystore(info.keystore, data_dir, info.terminal_id, keyring_backend)
    db_key = keys.require(store, keys.DB_KEY, info.terminal_id)
    signing_seed = keys.require(store, keys.SIGNING_KEY, info.terminal_id)
    card_key = keys.require(store, keys.CARD_TOKEN_KEY, info.terminal_id)
    chain_card_key = store.get(keys.CHAIN_CARD_TOKEN_KEY)
    signing = Ed25519PrivateKey.from_private_bytes(signing_seed)
    if public_key_hex(signing) != info.public_key:
        raise WrongKey(
            f"the signing key in {store.describe()} is not the one terminal "
            f"{info.terminal_id} was provisioned with",
            "The keyring holds another terminal's keys under this id: restore the right "
            "keyring. No file was changed.",
        )
    db = Database.open(data_dir / DB_FILE, db_key, migrations=migrations)
    terminal = Terminal(
        data_dir=data_dir,
        info=info,
        db=db,
        journal=Journal(info.terminal_id, signing, clock),
        keystore=store,
        clock=clock,
        _card_token_key=card_key,
        _chain_card_key=chain_card_key if chain_card_key and len(chain_card_key) == 32 else None,
    )
    try:
        _check_identity(terminal)
        _check_anchors(terminal, signing_seed)
    except BaseException:
        db.close()
        raise
    return terminal


def _check_identity(terminal: Terminal) -> None:
    """terminal.json against the signed first journal entry: an edited terminal
    or store id is refused before anything is sold under it."""
    info = terminal.info
    with terminal.db.read() as conn:
        first = next(records(conn, 1, 1), None)
    if first is None:
        return  # a database from before the first entry (tests of upgrades)
    checker = ChainChecker(load_public_key(info.public_key), first.terminal_id)
    if checker.check(first) is not None:
        return  # an edited first entry: `pos journal verify` names it
    payload = canonical.loads(first.payload)
    stated = {k: payload.get(k) for k in ("terminal_id", "store_id", "keystore")}
    if stated != {
        "terminal_id": info.terminal_id,
        "store_id": info.store_id,
        "keystore": info.keystore,
    }:
        raise IdentityMismatch(
            msg(
                "store.identity_mismatch",
                path=str(terminal.data_dir / TERMINAL_FILE),
                terminal_id=str(payload.get("terminal_id", "?")),
                store_id=str(payload.get("store_id", "?")),
            )
        )


def _check_anchors(terminal: Terminal, signing_seed: bytes) -> None:
    """Compare the database with its anchors; hold the till if it went backwards,
    otherwise anchor it as it stands and keep the anchors moving with it."""
    keeper = AnchorKeeper(terminal.data_dir, terminal.keystore, signing_seed, terminal.clock)
    terminal.anchors = keeper
    with terminal.db.read() as conn:
        losses = keeper.losses(conn)
        sealing = seals.has_seals(conn)  # not in a database opened as an earlier release
        upgraded = (
            sealing
            and conn.execute("SELECT 1 FROM seal_dirty WHERE reason = 'migration'").fetchone()
        )
        if losses:
            keeper.held = True
            terminal.losses = losses
            terminal.journal.hold = losses[0].message()
        else:
            keeper.reset(conn)
    journal = terminal.journal
    if upgraded and not losses:
        with terminal.db.transaction() as conn:  # an upgraded store's first seal
            seals.seal(conn, journal, only_migration=True, known=True)
    if sealing:
        terminal.db.add_precommit_hook(lambda conn: seals.seal(conn, journal, known=True))
        terminal.db.add_precommit_hook(count_commit)
    terminal.db.add_commit_hook(keeper.committed)
