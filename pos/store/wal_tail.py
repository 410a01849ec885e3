"""The write-ahead log's last commit, damaged where no anchor counted it yet.

The file anchor is written just after each COMMIT. A till killed between the
two leaves a durable commit the anchor does not count (the crash margin, one
commit). If that transaction's commit frame is then damaged, SQLite drops it
silently and the database equals its anchor: nothing would say a committed
transaction vanished. `integrity.scan_wal` refuses a damaged frame that
current frames follow; this finds the one case it lets through on purpose (a
bad frame at the very end) when that frame is a commit frame, so the open can
count the lost commit into the anchor and hold the till.

A process killed between SQLite's two writes of a commit frame (header, then
page) over an older WAL generation, or a power cut before the commit's fsync,
can leave the same bytes: then the till is held for a commit that never
completed, and a manager acknowledges it. Holding on a doubt is the safe side.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pos.store.db import PAGE_SIZE
from pos.store.integrity import FRAME_HEADER, WAL_HEADER
from pos.store.integrity import _checksum as wal_checksum

_MAGICS = (0x377F0682, 0x377F0683)


def damaged_last_commit(db_path: Path) -> int:
    """The frame number of a commit frame that fails its checksum with no
    current frame after it (0 when there is none, or no WAL)."""
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        data = wal.read_bytes()
    except OSError:
        return 0
    if len(data) <= WAL_HEADER:
        return 0
    magic, _version, page_size, _ckpt, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:32])
    big = bool(magic & 1)
    if magic not in _MAGICS or page_size != PAGE_SIZE:
        return 0  # scan_wal refuses a damaged header
    frame_size = FRAME_HEADER + page_size
    s0, s1 = c1, c2
    offset, n = WAL_HEADER, 0
    while offset + frame_size <= len(data):
        head = data[offset : offset + FRAME_HEADER]
        _pgno, size, f_salt1, f_salt2, f_c1, f_c2 = struct.unpack(">6I", head)
        if (f_salt1, f_salt2) != (salt1, salt2):
            return 0  # the valid prefix ended cleanly; older frames follow
        n += 1
        t0, t1 = wal_checksum(head[:8], big, s0, s1)
        t0, t1 = wal_checksum(data[offset + FRAME_HEADER : offset + frame_size], big, t0, t1)
        if (t0, t1) != (f_c1, f_c2):
            return n if size else 0
        s0, s1 = t0, t1
        offset += frame_size
    return 0
