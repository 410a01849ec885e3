"""Test helpers for the store: hashing files before/after, raw SQL edits."""

from __future__ import annotations

import hashlib
from pathlib import Path

SIDE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def snapshot(db_path: Path) -> dict[str, str]:
    """SHA-256 of the database and every side file that exists, by name."""
    found = {}
    for suffix in SIDE_SUFFIXES:
        path = Path(f"{db_path}{suffix}")
        if path.exists():
            found[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def dir_snapshot(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }
