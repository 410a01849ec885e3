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
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos import canonical
from pos.clock import Clock, iso
from pos.events import Event
from pos.messages import Message, msg
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
from pos.store.integrity import (
    FileState,
    StoreCheck,
    check_pages,
    check_structure,
    stamp,
    wal_damage,
)
from pos.store.journal import ExtraCheck, Journal, VerifyReport, records, verify
from pos.store.journal_format import ChainChecker, load_public_key, public_key_hex
from pos.store.migrate import Migrations
from pos.store.outbox import outbox_agrees_with_journal
from pos.store.wal_tail import damaged_last_commit

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend  # imported by the keyring keystore alone

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
                msg("store.terminal_file_unreadable", path=str(path), detail=str(exc))
            ) from exc
        if info.keystore not in KEYSTORE_KINDS:
            raise NotProvisioned(
                msg("store.terminal_file_keystore", path=str(path), keystore=repr(info.keystore))
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
    # How the files were checked at open: "full" (the WAL and every page),
    # "unchanged" (as a till closed them: SQLCipher checks each page read),
    # "background" (the WAL now, the pages in `store_check`).
    files_check: str = "full"
    store_check: StoreCheck | None = None
    _check_hold: Message | None = None

    @property
    def files_trusted(self) -> bool:
        """The files checked out at open (or in the background) and no page
        failed since: a clean close may record them as checked."""
        check = self.store_check
        if self.db.damage_seen or (check is not None and check.state == "damaged"):
            return False
        if self.files_check == "background":
            return check is not None and check.state == "ok"
        return True

    def check_in_background(self, hold: bool = True) -> StoreCheck:
        """Check every page off this thread. `hold`: no sale until it passes
        (the files changed); otherwise sales go on and only damage holds them."""
        self.store_check = StoreCheck(self.db, self._hold_for_check)
        return self.store_check.start(hold)

    def _hold_for_check(self, message: Message | None) -> None:
        self._check_hold = message
        losses = self.losses
        self.journal.hold = message or (losses[0].message() if losses else None)

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
        """The WAL, every page (HMAC) and the structure of the file, then the
        journal's chain and signatures and `extra_checks`."""
        with self.db.read() as conn:
            damage = wal_damage(self.db.path)
            damage.extend(check_pages(conn))
            damage.extend(check_structure(conn))
        if not damage.ok:
            report = VerifyReport()
            for problem in damage.problems:
                report.add(problem)
            return report
        checks = [
            seals.tables_agree_with_seals,
            outbox_agrees_with_journal,
            receipt_counters_agree_with_journal,
            *extra_checks,
        ]
        report = verify(self.db, self.public_key, self.terminal_id, checks)
        for loss in self.losses:
            report.add(loss.message())
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
        self.journal.hold = self._check_hold
        self.losses = []
        with self.db.read() as conn:
            keeper.reset(conn)
        return losses

    def close(self) -> None:
        if self.store_check is not None:
            self.store_check.stop()
        if self.anchors is not None:
            self.anchors.flush()
        self.db.close()
        # Closed cleanly on files that checked out: the next open may skip the
        # page pass if nothing touches them in between.
        keeper = self.anchors
        if keeper is None:
            return
        if not self.files_trusted:
            keeper.record_checked(None)  # damage seen: the next open checks all
        elif not self.losses:
            if keeper.read_checked() == FileState.of(self.db.path):
                return  # nothing wrote since the record: keep it (and the file's times)
            keeper.record_checked(stamp(self.db.path))

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
    raise KeystoreUnavailable(msg("store.unknown_keystore", kind=repr(kind)))


def _check_id(label: str, value: str) -> None:
    if not _ID.fullmatch(value):
        from pos.errors import InvalidInput

        raise InvalidInput(msg("store.bad_id", what=msg(f"store.id.{label}"), value=repr(value)))


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
    _check_id("store", store_id)
    _check_id("terminal", terminal_id)
    _clear_interrupted(data_dir, keyring_backend)
    for name in (TERMINAL_FILE, DB_FILE):
        if (data_dir / name).exists():
            raise AlreadyProvisioned(
                msg("store.already_provisioned", data_dir=str(data_dir), name=name)
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
    if any(secret is not None for secret in store.get_many(keys.ALL_KEYS).values()):
        raise AlreadyProvisioned(
            msg("store.keys_exist", keystore=store.describe(), terminal_id=terminal_id)
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
                    msg(
                        "store.key_not_returned",
                        keystore=store.describe(),
                        remedy=msg("store.enable_keyring"),
                    )
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
                msg(
                    "store.database_without_terminal_file",
                    data_dir=str(data_dir),
                    name=TERMINAL_FILE,
                )
            )
        raise NotProvisioned(msg("store.not_provisioned", data_dir=str(data_dir)))
    info = TerminalInfo.load(path)
    if info.provisioning:
        raise NotProvisioned(
            msg(
                "store.provisioning_unfinished",
                terminal_id=info.terminal_id,
                data_dir=str(data_dir),
            )
        )
    return info


def open_terminal(
    data_dir: Path,
    clock: Clock,
    *,
    keyring_backend: KeyringBackend | None = None,
    migrations: Migrations | None = None,
    pages: str = "if_changed",
) -> Terminal:
    """Open a provisioned terminal, upgrading its database if this program is newer.

    `pages`: when the WAL and every page's HMAC are checked before use.
    "if_changed": only when the files are not as a till last closed them;
    "always"; "background" (the app): when changed, the WAL now and the pages
    in a background check with sales held until it passes; when unchanged,
    the pages in a background check without holding sales."""
    data_dir = Path(data_dir)
    info = load_info(data_dir)
    store = make_keystore(info.keystore, data_dir, info.terminal_id, keyring_backend)
    # The keyring anchor and the chain's card key come in the same keyring
    # round trip, before the database is read (an anchor read earlier can only
    # be older: it checks less).
    found = keys.require_all(
        store, info.terminal_id, hold=[KEYRING_ANCHOR, keys.CHAIN_CARD_TOKEN_KEY]
    )
    db_key, signing_seed = found[keys.DB_KEY], found[keys.SIGNING_KEY]
    card_key = found[keys.CARD_TOKEN_KEY]
    chain_card_key = store.get(keys.CHAIN_CARD_TOKEN_KEY)
    signing = Ed25519PrivateKey.from_private_bytes(signing_seed)
    if public_key_hex(signing) != info.public_key:
        raise WrongKey(
            msg("store.wrong_signing_key", keystore=store.describe(), terminal_id=info.terminal_id)
        )
    keeper = AnchorKeeper(data_dir, store, signing_seed, clock)
    db_path = data_dir / DB_FILE
    recorded = None if pages == "always" else keeper.read_checked()
    unchanged = recorded is not None and recorded == FileState.of(db_path)
    db = Database.open(
        db_path,
        db_key,
        migrations=migrations,
        verify_pages=not unchanged,
        defer_pages=pages == "background",
    )
    terminal = Terminal(
        data_dir=data_dir,
        info=info,
        db=db,
        journal=Journal(info.terminal_id, signing, clock),
        keystore=store,
        clock=clock,
        _card_token_key=card_key,
        files_check=(
            "full" if db.pages_checked else "background" if db.pages_deferred else "unchanged"
        ),
        _chain_card_key=chain_card_key if chain_card_key and len(chain_card_key) == 32 else None,
    )
    try:
        _check_identity(terminal)
        _check_anchors(terminal, keeper)
        if pages == "background" and not db.pages_checked:
            # The app: a changed store is held until its pages pass; an
            # unchanged one sells at once while they are read (bit rot that
            # changes no file time is found at every app start).
            terminal.check_in_background(hold=db.pages_deferred)
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


def _check_anchors(terminal: Terminal, keeper: AnchorKeeper) -> None:
    """Compare the database with its anchors; hold the till if it went backwards,
    otherwise anchor it as it stands and keep the anchors moving with it."""
    terminal.anchors = keeper
    with terminal.db.read() as conn:
        losses = keeper.losses(conn)
        if not losses and damaged_last_commit(terminal.db.path):
            keeper.count_lost_commit(conn)
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
