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

Start-up runs the first two (about 30 ms for a 5 MB store); `pos journal
verify` and `pos backup verify` run all three.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from pos.messages import Message, msg
from pos.store.db import PAGE_SIZE, Connection, DatabaseError, is_busy
from pos.store.errors import StoreDamaged

WAL_HEADER = 32
FRAME_HEADER = 24
_MAGICS = (0x377F0682, 0x377F0683)  # low bit: checksums big-endian when set


@dataclass
class Damage:
    """What is wrong with the store files; empty when they check out."""

    problems: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def texts(self, lang: str = "en") -> list[str]:
        return [p.render(lang) for p in self.problems]

    def raise_if_damaged(self, path: Path) -> None:
        if self.problems:
            raise StoreDamaged(
                msg("store.damaged", path=str(path), detail="; ".join(self.texts("en")))
            )


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum, continued from (s0, s1). About 1 ms per frame:
    a WAL after a crash holds at most about 1,000 frames (the autocheckpoint)."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & mask
        s1 = (s1 + words[i + 1] + s0) & mask
    return s0, s1


def scan_wal(db_path: Path) -> list[Message]:
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
        return []
    except OSError as exc:
        return [msg("store.wal_unreadable", error=str(exc))]
    if len(data) <= WAL_HEADER:
        return []  # an empty WAL, or a header never followed by a frame
    magic, _version, page_size, _ckpt, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:32])
    big = bool(magic & 1)
    if (
        magic not in _MAGICS
        or page_size != PAGE_SIZE
        or _checksum(data[:24], big, 0, 0) != (c1, c2)
    ):
        return [msg("store.wal_header")]
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
                return [msg("store.wal_frame", frame=bad_frame)]
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
    return []


def check_pages(conn: Connection) -> list[Message]:
    """SQLCipher's HMAC over every page of the main file."""
    try:
        rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except DatabaseError as exc:
        if is_busy(exc):
            raise
        return [msg("store.pages_unreadable", error=str(exc))]
    return [msg("store.page_hmac", detail=str(r[0])) for r in rows[:20]]


def check_structure(conn: Connection) -> list[Message]:
    """SQLite's integrity_check: b-trees, indexes, free list, every page read."""
    try:
        rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
    except DatabaseError as exc:
        if is_busy(exc):
            raise
        return [msg("store.structure_unreadable", error=str(exc))]
    return [msg("store.structure", detail=str(r[0])) for r in rows if r[0] != "ok"]


def quick_check(db_path: Path, conn: Connection) -> Damage:
    """Start-up: the WAL and every page's HMAC."""
    return Damage(scan_wal(db_path) + check_pages(conn))


def full_check(db_path: Path, conn: Connection) -> Damage:
    """Verification: the WAL, every page's HMAC and the whole structure."""
    damage = quick_check(db_path, conn)
    damage.problems.extend(check_structure(conn))
    return damage


REMEDY_DAMAGED = msg("store.remedy_damaged")
