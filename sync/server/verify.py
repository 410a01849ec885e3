"""Checking an uploaded batch: every entry's form, hash and link, and the
signature of the batch head (its last entry).

Each entry's hash covers the hash before it, so the head's signature, every
hash recomputed and the chain linked to the server's stored head prove the
whole batch is the terminal's (docs/sync.md). The other entries' signatures
are stored as sent and checked later by the audit (sync.server.audit).
A large batch is split across a pool of worker processes (one per core); a
small one is checked in place. The hash is the terminal's own function
(pos.store.journal_format) and the other rules are its rules, held equal to
its ChainChecker by tests.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from pos.store import journal_format as jf
from sync.schemas import WireEntry
from sync.server.settlement import line_rows

log = logging.getLogger(__name__)

# Below this a process hop costs more than it saves.
PARALLEL_FROM = 512

Row = tuple[int, str, str, str, str, str, str]
# The journal's own formats (pos.store.journal_format).
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


def _rows(entries: Sequence[WireEntry]) -> list[Row]:
    # Plain tuples: cheap to pickle to the worker processes.
    return [(e.seq, e.time, e.type, e.payload, e.prev_hash, e.hash, e.signature) for e in entries]


class SodiumKey:
    """An Ed25519 public key checked by libsodium (PyNaCl), about 1.5x faster
    than OpenSSL's here. It answers like cryptography's key, so the journal's
    own signature_valid can use it."""

    def __init__(self, public_key_hex: str) -> None:
        jf.load_public_key(public_key_hex)  # same validation and error as the terminal's
        self._raw = bytes.fromhex(public_key_hex)

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            crypto_sign_open(signature + data, self._raw)
        except (BadSignatureError, ValueError, TypeError) as exc:
            raise InvalidSignature() from exc


def _refuse_float(text: str) -> None:
    raise ValueError(f"{text} is not an integer")


def canonical_object(text: str) -> dict[str, Any] | None:
    """The object `text` holds when `text` is pos.canonical.dumps of it, else None.

    The same answer as dumping the parsed object with canonical.dumps and
    comparing, at a third of the cost: a parsed document holds only dict,
    list, str, int, bool, None and float, and floats (NaN and Infinity too)
    are refused while parsing, which is all canonical.dumps would refuse."""
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return data if _ENCODER.encode(data) == text else None


# Made once: json.loads/dumps with options build a new coder on every call.
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _problem(
    terminal_id: str,
    row: Row,
    prev_hash: str,
    head_key: Ed25519PublicKey | None,
    payload: dict[str, Any] | None,
) -> jf.Problem | None:
    """What the journal's ChainChecker reports for this entry, with its
    signature checked only when `head_key` is given (for the batch head) and
    otherwise only its form (tests/sync/server/test_verify.py holds the two
    equal). `payload` is canonical_object of the row's payload."""
    seq, time, event_type, payload_text, prev, entry_hash, signature = row
    if not jf.EVENT_TYPE.fullmatch(event_type):
        return jf.Problem(seq, "malformed", f"event type {event_type!r} is malformed")
    if not _TIME.fullmatch(time):
        return jf.Problem(seq, "malformed", f"time {time!r} is not a journal timestamp")
    if not (_HEX64.fullmatch(prev) and _HEX64.fullmatch(entry_hash)):
        return jf.Problem(seq, "malformed", "hash fields are not 64 lower-case hex digits")
    if payload is None:
        return jf.Problem(seq, "malformed", "payload is not canonical JSON of an object")
    data = jf.hash_input(terminal_id, seq, time, event_type, payload_text.encode("utf-8"), prev)
    if hashlib.sha256(data).hexdigest() != entry_hash:
        return jf.Problem(seq, "edited", "content does not match its hash (edited, or moved here)")
    if not (
        jf.signature_valid(head_key, entry_hash, signature)
        if head_key is not None
        else _HEX128.fullmatch(signature)
    ):
        return jf.Problem(
            seq,
            "signature",
            "signature is not this terminal's (re-signed with another key or forged)",
        )
    if prev != prev_hash:
        return jf.Problem(seq, "chain", _unlinked(seq))
    return None


def _unlinked(seq: int) -> str:
    return f"does not follow entry {seq - 1} (an entry was inserted, removed or replaced)"


@dataclass(frozen=True)
class Checked:
    """A batch's verdict: the first bad entry as (seq, why), or None; and the
    settlement lines of its entries (settlement.LINE_FIELDS order), extracted
    here because the payloads are parsed here anyway."""

    bad: tuple[int, str] | None
    lines: list[tuple[Any, ...]]


def check_rows(terminal_id: str, public_key: str, rows: Sequence[Row], head_hash: str) -> Checked:
    """Every entry sound, each linked to the one before it, and the entry
    hashed `head_hash`, if here, signed by the terminal. The link of the first
    row to what the server already holds is checked later, under the
    terminal's lock."""
    lines: list[tuple[Any, ...]] = []
    if not rows:
        return Checked(None, lines)
    key = cast(Ed25519PublicKey, SodiumKey(public_key))
    prev = rows[0][4]
    for row in rows:
        payload = canonical_object(row[3])
        head = key if row[5] == head_hash else None
        problem = _problem(terminal_id, row, prev, head, payload)
        if problem is not None:
            return Checked((problem.seq, problem.reason), [])
        lines.extend(line_rows(row[0], row[2], payload, row[1]))
        prev = row[5]
    return Checked(None, lines)


def _die_with_parent(parent: int) -> None:
    """A server killed outright (SIGKILL, OOM) must not leave workers behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


_PR_SET_PDEATHSIG = 1


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


class BatchVerifier:
    """Checks batches, large ones on a pool of worker processes.

    Every worker is started by one long-lived owner thread, never by a
    request thread: a worker asks to be killed when the thread that started
    it ends (PR_SET_PDEATHSIG is per thread on Linux), and a request thread
    of the server's thread pool ends when it has been idle a while. A pool
    that breaks anyway (a worker killed, out of memory) is replaced, and the
    batch is checked again; if the new pool fails too, it is checked here in
    the request's thread. A batch is never answered with an error because of
    the pool."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        # The owner: one thread that lives as long as this verifier.
        self._owner = ThreadPoolExecutor(1, thread_name_prefix="verify-pool-owner")
        self.rebuilt = 0

    def _executor(self) -> ProcessPoolExecutor:
        """The pool; called on the owner thread only."""
        if self._pool is None:
            # spawn: the server has threads, and forking them is unsafe.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=ctx, initializer=_die_with_parent, initargs=(os.getpid(),)
            )
        return self._pool

    def _submit(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]
    ) -> list[Future[Any]]:
        """Submits on the owner thread (a submit may start a worker)."""

        def on_owner() -> list[Future[Any]]:
            pool = self._executor()
            return [pool.submit(fn, *args) for args in calls]

        return self._owner.submit(on_owner).result()

    def _discard_broken(self) -> None:
        def on_owner() -> None:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self.rebuilt += 1

        self._owner.submit(on_owner).result()

    def warm(self, rounds: int = 50) -> None:
        """Starts every worker process now: each one's start (a new
        interpreter importing this module) takes about half a second, which
        the first large upload would otherwise wait for."""
        if self._workers <= 1:
            return
        seen: set[int] = set()
        for _ in range(rounds):
            try:
                tasks = self._submit(_pid_after, [(0.02,)] * self._workers)
                seen.update(t.result() for t in tasks)
            except BrokenProcessPool:
                self._discard_broken()
            if len(seen) >= self._workers:
                return

    def check(self, terminal_id: str, public_key: str, entries: Sequence[WireEntry]) -> Checked:
        rows = _rows(entries)
        head = entries[-1].hash
        if self._workers <= 1 or len(rows) < PARALLEL_FROM:
            return check_rows(terminal_id, public_key, rows, head)
        size = -(-len(rows) // self._workers)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        calls = [(terminal_id, public_key, c, head) for c in chunks]
        for _attempt in range(2):
            try:
                parts = [f.result() for f in self._submit(check_rows, calls)]
                break
            except BrokenProcessPool:
                log.warning("verification pool broke; starting a new one")
                self._discard_broken()
        else:
            parts = [check_rows(*args) for args in calls]
        return _joined(chunks, parts)

    def close(self) -> None:
        def on_owner() -> None:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

        self._owner.submit(on_owner).result()
        self._owner.shutdown(wait=True)


def _joined(chunks: Sequence[Sequence[Row]], parts: Sequence[Checked]) -> Checked:
    """One verdict from the chunks' verdicts: the first bad entry, including a
    broken link between two chunks."""
    for i, part in enumerate(parts):
        if part.bad is not None:
            return part
        if i + 1 < len(chunks) and chunks[i + 1][0][4] != chunks[i][-1][5]:
            seq, after = chunks[i + 1][0][0], parts[i + 1].bad
            # The entry's own faults are reported before its link, as in _problem.
            return parts[i + 1] if after and after[0] == seq else Checked((seq, _unlinked(seq)), [])
    return Checked(None, [line for part in parts for line in part.lines])
