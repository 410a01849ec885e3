"""Checking an uploaded batch: every entry's form, hash and link, and the
signature of the batch head (its last entry).

Each entry's hash covers the hash before it, so the head's signature, every
hash recomputed and the chain linked to the server's stored head prove the
whole batch is the terminal's (docs/sync.md). The other entries' signatures
are stored as sent and checked later by the audit (sync.server.audit).
A large batch is split into chunks checked on a pool of worker processes
(one per core), whose verdicts come back in order, so ingest stores each
chunk while the next ones are checked; a small batch is checked in place. The hash is the terminal's own function
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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, cast

import orjson
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
# A large batch goes to the pool in chunks of at least CHUNK_AT_LEAST
# entries, about CHUNKS_PER_WORKER per worker: the first verdicts come back
# while the rest are checked, so storing overlaps checking.
CHUNK_AT_LEAST = 256
CHUNKS_PER_WORKER = 4

Row = tuple[int, str, str, str, str, str, str]
# The journal's own formats (pos.store.journal_format).
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")
_DOMAIN = jf.DOMAIN.decode()


def as_rows(entries: Sequence[WireEntry] | Sequence[Row]) -> list[Row]:
    # Plain tuples: cheap to pickle to the worker processes.
    if entries and isinstance(entries[0], tuple):
        # A NamedTuple as a plain tuple: pickled without its class.
        rows = cast(Sequence[Row], entries)
        return list(rows) if type(rows[0]) is tuple else [tuple(e) for e in rows]  # type: ignore[misc]
    return [
        (e.seq, e.time, e.type, e.payload, e.prev_hash, e.hash, e.signature)
        for e in cast(Sequence[WireEntry], entries)
    ]


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
    are refused while parsing, which is all canonical.dumps would refuse.

    A text with no escape is first tried with orjson, at a third of that
    again: without escapes, orjson's sorted compact output of a document
    without floats is byte for byte what canonical.dumps writes."""
    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" not in raw:
        # Only a yes is taken from it; anything else (NaN, a number orjson
        # reads as a float, a surrogate, a text that is not canonical) is
        # decided by the exact path below.
        try:
            fast = orjson.loads(raw)
        except orjson.JSONDecodeError:
            fast = None
        if (
            type(fast) is dict
            and orjson.dumps(fast, option=orjson.OPT_SORT_KEYS) == raw
            and not _holds_float(fast)
        ):
            return fast
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return data if _ENCODER.encode(data) == text else None


def _holds_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif t is float:
            return True
    return False


# Made once: json.loads/dumps with options build a new coder on every call.
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _problem(
    terminal_id: str,
    row: Row,
    prev_hash: str,
    head_key: Ed25519PublicKey | None,
    payload: dict[str, Any] | None,
    tid_json: str,
) -> jf.Problem | None:
    """What the journal's ChainChecker reports for this entry, with its
    signature checked only when `head_key` is given (for the batch head) and
    otherwise only its form (tests/sync/server/test_verify.py holds the two
    equal). `payload` is canonical_object of the row's payload; `tid_json`
    the terminal id as JSON (_json_text)."""
    seq, time, event_type, payload_text, prev, entry_hash, signature = row
    if not jf.EVENT_TYPE.fullmatch(event_type):
        return jf.Problem(seq, "malformed", f"event type {event_type!r} is malformed")
    if not _TIME.fullmatch(time):
        return jf.Problem(seq, "malformed", f"time {time!r} is not a journal timestamp")
    if not (_HEX64.fullmatch(prev) and _HEX64.fullmatch(entry_hash)):
        return jf.Problem(seq, "malformed", "hash fields are not 64 lower-case hex digits")
    if payload is None:
        return jf.Problem(seq, "malformed", "payload is not canonical JSON of an object")
    # jf.hash_input's header written directly: every field in it is checked
    # above to need no JSON escape, and the terminal id is given as JSON.
    data = (
        f'{_DOMAIN}{{"prev_hash":"{prev}","seq":{seq},"terminal_id":{tid_json},'
        f'"time":"{time}","type":"{event_type}"}}\n{payload_text}'
    )
    if hashlib.sha256(data.encode()).hexdigest() != entry_hash:
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


def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


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
    tid_json = _json_text(terminal_id)
    prev = rows[0][4]
    for row in rows:
        payload = canonical_object(row[3])
        head = key if row[5] == head_hash else None
        problem = _problem(terminal_id, row, prev, head, payload, tid_json)
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

    def start(
        self, terminal_id: str, public_key: str, entries: Sequence[WireEntry] | Sequence[Row]
    ) -> Verification:
        """Starts checking `entries`: a large batch is cut into chunks, all
        sent to the pool at once, so the caller can store each chunk as its
        verdict comes while the pool checks the next ones."""
        rows = as_rows(entries)
        head = rows[-1][5]
        if self._workers <= 1 or len(rows) < PARALLEL_FROM:
            return Verification([rows], iter([check_rows(terminal_id, public_key, rows, head)]))
        # A small first chunk: its verdict, which storing waits for, comes soon.
        size = max(CHUNK_AT_LEAST, -(-len(rows) // (self._workers * CHUNKS_PER_WORKER)))
        starts = [0, *range(min(CHUNK_AT_LEAST, size), len(rows), size)]
        chunks = [rows[a:b] for a, b in zip(starts, [*starts[1:], len(rows)], strict=True)]
        calls = [(terminal_id, public_key, c, head) for c in chunks]
        return Verification(chunks, self._verdicts(calls, self._submit_any(calls)))

    def _submit_any(self, calls: Sequence[tuple[Any, ...]]) -> list[Future[Any]] | None:
        """The calls' futures, on a new pool if this one broke; None when that
        breaks too (the calls are then run here)."""
        for _attempt in range(2):
            try:
                return self._submit(check_rows, calls)
            except BrokenProcessPool:
                log.warning("verification pool broke; starting a new one")
                self._discard_broken()
        return None

    def _verdicts(
        self, calls: Sequence[tuple[Any, ...]], futures: list[Future[Any]] | None
    ) -> Iterator[Checked]:
        retried = False
        for i, args in enumerate(calls):
            while True:
                if futures is None:
                    yield check_rows(*args)
                    break
                try:
                    yield futures[i].result()
                    break
                except BrokenProcessPool:
                    # The rest once more on a new pool, then here.
                    log.warning("verification pool broke; starting a new one")
                    self._discard_broken()
                    rest = None if retried else self._submit_any(calls[i:])
                    retried = True
                    futures = None if rest is None else [*futures[:i], *rest]

    def check(
        self, terminal_id: str, public_key: str, entries: Sequence[WireEntry] | Sequence[Row]
    ) -> Checked:
        """The whole batch's verdict at once."""
        lines: list[tuple[Any, ...]] = []
        for _chunk, part in self.start(terminal_id, public_key, entries).parts():
            if part.bad is not None:
                return part
            lines.extend(part.lines)
        return Checked(None, lines)

    def close(self) -> None:
        def on_owner() -> None:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

        self._owner.submit(on_owner).result()
        self._owner.shutdown(wait=True)


class Verification:
    """A batch's check under way: its chunks, each with its verdict as it
    comes (check_rows' verdict, with the links between chunks checked
    here). The verdicts come in order and stop after the first bad one."""

    def __init__(self, chunks: Sequence[Sequence[Row]], verdicts: Iterator[Checked]) -> None:
        self.chunks = chunks
        self._verdicts = verdicts

    def parts(self) -> Iterator[tuple[Sequence[Row], Checked]]:
        before: Sequence[Row] | None = None
        for chunk, part in zip(self.chunks, self._verdicts, strict=True):
            if before is not None and chunk[0][4] != before[-1][5]:
                seq = chunk[0][0]
                # The entry's own faults are reported before its link, as in _problem.
                if part.bad is None or part.bad[0] != seq:
                    part = Checked((seq, _unlinked(seq)), [])
            yield chunk, part
            if part.bad is not None:
                return
            before = chunk

    def first_bad(self) -> tuple[int, str] | None:
        return next((part.bad for _c, part in self.parts() if part.bad is not None), None)
