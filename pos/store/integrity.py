"""Whole-file checks of the terminal database: every page, the WAL, the b-tree.

Three layers, cheapest first:

- `scan_wal`: the write-ahead log left by a crash is read frame by frame
  (SQLite's own header and cumulative checksums). SQLite silently drops a
  damaged frame and every frame after it, committed or not; this finds the
  damage before SQLite is allowed to do that.
- `cipher_integrity_check`: SQLCipher's HMAC of every page of the main file
  (a flipped bit anywhere, used page or free).
- `integrity_check`: the b-tree structure, indexes and page links, read
  through the codec (which checks each page's HMAC again, WAL pages included).

`pos journal verify` and `pos backup verify` run all three, always. Start-up
runs the first two only when the files changed outside the till since a till
last closed them (`FileState`, recorded MAC'd in the anchor file at a clean
close): the page pass reads the whole file (~5 ms per MB, 1.7 s for a store
of 300,000 products), which a command cannot pay every time. SQLCipher checks the HMAC of
every page it reads, always. The app runs the page pass in the background
(`StoreCheck`), sales held until it passes. docs/store.md, "What each path
checks", lists exactly what runs where.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos.messages import Message, msg
from pos.store.db import PAGE_SIZE, Connection, Database, DatabaseError, is_busy
from pos.store.errors import StoreDamaged

log = logging.getLogger(__name__)

WAL_HEADER = 32
FRAME_HEADER = 24
_MAGICS = (0x377F0682, 0x377F0683)  # low bit: checksums big-endian when set


@dataclass
class Damage:
    """What is wrong with the store files; empty when they check out. The
    reader is told `problems` (catalogue words); SQLCipher's own technical
    text goes to the log (`details`), never into a sentence a person reads."""

    problems: list[Message] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def texts(self, lang: str = "en") -> list[str]:
        return [p.render(lang) for p in self.problems]

    def extend(self, other: Damage) -> None:
        self.problems.extend(other.problems)
        self.details.extend(other.details)

    def raise_if_damaged(self, path: Path) -> None:
        if self.problems:
            log.error("store %s damaged: %s", path, "; ".join(self.details) or "-")
            raise StoreDamaged(msg("store.check.damaged", path=str(path), problems=self.problems))


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum, continued from (s0, s1). About 1 ms per frame:
    a WAL after a crash holds at most about 1,000 frames (the autocheckpoint)."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & mask
        s1 = (s1 + words[i + 1] + s0) & mask
    return s0, s1


def wal_damage(db_path: Path) -> Damage:
    """Damage in the WAL beside `db_path` that SQLite would silently discard.

    A WAL is a header and frames; the frames of the current generation carry the
    header's salts and a checksum chained from the previous frame. SQLite reads
    the valid prefix and ignores everything after it. Frames of an older
    generation after that prefix are normal. A current-generation frame that
    fails its checksum is damage when current-generation frames follow it:
    transactions committed after it would be lost. A bad or partial frame at the
    very end is what a crash or power cut in the middle of a write leaves (that
    transaction never committed); whether a committed one was lost there is the
    commit counter's anchor to say (pos/store/anchor.py).
    """
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        data = wal.read_bytes()
    except FileNotFoundError:
        return Damage()
    except OSError as exc:
        return Damage([msg("store.check.wal_unreadable")], [f"{wal}: {exc}"])
    if len(data) <= WAL_HEADER:
        return Damage()  # an empty WAL, or a header never followed by a frame
    magic, _version, page_size, _ckpt, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:32])
    big = bool(magic & 1)
    if (
        magic not in _MAGICS
        or page_size != PAGE_SIZE
        or _checksum(data[:24], big, 0, 0) != (c1, c2)
    ):
        return Damage([msg("store.wal_header")], [f"{wal}: bad header"])
    frame_size = FRAME_HEADER + page_size
    s0, s1 = c1, c2
    offset, n = WAL_HEADER, 0
    bad_frame = 0
    while offset + frame_size <= len(data):
        head = data[offset : offset + FRAME_HEADER]
        _pgno, _size, f_salt1, f_salt2, f_c1, f_c2 = struct.unpack(">6I", head)
        current = (f_salt1, f_salt2) == (salt1, salt2)
        n += 1
        if bad_frame:
            if current:
                return Damage(
                    [msg("store.wal_frame", frame=bad_frame)], [f"{wal}: frame {bad_frame}"]
                )
        elif not current:
            bad_frame = n  # the valid prefix ended here; older frames may follow
        else:
            t0, t1 = _checksum(head[:8], big, s0, s1)
            t0, t1 = _checksum(data[offset + FRAME_HEADER : offset + frame_size], big, t0, t1)
            if (t0, t1) == (f_c1, f_c2):
                s0, s1 = t0, t1
            else:
                bad_frame = n
        offset += frame_size
    return Damage()


def scan_wal(db_path: Path) -> list[Message]:
    """The WAL's damage in the reader's words (`wal_damage` has the detail)."""
    return wal_damage(db_path).problems


_PAGE_NO = re.compile(r"page (\d+)", re.IGNORECASE)


def check_pages(conn: Connection) -> Damage:
    """SQLCipher's HMAC over every page of the main file."""
    try:
        rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except DatabaseError as exc:
        if is_busy(exc):
            raise
        return Damage([msg("store.check.pages_unreadable")], [str(exc)])
    if not rows:
        return Damage()
    details = [str(r[0]) for r in rows]
    pages = sorted({int(m.group(1)) for d in details if (m := _PAGE_NO.search(d))})
    if not pages:
        return Damage([msg("store.check.page_hmac_unnamed")], details)
    shown = ", ".join(str(p) for p in pages[:20]) + (" …" if len(pages) > 20 else "")
    return Damage([msg("store.check.page_hmac", pages=shown, count=len(pages))], details)


def check_structure(conn: Connection) -> Damage:
    """SQLite's integrity_check: b-trees, indexes, free list, every page read."""
    try:
        rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
    except DatabaseError as exc:
        if is_busy(exc):
            raise
        return Damage([msg("store.check.structure_unreadable")], [str(exc)])
    details = [str(r[0]) for r in rows if r[0] != "ok"]
    if not details:
        return Damage()
    return Damage([msg("store.check.structure", count=len(details))], details)


def quick_check(db_path: Path, conn: Connection) -> Damage:
    """Start-up when the files changed since the till last closed them: the
    WAL and every page's HMAC."""
    damage = wal_damage(db_path)
    damage.extend(check_pages(conn))
    return damage


def full_check(db_path: Path, conn: Connection) -> Damage:
    """Verification: the WAL, every page's HMAC and the whole structure."""
    damage = quick_check(db_path, conn)
    damage.extend(check_structure(conn))
    return damage


REMEDY_DAMAGED = msg("store.remedy_damaged")


# --- the files as a till left them ----------------------------------------------


def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


@dataclass(frozen=True)
class FileState:
    """The database file and its WAL as the till left them: inode, size,
    modification and change times. Any write by anyone afterwards changes
    at least the times (the stamp below makes that hold within a clock tick
    too); a copy put back changes the inode or the change time."""

    db: tuple[int, ...]
    wal: tuple[int, ...] | None

    @classmethod
    def of(cls, db_path: Path) -> FileState | None:
        db = _stat(db_path)
        if db is None:
            return None
        wal = _stat(db_path.with_name(db_path.name + "-wal"))
        return cls(tuple(db), None if wal is None else tuple(wal))

    def to_dict(self) -> dict[str, Any]:
        return {"db": list(self.db), "wal": None if self.wal is None else list(self.wal)}

    @classmethod
    def from_dict(cls, doc: Any) -> FileState | None:
        try:
            db = tuple(int(v) for v in doc["db"])
            wal = None if doc["wal"] is None else tuple(int(v) for v in doc["wal"])
        except (KeyError, TypeError, ValueError):
            return None
        return cls(db, wal)


def stamp(db_path: Path) -> FileState | None:
    """The state of the files just closed cleanly, for the next open to compare.

    A file system stamps a write with a coarse clock (a few ms), so a write
    right after the till's last one could leave the same times. The files'
    modification time is therefore set to a value no write would give (now,
    with random nanoseconds); a later write by anyone replaces it. None when
    the file system keeps no nanoseconds (the next open checks every page)."""
    paths = [db_path, db_path.with_name(db_path.name + "-wal")]
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        mark = (time.time_ns() // 1_000_000_000) * 1_000_000_000 + secrets.randbelow(10**9)
        os.utime(path, ns=(st.st_atime_ns, mark))
        if os.stat(path).st_mtime_ns != mark:
            return None
    return FileState.of(db_path)


# --- the page pass in the background (the app) ------------------------------------


class StoreCheck:
    """The WAL was scanned at open; every page's HMAC is checked here on a
    connection of its own, off the UI thread. Started with `hold`, the journal
    is held until it passes (sign-ins only, no sale); damage holds it in any
    case, with the damage named.

    `state` is "checking", "ok", "damaged" or "stopped"."""

    def __init__(
        self,
        db: Database,
        hold: Callable[[Message | None], None],
        on_done: Callable[[StoreCheck], None] | None = None,
    ) -> None:
        self._db = db
        self._hold = hold
        self._on_done = on_done
        self.state = "checking"
        self.damage = Damage()
        self._conn: Connection | None = None
        self._stopping = False
        self._held = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-check", daemon=True)

    def start(self, hold: bool = True) -> StoreCheck:
        if hold:
            self._hold(msg("store.check.checking"))
        self._held = hold
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            conn = self._db.dedicated_connection()
            self._conn = conn
            try:
                damage = check_pages(conn)
            finally:
                self._conn = None
                conn.close()
        except Exception as exc:  # the store went away under the check
            damage = Damage([msg("store.check.pages_unreadable")], [repr(exc)])
        if self._stopping:
            self.state = "stopped"
        elif damage.ok:
            self.state = "ok"
            if self._held:
                self._hold(None)
        else:
            log.error("store %s damaged: %s", self._db.path, "; ".join(damage.details))
            self.damage = damage
            self.state = "damaged"
            self._hold(
                msg("store.check.damaged", path=str(self._db.path), problems=damage.problems)
            )
        self._done.set()
        if self._on_done is not None:
            self._on_done(self)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the check has ended (passed, found damage or stopped)."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        """At close: a check still running is interrupted (it proves nothing)."""
        self._stopping = True
        conn = self._conn
        if conn is not None and not self._done.is_set():
            interrupt = getattr(conn, "interrupt", None)
            if interrupt is not None:
                interrupt()
        if self._thread.is_alive():
            self._thread.join()
