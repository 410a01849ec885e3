"""Anchors: what the terminal last committed, kept outside the database file, so
a database that went backwards is caught at the next start.

Two anchors, each holding the last journal seq and hash, the server's
acknowledged high-water mark, and the receipt counter of the latest business
date:

- the anchor file `terminal.anchor` beside the database, rewritten after every
  commit that moved the journal (keyed MAC from the signing key, so it cannot
  be forged, only deleted or rolled back together with the database);
- the keyring anchor (entry `journal-anchor` in the terminal's keystore),
  written every `KEYRING_EVERY` entries, every `KEYRING_INTERVAL`, at each Z
  (`day.closed`), at an acknowledged loss, and when the terminal closes.

The anchor file also carries, after a clean close, the state of the database
files as the till left them (`record_checked`, MAC'd with the anchor): the
next open compares it with the files and skips the whole-file page pass when
nothing touched them since. Any commit rewrites the file without it.

docs/store.md says what each can and cannot detect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pos import canonical
from pos.clock import Clock
from pos.events import Event
from pos.messages import Message, msg
from pos.store.db import Connection, DatabaseError
from pos.store.integrity import FileState
from pos.store.keys import KeyStore

ANCHOR_FILE = "terminal.anchor"
KEYRING_ANCHOR = "journal-anchor"
KEYRING_EVERY = 20
KEYRING_INTERVAL = timedelta(minutes=5)
# Events after which the keyring anchor is written at once.
ANCHOR_NOW = frozenset({Event.DAY_CLOSED, Event.STORE_LOSS_ACKNOWLEDGED})


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    acked_seq: int = 0
    receipt_date: str = ""
    receipt_no: int = 0
    type: str = ""
    commits: int = 0

    def to_bytes(self) -> bytes:
        return canonical.dumps(asdict(self))

    @classmethod
    def from_dict(cls, doc: Any) -> Anchor:
        return cls(
            seq=int(doc["seq"]),
            hash=str(doc["hash"]),
            acked_seq=int(doc.get("acked_seq", 0)),
            receipt_date=str(doc.get("receipt_date", "")),
            receipt_no=int(doc.get("receipt_no", 0)),
            type=str(doc.get("type", "")),
            commits=int(doc.get("commits", 0)),
        )


def current(conn: Connection) -> Anchor:
    """Where the database stands now."""
    row = conn.execute("SELECT seq, hash, type FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    ack = conn.execute("SELECT acked_seq FROM outbox_ack WHERE id = 1").fetchone()
    receipt = _latest_receipt(conn)
    try:
        counted = conn.execute("SELECT n FROM commit_counter WHERE id = 1").fetchone()
    except DatabaseError:
        counted = None  # a database from before migration 0010
    return Anchor(
        seq=0 if row is None else int(row[0]),
        hash="" if row is None else str(row[1]),
        acked_seq=0 if ack is None else int(ack[0]),
        receipt_date=receipt[0],
        receipt_no=receipt[1],
        type="" if row is None else str(row[2]),
        commits=0 if counted is None else int(counted[0]),
    )


def count_commit(conn: Connection) -> None:
    """Inside each write transaction, just before COMMIT (a pre-commit hook)."""
    conn.execute("UPDATE commit_counter SET n = n + 1 WHERE id = 1")


def _latest_receipt(conn: Connection) -> tuple[str, int]:
    try:
        row = conn.execute(
            "SELECT business_date, last_no FROM receipt_counters ORDER BY business_date DESC LIMIT 1"
        ).fetchone()
    except DatabaseError:
        return "", 0  # a database from before the checkout tables
    return ("", 0) if row is None else (str(row[0]), int(row[1]))


def _mac_key(signing_seed: bytes) -> bytes:
    return hmac.new(signing_seed, b"pos-anchor-file-v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class Loss:
    """The database is behind an anchor: how, and by how much."""

    kind: str  # rolled_back | commits_lost | replaced | receipts | anchor_edited
    anchor_seq: int
    db_seq: int
    source: str  # file | keyring
    commits: int = 0  # commits missing (commits_lost)

    @property
    def lost(self) -> int:
        return max(0, self.anchor_seq - self.db_seq)

    def message(self) -> Message:
        return msg(
            f"store.loss_{self.kind}",
            anchor_seq=self.anchor_seq,
            db_seq=self.db_seq,
            lost=self.lost,
            source=self.source,
            commits=self.commits,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "anchor_seq": self.anchor_seq,
            "db_seq": self.db_seq,
            "lost": self.lost,
            "source": self.source,
            "commits": self.commits,
        }


class AnchorKeeper:
    """Writes both anchors as the journal moves; compares them with a database."""

    def __init__(
        self,
        data_dir: Path,
        keystore: KeyStore,
        signing_seed: bytes,
        clock: Clock,
        *,
        keyring_every: int = KEYRING_EVERY,
        keyring_interval: timedelta = KEYRING_INTERVAL,
    ) -> None:
        self.path = Path(data_dir) / ANCHOR_FILE
        self._keystore = keystore
        self._mac_key = _mac_key(signing_seed)
        self._clock = clock
        self._every = keyring_every
        self._interval = keyring_interval
        self._lock = threading.Lock()
        self._written: Anchor | None = None
        self._keyring_seq = -1
        self._keyring_at: datetime | None = None
        self._pending: Anchor | None = None
        # The anchors as `losses` read them, for `reset` to skip rewriting them.
        self._seen: tuple[Anchor | None, Anchor | None] | None = None
        # While a loss waits for a manager, the anchors keep the evidence.
        self.held = False

    def __repr__(self) -> str:
        return f"AnchorKeeper({str(self.path)!r})"

    # --- reading -------------------------------------------------------------

    def read_file(self) -> tuple[Anchor | None, bool]:
        """The file anchor and whether its MAC holds (a missing or torn file is None, True)."""
        try:
            doc: Any = json.loads(self.path.read_bytes())
            body = canonical.dumps(doc["anchor"])
            anchor = Anchor.from_dict(doc["anchor"])
            mac = str(doc["mac"])
        except FileNotFoundError:
            return None, True
        except (OSError, ValueError, KeyError, TypeError, canonical.CanonicalError):
            return None, True  # torn by a power cut: no evidence either way
        good = hmac.compare_digest(mac, hmac.new(self._mac_key, body, "sha256").hexdigest())
        return (anchor if good else None), good

    def read_checked(self) -> FileState | None:
        """The files' state recorded at the last clean close, if its MAC holds
        and no commit came after it."""
        try:
            doc: Any = json.loads(self.path.read_bytes())
            body = canonical.dumps(doc["anchor"])
            checked = doc["checked"]
            mac = str(doc["checked_mac"])
        except (OSError, ValueError, KeyError, TypeError, canonical.CanonicalError):
            return None
        want = hmac.new(self._mac_key, _checked_body(body, checked), "sha256").hexdigest()
        if not hmac.compare_digest(mac, want):
            return None
        return FileState.from_dict(checked)

    def record_checked(self, state: FileState | None) -> None:
        """After a clean close: keep the anchor in the file as it is and add the
        files' state (None: drop it, the files are not to be trusted). Never
        raises (the next open then checks every page)."""
        with self._lock:
            if self.held and state is not None:
                return
            try:
                doc: Any = json.loads(self.path.read_bytes())
                anchor = doc["anchor"]
                body = canonical.dumps(anchor)
                good = hmac.compare_digest(
                    str(doc["mac"]), hmac.new(self._mac_key, body, "sha256").hexdigest()
                )
                if not good:
                    return
                out: dict[str, Any] = {"anchor": anchor, "mac": doc["mac"]}
                if state is not None:
                    checked = state.to_dict()
                    out["checked"] = checked
                    out["checked_mac"] = hmac.new(
                        self._mac_key, _checked_body(body, checked), "sha256"
                    ).hexdigest()
                elif "checked" not in doc:
                    return
                self._replace(json.dumps(out, separators=(",", ":")).encode() + b"\n")
            except (OSError, ValueError, KeyError, TypeError, canonical.CanonicalError):
                return

    def read_keyring(self) -> Anchor | None:
        raw = self._keystore.get(KEYRING_ANCHOR)
        if raw is None:
            return None
        try:
            return Anchor.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            return None

    def losses(self, conn: Connection) -> list[Loss]:
        """How the database on `conn` is behind either anchor (empty: it is not)."""
        # Anchors first, then the database: another process committing meanwhile
        # can only make the database newer than the anchors read, never older.
        file_anchor, file_ok = self.read_file()
        keyring_anchor = self.read_keyring()
        now = current(conn)
        self._seen = (file_anchor, keyring_anchor)
        found: list[Loss] = []
        if not file_ok:
            found.append(Loss("anchor_edited", 0, now.seq, "file"))
        for source, anchor in (("file", file_anchor), ("keyring", keyring_anchor)):
            if anchor is None:
                continue
            loss = _compare(conn, now, anchor, source)
            if loss is not None:
                found.append(loss)
        return found

    # --- writing -------------------------------------------------------------

    def committed(self, conn: Connection) -> None:
        """After each COMMIT: rewrite the file anchor when the journal or the
        server's ack moved, the keyring anchor at intervals and at a Z.

        Never raises: the sale is committed; a failed anchor write only means
        the next start compares against an older anchor."""
        try:
            anchor = current(conn)
        except DatabaseError:
            return
        with self._lock:
            if self.held:
                return
            last = self._written
            if last == anchor:
                return
            try:
                self._write_file(anchor)
            except OSError:
                return
            self._written = anchor
            now = self._clock.now()
            due = (
                anchor.type in ANCHOR_NOW
                or anchor.seq - self._keyring_seq >= self._every
                or self._keyring_at is None
                or now - self._keyring_at >= self._interval
            )
            if due:
                self._write_keyring(anchor, now)
            else:
                self._pending = anchor

    def flush(self) -> None:
        """Write the keyring anchor now if it is behind (at close)."""
        with self._lock:
            if self._pending is not None and self._pending.seq > self._keyring_seq:
                self._write_keyring(self._pending, self._clock.now())

    def reset(self, conn: Connection) -> None:
        """Anchor the database as it stands (after an acknowledged loss or a
        first start with anchors): both anchors are written at once."""
        anchor = current(conn)
        seen, self._seen = self._seen, None
        with self._lock:
            self.held = False
            if seen == (anchor, anchor):
                # Both anchors already say this (the usual open): nothing to
                # write, which spares a keyring round trip at every command.
                self._written = anchor
                self._keyring_seq, self._keyring_at = anchor.seq, self._clock.now()
                return
            self._write_file(anchor)
            self._written = anchor
            self._write_keyring(anchor, self._clock.now())

    def count_lost_commit(self, conn: Connection) -> None:
        """A commit the file anchor never counted was lost (wal_tail): count it
        now, so the evidence outlives the WAL and the open holds the till."""
        now = current(conn)
        with self._lock:
            self._write_file(replace(now, commits=now.commits + 1))

    def _write_file(self, anchor: Anchor) -> None:
        body = canonical.dumps(asdict(anchor))
        mac = hmac.new(self._mac_key, body, "sha256").hexdigest()
        self._replace(b'{"anchor":' + body + b',"mac":"' + mac.encode() + b'"}\n')

    def _replace(self, data: bytes) -> None:
        # No fsync: the database's own commit was; a stale anchor only checks less.
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(data)
        os.replace(tmp, self.path)

    def _write_keyring(self, anchor: Anchor, now: datetime) -> None:
        try:
            self._keystore.set(KEYRING_ANCHOR, anchor.to_bytes())
        except Exception:
            self._pending = anchor
            return
        self._keyring_seq, self._keyring_at, self._pending = anchor.seq, now, None


def _checked_body(anchor_body: bytes, checked: Any) -> bytes:
    """What the files' state is MAC'd as: bound to the anchor it was written with."""
    return b"pos-files-checked-v1\n" + anchor_body + b"\n" + canonical.dumps(checked)


def _compare(conn: Connection, now: Anchor, anchor: Anchor, source: str) -> Loss | None:
    high = max(anchor.seq, anchor.acked_seq)
    if now.seq < high:
        return Loss("rolled_back", high, now.seq, source)
    if now.commits < anchor.commits:
        return Loss("commits_lost", anchor.seq, now.seq, source, anchor.commits - now.commits)
    if anchor.seq:
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (anchor.seq,)).fetchone()
        if row is None or row[0] != anchor.hash:
            return Loss("replaced", anchor.seq, now.seq, source)
    if anchor.receipt_date and anchor.receipt_date >= now.receipt_date:
        row = conn.execute(
            "SELECT last_no FROM receipt_counters WHERE business_date = ?", (anchor.receipt_date,)
        ).fetchone()
        if (0 if row is None else int(row[0])) < anchor.receipt_no:
            return Loss("receipts", anchor.seq, now.seq, source)
    return None


def raise_receipt_counters(conn: Connection, anchors: list[Anchor | None]) -> None:
    """Never reissue a receipt number: lift each anchored date's counter to
    what the anchors saw (inside the acknowledging transaction)."""
    for anchor in anchors:
        if anchor is None or not anchor.receipt_date:
            continue
        conn.execute(
            "INSERT INTO receipt_counters (business_date, last_no) VALUES (?, ?)"
            " ON CONFLICT(business_date) DO UPDATE SET last_no = max(last_no, excluded.last_no)",
            (anchor.receipt_date, anchor.receipt_no),
        )


def receipt_counters_agree_with_journal(conn: Connection) -> list[str]:
    """Each business date's receipt counter is the highest receipt number the
    journal issued that day (higher only after an acknowledged loss lifted it):
    a lowered counter would issue a number twice."""
    issued: dict[str, int] = {}
    for (raw,) in conn.execute("SELECT payload FROM journal WHERE type = ?", (Event.SALE_PAID,)):
        payload = canonical.loads(raw)
        number = str(payload.get("receipt_no") or "")
        tail = number.rsplit("-", 1)[-1]
        if tail.isascii() and tail.isdigit():
            date = str(payload.get("business_date", ""))
            issued[date] = max(issued.get(date, 0), int(tail))
    lifted = conn.execute(
        "SELECT 1 FROM journal WHERE type = ? LIMIT 1", (Event.STORE_LOSS_ACKNOWLEDGED,)
    ).fetchone()
    problems = []
    counters = {str(r[0]): int(r[1]) for r in conn.execute("SELECT * FROM receipt_counters")}
    for date in sorted(set(issued) | set(counters)):
        have, want = counters.get(date, 0), issued.get(date, 0)
        if have < want or (have > want and lifted is None):
            problems.append(
                f"the receipt counter of {date} is {have}, but the journal issued receipts "
                f"up to {want}"
            )
    return problems
