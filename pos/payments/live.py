"""Who is taking a payment right now, across the processes sharing one
terminal's data directory (the app, a `pos sale`, a manager's `pos payment
recover`).

A process taking a payment holds ``<data dir>/payments.lock`` shared from
opening the intent until the sale is committed; recovery takes it exclusive
and does not run while any payment is live, so it never cancels a QR code a
shopper is scanning in another window, nor settles a payment whose till is
about to record it. Advisory ``flock`` locks: the operating system drops them
when a process dies, so a crash never leaves the terminal locked. Where
``fcntl`` does not exist the lock is not enforced (one process per till)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pos.errors import NotAllowed
from pos.messages import msg

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "payments.lock"


@contextmanager
def _flock(data_dir: Path, exclusive: bool) -> Iterator[bool]:
    if fcntl is None:
        yield True
        return
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def taking_payment(data_dir: Path) -> Iterator[None]:
    """Hold while a payment runs and its sale commits."""
    with _flock(data_dir, exclusive=False) as held:
        if not held:
            raise NotAllowed(msg("payments.live.settling"))
        yield


@contextmanager
def recovering(data_dir: Path) -> Iterator[None]:
    """Hold while settling what a crash left; refused while a payment is live."""
    with _flock(data_dir, exclusive=True) as held:
        if not held:
            raise NotAllowed(msg("payments.live.taking"))
        yield
