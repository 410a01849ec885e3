"""Checking an uploaded batch: every entry's form, hash and link, and the
signature of the batch head (its last entry).

Each entry's hash covers the hash before it, so the head's signature, every
hash recomputed and the chain linked to the server's stored head prove the
whole batch is the terminal's (docs/sync.md). The other entries' signatures
are stored as sent and checked later by the audit (sync.server.audit).
A large batch is split across a pool of worker processes (one per core); a
small one is checked in place. The rules are the terminal's own
(pos.store.journal_format), so the two sides cannot drift.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from pos.store import journal_format as jf
from sync.schemas import WireEntry

# Below this a process hop costs more than it saves.
PARALLEL_FROM = 512

Row = tuple[int, str, str, str, str, str, str]


def _rows(entries: Sequence[WireEntry]) -> list[Row]:
    # Plain tuples: cheap to pickle to the worker processes.
    return [(e.seq, e.time, e.type, e.payload, e.prev_hash, e.hash, e.signature) for e in entries]


class SodiumKey:
    """An Ed25519 public key checked by libsodium (PyNaCl), about 1.5x faster
    than OpenSSL's here. It answers like cryptography's key, so the journal's
    own ChainChecker does the checking and the two sides cannot drift."""

    def __init__(self, public_key_hex: str) -> None:
        jf.load_public_key(public_key_hex)  # same validation and error as the terminal's
        self._raw = bytes.fromhex(public_key_hex)

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            crypto_sign_open(signature + data, self._raw)
        except (BadSignatureError, ValueError, TypeError) as exc:
            raise InvalidSignature() from exc


class HeadKey:
    """The terminal's key as an upload uses it: the signature over the batch
    head's hash is checked, any other is left to the audit. The journal's
    ChainChecker still checks each signature's form, each hash and each link."""

    def __init__(self, public_key_hex: str, head_hash_hex: str) -> None:
        self._key = SodiumKey(public_key_hex)
        self._head = bytes.fromhex(head_hash_hex)

    def verify(self, signature: bytes, data: bytes) -> None:
        if data == self._head:
            self._key.verify(signature, data)


def check_rows(
    terminal_id: str, public_key: str, rows: Sequence[Row], head_hash: str
) -> tuple[int, str] | None:
    """The first bad entry as (seq, why), or None when every entry is sound,
    each links to the one before it and the entry hashed `head_hash`, if here,
    carries the terminal's signature. The link of the first row to what the
    server already holds is checked later, under the terminal's lock."""
    if not rows:
        return None
    key = cast(Ed25519PublicKey, HeadKey(public_key, head_hash))
    checker = jf.ChainChecker(key, terminal_id, rows[0][0], rows[0][4])
    for row in rows:
        problem = checker.check(jf.JournalRecord(terminal_id, *row))
        if problem is not None:
            return problem.seq, problem.reason
    return None


def _die_with_parent(parent: int) -> None:
    """A server killed outright (SIGKILL, OOM) must not leave workers behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


_PR_SET_PDEATHSIG = 1


class BatchVerifier:
    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: Executor | None = None

    def _executor(self) -> Executor:
        if self._pool is None:
            # spawn: the server has threads, and forking them is unsafe.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=ctx, initializer=_die_with_parent, initargs=(os.getpid(),)
            )
        return self._pool

    def first_bad(
        self, terminal_id: str, public_key: str, entries: Sequence[WireEntry]
    ) -> tuple[int, str] | None:
        rows = _rows(entries)
        head = entries[-1].hash
        if self._workers <= 1 or len(rows) < PARALLEL_FROM:
            return check_rows(terminal_id, public_key, rows, head)
        size = -(-len(rows) // self._workers)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        futures = [
            self._executor().submit(check_rows, terminal_id, public_key, c, head) for c in chunks
        ]
        bad = [f.result() for f in futures]
        for i in range(1, len(chunks)):
            if bad[i - 1] is None and chunks[i][0][4] != chunks[i - 1][-1][5]:
                bad[i] = (chunks[i][0][0], "does not follow the entry before it")
        return next((b for b in bad if b is not None), None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
