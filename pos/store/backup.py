"""Encrypted online backups of the terminal database.

`create` copies a consistent snapshot with sqlcipher_export into a new file
keyed with the terminal's database key, while sales go on (WAL readers do
not block writers). A backup is therefore only readable with this terminal's
keyring entry; keep the keyring backed up as well.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos.clock import Clock
from pos.messages import Message, msg
from pos.store import integrity, keys
from pos.store.anchor import Anchor, AnchorKeeper
from pos.store.db import (
    DatabaseError,
    busy_error,
    connect,
    diagnose_file,
    is_busy,
    key_literal,
)
from pos.store.errors import BackupError, StoreError
from pos.store.files import fsync_dir
from pos.store.journal import VerifyReport, verify_connection
from pos.store.journal_format import public_key_hex
from pos.store.migrate import Migrations, schema_version
from pos.store.terminal import DB_FILE, Terminal, load_info, make_keystore, open_terminal

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    schema_version: int
    last_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "schema_version": self.schema_version,
            "journal_last_seq": self.last_seq,
        }

    def message(self) -> Message:
        return msg(
            "store.backup.written",
            path=str(self.path),
            size=self.size,
            schema=self.schema_version,
            last_seq=self.last_seq,
        )

    def summary(self) -> str:
        return self.message().render("en")


def create(terminal: Terminal, out: Path) -> BackupResult:
    """Write an encrypted snapshot of the live database to `out` (which must not exist)."""
    out = Path(out)
    if out.exists():
        raise BackupError(msg("store.backup.exists", path=str(out)))
    if not out.parent.is_dir():
        raise BackupError(msg("store.backup.no_folder", folder=str(out.parent)))
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    _remove(tmp)
    db = terminal.db
    conn = db.dedicated_connection()
    try:
        conn.execute(
            "ATTACH DATABASE ? AS backup KEY ?", (str(tmp), key_literal(_db_key(terminal)))
        )
        try:
            conn.execute("BEGIN")
            version = schema_version(conn)
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
            conn.execute("SELECT sqlcipher_export('backup')").fetchall()
            # sqlcipher_export copies schema and rows, not the version.
            conn.execute(f"PRAGMA backup.user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("DETACH DATABASE backup")
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except DatabaseError as exc:
        _remove(tmp)
        if is_busy(exc):
            raise busy_error(db.path, exc) from exc
        raise BackupError(msg("store.backup.write_failed", detail=str(exc))) from exc
    except BaseException:
        _remove(tmp)
        raise
    finally:
        conn.close()
    return BackupResult(out, out.stat().st_size, version, int(last))


def _db_key(terminal: Terminal) -> bytes:
    return keys.require(terminal.keystore, keys.DB_KEY, terminal.terminal_id)


def _remove(path: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class BackupCheck:
    path: Path
    schema_version: int = 0
    integrity: list[str] = field(default_factory=list)
    journal: VerifyReport | None = None
    # What is wrong with the file, for the reader in their language; each is
    # also in `integrity`, in English (the JSON output's field).
    findings: list[Message] = field(default_factory=list)

    def add(self, finding: Message) -> None:
        self.findings.append(finding)
        self.integrity.append(finding.render("en"))

    @property
    def ok(self) -> bool:
        return not self.integrity and self.journal is not None and self.journal.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "schema_version": self.schema_version,
            "integrity_problems": self.integrity,
            "journal": None if self.journal is None else self.journal.to_dict(),
        }

    def message(self) -> Message:
        """The verdict for a person: the file, its schema, what is wrong."""
        journal = [] if self.journal is None else [self.journal.message()]
        return msg(
            "store.backup.check_ok" if self.ok else "store.backup.check_failed",
            path=str(self.path),
            schema=self.schema_version,
            findings=_Block(self.findings, "- "),
            journal=_Block(journal, ""),
        )

    def summary(self) -> str:
        return self.message().render("en")


@dataclass(frozen=True)
class _Block:
    """Messages one per line after the verdict's own lines, in the reader's language."""

    items: list[Message]
    bullet: str

    def render(self, lang: str) -> str:
        return "".join(f"\n{self.bullet}{m.render(lang)}" for m in self.items)


def check_file(
    path: Path, db_key: bytes, public_key: str, terminal_id: str, migrations: Migrations
) -> BackupCheck:
    """integrity_check, cipher_integrity_check and journal verify, read-only."""
    path = Path(path)
    diagnose_file(path)
    result = BackupCheck(path)
    conn = connect(path, db_key, "ro", 5000)
    try:
        try:
            result.schema_version = schema_version(conn)
        except DatabaseError as exc:
            raise BackupError(
                msg("store.backup.wrong_key", path=str(path), detail=str(exc))
            ) from exc
        if result.schema_version > migrations.latest:
            result.add(
                msg(
                    "store.backup.schema_newer",
                    schema=result.schema_version,
                    latest=migrations.latest,
                )
            )
        damage = integrity.full_check(path, conn)
        for problem in damage.problems:
            result.add(problem)
        if damage.ok:
            try:
                result.journal = verify_connection(conn, public_key, terminal_id)
            except DatabaseError as exc:
                result.add(msg("store.backup.journal_unreadable", detail=str(exc)))
    finally:
        conn.close()
    return result


def verify_file(terminal: Terminal, path: Path) -> BackupCheck:
    return check_file(
        path, _db_key(terminal), terminal.public_key, terminal.terminal_id, Migrations.bundled()
    )


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    restored_from: Path
    kept_aside: Path | None
    last_seq: int
    demo_keystore: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "restored_from": str(self.restored_from),
            "previous_database": None if self.kept_aside is None else str(self.kept_aside),
            "journal_last_seq": self.last_seq,
        }

    def message(self) -> Message:
        where = {"source": str(self.restored_from), "data_dir": str(self.data_dir)}
        if self.kept_aside is None:
            return msg("store.backup.restored", **where, last_seq=self.last_seq)
        return msg(
            "store.backup.restored_kept", **where, last_seq=self.last_seq, kept=str(self.kept_aside)
        )

    def summary(self) -> str:
        return self.message().render("en")


def restore(
    data_dir: Path,
    backup: Path,
    clock: Clock,
    *,
    force: bool = False,
    accept_loss: int | None = None,
) -> RestoreResult:
    """Replace the terminal's database with a verified backup.

    Refuses to replace an existing database unless `force`; even then the old
    one is renamed aside, never deleted, and only if no program has it open.
    """
    data_dir, backup = Path(data_dir), Path(backup)
    info = load_info(data_dir)
    store = make_keystore(info.keystore, data_dir, info.terminal_id)
    db_key = keys.require(store, keys.DB_KEY, info.terminal_id)
    signing = Ed25519PrivateKey.from_private_bytes(
        keys.require(store, keys.SIGNING_KEY, info.terminal_id)
    )
    if public_key_hex(signing) != info.public_key:
        raise BackupError(msg("store.backup.signing_key_mismatch"))
    check = check_file(backup, db_key, info.public_key, info.terminal_id, Migrations.bundled())
    if not check.ok:
        raise BackupError(
            msg("store.backup.failed_verification", path=str(backup), detail=check.message())
        )
    live = data_dir / DB_FILE
    if live.exists() and not force:
        raise BackupError(msg("store.backup.would_replace", path=str(live)))
    _refuse_silent_loss(data_dir, store, info.terminal_id, live, db_key, check, accept_loss, clock)
    kept = _move_aside(live, db_key, clock.now()) if live.exists() else None
    tmp = data_dir / f".{DB_FILE}.restoring"
    _remove(tmp)
    try:
        shutil.copyfile(backup, tmp)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, live)
        fsync_dir(data_dir)
    except BaseException:
        _remove(tmp)
        raise
    # Opening applies migrations when the backup came from an earlier release.
    with open_terminal(data_dir, clock) as terminal:
        demo = terminal.demo_keystore
    last = check.journal.last_seq if check.journal is not None else 0
    return RestoreResult(data_dir, backup, kept, last, demo)


def _refuse_silent_loss(
    data_dir: Path,
    store: keys.KeyStore,
    terminal_id: str,
    live: Path,
    db_key: bytes,
    check: BackupCheck,
    accept_loss: int | None,
    clock: Clock,
) -> None:
    """A backup behind the terminal (its live database or either anchor) loses
    entries: say how many and go on only when exactly that many are accepted."""
    backup_seq = check.journal.last_seq if check.journal is not None else 0
    keeper = AnchorKeeper(
        data_dir, store, keys.require(store, keys.SIGNING_KEY, terminal_id), clock
    )
    high = max(_live_seq(live, db_key), *(a.seq for a in _anchors(keeper)))
    if high > backup_seq and accept_loss != high - backup_seq:
        raise BackupError(
            msg(
                "store.restore_loses",
                path=str(check.path),
                backup_seq=backup_seq,
                high_seq=high,
                lost=high - backup_seq,
            )
        )


def _anchors(keeper: AnchorKeeper) -> list[Anchor]:
    found = [keeper.read_file()[0], keeper.read_keyring()]
    return [a for a in found if a is not None]


def _live_seq(live: Path, db_key: bytes) -> int:
    """How far the current database's journal reached (0 when it cannot be read)."""
    if not live.exists():
        return 0
    try:
        conn = connect(live, db_key, "ro", 200)
    except StoreError:
        return 0
    try:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])
    except DatabaseError:
        return 0
    finally:
        conn.close()


def _move_aside(live: Path, db_key: bytes, now: datetime) -> Path:
    """Rename the live database (and its WAL) aside while holding an exclusive lock,
    which fails if any other connection, in any process, has it open."""
    diagnose_file(live)
    conn = connect(live, db_key, "rw", 200)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")
        # Fold the WAL into the file so the set-aside copy is one self-contained file.
        conn.execute("PRAGMA journal_mode = DELETE").fetchone()
        stamp = now.strftime("%Y%m%dT%H%M%S")
        aside = live.with_name(f"{live.name}.replaced-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = live.with_name(f"{live.name}.replaced-{stamp}-{n}")
        os.replace(live, aside)
        for suffix in SIDE_FILES:
            Path(f"{live}{suffix}").unlink(missing_ok=True)
    except DatabaseError as exc:
        if is_busy(exc):
            raise StoreError(msg("store.backup.in_use", path=str(live))) from exc
        raise BackupError(msg("store.backup.set_aside_failed", detail=str(exc))) from exc
    finally:
        conn.close()
    return aside
