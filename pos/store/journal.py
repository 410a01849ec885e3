"""The signed journal: every business event, appended in the same transaction
as the data it describes, hash-chained and signed by the terminal's key.

    with terminal.db.transaction() as conn:
        conn.execute("INSERT INTO orders ...")
        terminal.journal.append(conn, "sale.paid", {"order_id": ...})

`append` also writes the outbox row the sync client pushes to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos import canonical
from pos.clock import Clock, iso
from pos.events import Event
from pos.messages import Message, msg
from pos.store.db import Connection, Database
from pos.store.errors import JournalMisuse, StoreRolledBack
from pos.store.journal_format import (
    EVENT_TYPE,
    GENESIS_HASH,
    ChainChecker,
    JournalRecord,
    Problem,
    load_public_key,
    make_record,
    public_key_hex,
)

ExtraCheck = Callable[[Connection], list[str]]

ALLOWED_DURING_HOLD = frozenset(
    {Event.STORE_LOSS_ACKNOWLEDGED, Event.USER_LOGIN, Event.USER_APPROVAL_FAILED}
)

COLUMNS = "terminal_id, seq, time, type, payload, prev_hash, hash, signature"


@dataclass(frozen=True)
class JournalEntry:
    """An appended entry, with its payload as data."""

    record: JournalRecord
    payload: dict[str, Any]

    @property
    def seq(self) -> int:
        return self.record.seq

    @property
    def type(self) -> str:
        return self.record.type

    @property
    def time(self) -> str:
        return self.record.time

    @property
    def hash(self) -> str:
        return self.record.hash


def record_from_row(row: Any) -> JournalRecord:
    """A record from a row selecting COLUMNS."""
    return JournalRecord(
        terminal_id=row["terminal_id"],
        seq=row["seq"],
        time=row["time"],
        type=row["type"],
        payload=row["payload"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        signature=row["signature"],
    )


def records(
    conn: Connection, from_seq: int = 1, to_seq: int | None = None
) -> Iterator[JournalRecord]:
    """Stored records in sequence order (streamed, not loaded at once)."""
    upper = to_seq if to_seq is not None else 2**63 - 1
    cur = conn.execute(
        f"SELECT {COLUMNS} FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq",
        (from_seq, upper),
    )
    for row in cur:
        yield record_from_row(row)


def last_record(conn: Connection) -> JournalRecord | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else record_from_row(row)


class Journal:
    """Appends entries for one terminal. Safe to share between threads: every
    append runs inside the caller's write transaction, which serialises them."""

    def __init__(self, terminal_id: str, signing_key: Ed25519PrivateKey, clock: Clock) -> None:
        self.terminal_id = terminal_id
        self._signing_key = signing_key
        self._clock = clock
        self.public_key = public_key_hex(signing_key)

        # Set while the database is behind its anchors: only sign-ins and the
        # manager's acknowledgement may be journaled until it is cleared.
        self.hold: Message | None = None

    def __repr__(self) -> str:
        return f"Journal(terminal_id={self.terminal_id!r})"

    def require_open(self) -> None:
        """Refuse to start business (a sale, a refund) while the store is held."""
        if self.hold is not None:
            raise StoreRolledBack(self.hold)

    def append(self, conn: Connection, event_type: str, payload: Mapping[str, Any]) -> JournalEntry:
        """Append one event inside the caller's open write transaction."""
        if not conn.in_transaction:
            raise JournalMisuse(
                "Journal.append was called outside a transaction",
                "Call it inside `with db.transaction() as conn:` together with the data "
                "it describes (program error).",
            )
        if not EVENT_TYPE.fullmatch(event_type) or len(event_type) > 64:
            raise JournalMisuse(
                f"event type {event_type!r} is not a dotted lower-case name",
                "Use names like 'sale.paid' or 'day.closed' (program error).",
            )
        if self.hold is not None and event_type not in ALLOWED_DURING_HOLD:
            raise StoreRolledBack(self.hold)
        if not isinstance(payload, Mapping):
            raise JournalMisuse(
                "a journal payload must be a mapping", "Pass a dict (program error)."
            )
        data = dict(payload)
        last = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        seq = 1 if last is None else last[0] + 1
        prev = GENESIS_HASH if last is None else last[1]
        now = iso(self._clock.now())
        try:
            record = make_record(
                self._signing_key, self.terminal_id, seq, now, event_type, data, prev
            )
        except canonical.CanonicalError as exc:
            raise JournalMisuse(
                f"journal payload is not canonical JSON: {exc}",
                "Money is integer minor units and times are ISO text (program error).",
            ) from exc
        conn.execute(
            f"INSERT INTO journal ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.terminal_id,
                record.seq,
                record.time,
                record.type,
                record.payload,
                record.prev_hash,
                record.hash,
                record.signature,
            ),
        )
        conn.execute("INSERT INTO outbox (seq, created_at) VALUES (?, ?)", (seq, now))
        return JournalEntry(record, data)


@dataclass
class VerifyReport:
    """The outcome of `verify`: ok, or the first bad sequence number and why."""

    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    first_bad: Problem | None = None
    problems: list[str] = field(default_factory=list)
    # What is damaged, from the catalogue (damaged pages, a lost commit), for
    # the reader in their language; each is also in `problems`, in English.
    findings: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problems and not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        return None if self.first_bad is None else self.first_bad.seq

    def add(self, finding: Message) -> None:
        self.findings.append(finding)
        self.problems.append(finding.render("en"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "last_seq": self.last_seq,
            "first_bad_seq": self.first_bad_seq,
            "first_bad_kind": None if self.first_bad is None else self.first_bad.kind,
            "problems": self.problems,
            "message": self.message().to_dict(),
        }

    def message(self) -> Message:
        """The verdict for a person: what is damaged and what to do next."""
        if self.ok:
            return msg("verify.ok", checked=self.checked, last_seq=self.last_seq)
        found: list[Message] = []
        if self.first_bad is not None:
            kind = msg(f"verify.kind.{self.first_bad.kind}")
            found.append(msg("verify.entry", seq=self.first_bad.seq, kind=kind))
        found.extend(self.findings)
        named = {f.render("en") for f in self.findings}
        others = [p for p in self.problems if p not in named]
        if others:
            found.append(msg("verify.records", count=len(others)))
        lines = ([str(self.first_bad)] if self.first_bad is not None else []) + others
        details = msg("verify.details", lines="\n".join(f"- {p}" for p in lines)) if lines else ""
        return msg(
            "verify.failed",
            found=_Lines(found),
            remedy=msg("store.remedy_damaged"),
            details=details,
        )

    def summary(self) -> str:
        return self.message().render("en")


@dataclass(frozen=True)
class _Lines:
    """Findings one per line, each in the reader's language."""

    items: Sequence[Message]

    def render(self, lang: str) -> str:
        return "\n".join(f"- {m.render(lang)}" for m in self.items)


def verify(
    db: Database,
    public_key: str,
    terminal_id: str,
    extra_checks: Sequence[ExtraCheck] = (),
) -> VerifyReport:
    """Recompute every hash and signature and cross-check the outbox.

    `public_key` must come from the trust anchor (the signing key in the
    keystore), not from the database an attacker may have edited.
    `extra_checks` return problems in other tables (orders against the journal).
    """
    with db.read() as conn:
        return verify_connection(conn, public_key, terminal_id, extra_checks)


def verify_connection(
    conn: Connection,
    public_key: str,
    terminal_id: str,
    extra_checks: Sequence[ExtraCheck] = (),
) -> VerifyReport:
    """`verify` on an open connection (a backup file, a read snapshot)."""
    checker = ChainChecker(load_public_key(public_key), terminal_id)
    report = VerifyReport()
    for record in records(conn):
        if checker.check(record) is not None:
            break
    report.first_bad = checker.problem
    report.checked = checker.checked
    report.last_seq = checker.next_seq - 1
    report.last_hash = checker.prev_hash
    report.problems.extend(_identity_problems(conn, public_key, terminal_id))
    if report.first_bad is None:
        last_row = conn.execute("SELECT max(seq) FROM journal").fetchone()[0] or 0
        report.first_bad = _tail_problem(conn, last_row)
    for check in extra_checks:
        report.problems.extend(check(conn))
    return report


def _identity_problems(conn: Connection, public_key: str, terminal_id: str) -> list[str]:
    row = conn.execute("SELECT terminal_id, public_key FROM terminal WHERE id = 1").fetchone()
    if row is None:
        return ["the terminal identity row is missing"]
    problems = []
    if row["terminal_id"] != terminal_id:
        problems.append(
            f"the database belongs to terminal {row['terminal_id']!r}, not {terminal_id!r}"
        )
    if row["public_key"] != public_key:
        problems.append("the public key recorded in the database is not the terminal's signing key")
    return problems


def _tail_problem(conn: Connection, last_seq: int) -> Problem | None:
    """Entries removed from the end leave evidence in the outbox and the server ack."""
    orphan = conn.execute("SELECT min(seq) FROM outbox WHERE seq > ?", (last_seq,)).fetchone()[0]
    if orphan is not None:
        return Problem(
            orphan, "missing", "missing: its outbox row exists but the entry was deleted"
        )
    ack = conn.execute("SELECT acked_seq, acked_hash FROM outbox_ack WHERE id = 1").fetchone()
    if ack is not None:
        if ack["acked_seq"] > last_seq:
            return Problem(
                last_seq + 1,
                "missing",
                f"missing: the server acknowledged entries up to {ack['acked_seq']}",
            )
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (ack["acked_seq"],)).fetchone()
        if row is None or row["hash"] != ack["acked_hash"]:
            return Problem(
                ack["acked_seq"], "edited", "differs from the entry the server acknowledged"
            )
    return None
