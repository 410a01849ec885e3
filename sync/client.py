"""The terminal's side of sync: enrolment, pushing the journal, pulling
configuration, and the status the UI and `pos sync status` show.

Pushing starts from the server's acknowledged high-water mark (asked at the
start of every cycle), so a terminal killed mid-push, a lost answer or a
server restored from backup all resume at the right entry. An outbox row is
marked sent only when an acknowledgement covering it arrives, and only if
the hash the server holds for that entry is the terminal's own.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from pos.clock import iso
from pos.errors import NotAllowed, NotFound, PosError
from pos.events import Event
from pos.messages import msg
from pos.services.revocation import clear_revoked, record_revoked, revoked
from pos.store import keys, outbox
from pos.store.terminal import Terminal
from sync import cardkey
from sync.apply import (
    Applied,
    ConfigApplier,
    ConfigRejected,
    Handler,
    NotServerSigned,
    store_server_urls,
)
from sync.failover import checked_urls
from sync.protocol import (
    RequestSigner,
    check_signed_document,
    endorsement_fields,
    public_key_from_hex,
    public_key_hex,
)
from sync.schemas import (
    Ack,
    CardKeyDelivery,
    EnrolRequest,
    EnrolResponse,
    StoreAlerts,
)
from sync.transport import Link, LinkError, OutcomeUnknown, ServerRefused, Unreachable
from sync.wire import FIELDS, MAX_ENTRIES, upload_body


def signing_key(terminal: Terminal) -> Ed25519PrivateKey:
    seed = keys.require(terminal.keystore, keys.SIGNING_KEY, terminal.terminal_id)
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class Enrolment:
    server_url: str
    server_key: str
    store_id: str
    ca_file: str | None
    enrolled_at: str


def enrolment(terminal: Terminal) -> Enrolment | None:
    with terminal.db.read() as conn:
        row = conn.execute(
            "SELECT server_url, server_key, store_id, ca_file, enrolled_at FROM sync_enrolment WHERE id = 1"
        ).fetchone()
    return None if row is None else Enrolment(*tuple(row))


def _is_revoked(terminal: Terminal) -> bool:
    with terminal.db.read() as conn:
        return revoked(conn) is not None


def server_urls(terminal: Terminal) -> list[str]:
    """The server's URLs in order of preference (enrolment, then configuration)."""
    with terminal.db.read() as conn:
        rows = conn.execute("SELECT url FROM sync_servers ORDER BY position").fetchall()
    return [str(r[0]) for r in rows]


def enroll(
    terminal: Terminal,
    server_url: str | Sequence[str],
    code: str,
    *,
    ca_file: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Enrolment:
    """Register this terminal's key with the server and pin the server's key.
    `server_url` may list every URL the server answers on (in order of
    preference): the enrolment goes to the first that answers, and the
    terminal keeps them all for failover."""
    urls = checked_urls([server_url] if isinstance(server_url, str) else server_url)
    if enrolment(terminal) is not None and not _is_revoked(terminal):
        raise NotAllowed(
            "this terminal is already enrolled with a server",
            "A terminal enrols once. To move it to another server, initialise a new terminal.",
        )
    link = Link(
        urls,
        RequestSigner(terminal.terminal_id, signing_key(terminal), terminal.clock),
        ca_file=ca_file,
        transport=transport,
    )
    box, box_key = cardkey.new_box_key()
    try:
        resp: EnrolResponse = link.enroll(
            EnrolRequest(
                code=code,
                terminal_id=terminal.terminal_id,
                store_id=terminal.store_id,
                public_key=terminal.public_key,
                box_key=box_key,
            )
        )
    except ServerRefused as exc:
        raise NotAllowed(f"the server refused the enrolment: {exc.detail}", exc.remedy) from exc
    except LinkError as exc:
        raise PosError(
            f"enrolment did not complete: {exc}",
            "Check the server address and try again; the same code works again for this terminal.",
        ) from exc
    finally:
        server_url = link.base_url
        link.close()
    if resp.terminal_id != terminal.terminal_id or resp.store_id != terminal.store_id:
        raise NotAllowed("the server answered for another terminal", "Check the server address.")
    try:
        server_key = public_key_from_hex(resp.server_key)
    except ValueError as exc:
        raise NotAllowed(
            "the server's key is not an Ed25519 key", "Check the server address."
        ) from exc
    if resp.card_key is not None:
        adopt_card_key(terminal, resp.card_key, box, server_key)
    now = iso(terminal.clock.now())
    with terminal.db.transaction() as conn:
        # A terminal revoked by the server enrols again over its old enrolment.
        clear_revoked(conn, terminal.journal)
        conn.execute(
            "INSERT OR REPLACE INTO sync_enrolment"
            " (id, server_url, server_key, store_id, ca_file, enrolled_at) "
            "VALUES (1, ?, ?, ?, ?, ?)",
            (server_url, resp.server_key, resp.store_id, ca_file, now),
        )
        conn.execute("INSERT OR IGNORE INTO sync_status (id) VALUES (1)")
        store_server_urls(conn, urls)
        terminal.journal.append(
            conn,
            Event.SYNC_ENROLLED,
            {
                "server_url": server_url,
                "server_urls": urls,
                "server_key": resp.server_key,
                "store_id": resp.store_id,
            },
        )
    return Enrolment(server_url, resp.server_key, resp.store_id, ca_file, now)


def adopt_card_key(
    terminal: Terminal, d: CardKeyDelivery, box: X25519PrivateKey, server_key: Ed25519PublicKey
) -> None:
    """Open the chain's card-token key sealed to `box` and keep it (sync.cardkey)."""
    try:
        key = cardkey.open_delivery(d, terminal.terminal_id, box, server_key)
    except cardkey.CardKeyRejected as exc:
        raise ConfigRejected(msg("sync.card_key_rejected", why=str(exc))) from exc
    terminal.adopt_chain_card_key(key)


def store_alerts(terminal: Terminal, timeout: float = 5.0) -> StoreAlerts:
    """The chain's risk alerts about this terminal's store, from the server
    (NotFound when not enrolled; LinkError when no server answers)."""
    client = SyncClient.for_terminal(terminal, timeout=timeout)
    try:
        return client.link.store_alerts()
    finally:
        client.close()


@dataclass
class BatchSizer:
    """Batches grow while the server answers quickly and shrink when it does
    not (or when an answer is lost), so a slow link still makes progress."""

    size: int = 500
    smallest: int = 50
    largest: int = MAX_ENTRIES
    target_seconds: float = 2.0

    def answered(self, seconds: float) -> None:
        if seconds < self.target_seconds / 2:
            self.size = min(self.largest, self.size * 2)
        elif seconds > self.target_seconds:
            self.size = max(self.smallest, self.size // 2)

    def lost(self) -> None:
        self.size = max(self.smallest, self.size // 2)


# A batch's body stays under this (the server takes up to 32 MiB); an entry
# is its payload and about _ENTRY_OVERHEAD bytes of the other fields.
BODY_BUDGET = 8 * 1024 * 1024
_ENTRY_OVERHEAD = 512
# The journal's columns in the order of sync.wire.FIELDS.
_WIRE_COLUMNS = ", ".join(FIELDS)


@dataclass(frozen=True)
class _Batch:
    count: int
    body: bytes


# Batches on the wire at once during a push.
IN_FLIGHT = 2


@dataclass(frozen=True)
class _Flight:
    last: int
    started: float
    answer: Future[Ack]


def _land(flying: deque[_Flight]) -> None:
    """Waits for the answers of batches no longer needed: whatever they are,
    sending goes on from the server's high-water mark."""
    while flying:
        with contextlib.suppress(LinkError, PosError):
            flying.popleft().answer.result()


@dataclass
class PushResult:
    sent: int = 0
    batches: int = 0
    hwm: int = 0


@dataclass
class SyncReport:
    pushed: PushResult = field(default_factory=PushResult)
    applied: list[Applied] = field(default_factory=list)


class SyncClient:
    """One terminal's push and pull. Not thread-safe: one worker drives it."""

    def __init__(
        self,
        terminal: Terminal,
        link: Link,
        server_key: str,
        applier: ConfigApplier | None = None,
        sizer: BatchSizer | None = None,
    ) -> None:
        self.terminal = terminal
        self.link = link
        self.server_key = public_key_from_hex(server_key)
        self.applier = applier
        self.sizer = sizer or BatchSizer()
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sync-ack")
        self._sender = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="sync-upload")
        self._no_card_key = False

    @classmethod
    def for_terminal(
        cls,
        terminal: Terminal,
        handlers: dict[str, Handler] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> SyncClient:
        e = enrolment(terminal)
        if e is None:
            raise NotFound(
                "this terminal is not enrolled with a server",
                "Ask the manager for an enrolment code, then run `pos enroll --server URL --code CODE`.",
            )
        signer = RequestSigner(terminal.terminal_id, signing_key(terminal), terminal.clock)
        urls = server_urls(terminal) or [e.server_url]
        link = Link(urls, signer, ca_file=e.ca_file, transport=transport, timeout=timeout)
        applier = ConfigApplier(terminal, handlers) if handlers is not None else None
        return cls(terminal, link, e.server_key, applier)

    def close(self) -> None:
        self._sender.shutdown(wait=True, cancel_futures=True)
        self._reader.shutdown(wait=True, cancel_futures=True)
        self.link.close()

    def _acknowledge(self, ack: Ack) -> None:
        with self.terminal.db.transaction() as conn:
            if ack.hwm > 0:
                outbox.mark_sent(conn, ack.hwm, ack.last_hash, self.terminal.clock.now())
            conn.execute("UPDATE sync_status SET server_hwm = ? WHERE id = 1", (ack.hwm,))

    def push(self, max_batches: int | None = None) -> PushResult:
        """Send everything the server lacks, from its high-water mark on.

        Two batches are on the wire at once: the second names the last entry
        of the first (`follows`), and the server stores it only after that
        one. Acknowledgements are taken in order; each is recorded while the
        following batches are on the wire (on the reader's thread, in order),
        and waited for before push returns or fails."""
        state = self.link.journal_state()
        self._acknowledge(state)
        result = PushResult(hwm=state.hwm)
        cursor = state.hwm + 1
        sent = 0
        batch = self._read_batch(cursor, self.sizer.size)
        flying: deque[_Flight] = deque()
        recorded: Future[None] | None = None
        try:
            while True:
                while (
                    batch.count
                    and len(flying) < IN_FLIGHT
                    and (max_batches is None or sent < max_batches)
                ):
                    follows = flying[-1].last if flying else None
                    flight = _Flight(
                        cursor + batch.count - 1,
                        self.terminal.clock.monotonic(),
                        self._sender.submit(self.link.upload_body, batch.body, follows),
                    )
                    flying.append(flight)
                    sent += 1
                    cursor = flight.last + 1
                    # The next batch is read and encoded while these are on the wire.
                    batch = self._read_batch(cursor, self.sizer.size)
                if not flying:
                    return result
                flight = flying.popleft()
                try:
                    ack = flight.answer.result()
                except OutcomeUnknown:
                    self.sizer.lost()
                    raise
                except ServerRefused as exc:
                    _land(flying)  # they follow this one: refused too
                    if exc.error == "gap" and exc.hwm is not None:
                        # The server holds less than this batch follows: it was
                        # restored from backup, or the batch before was late. Send
                        # again from what it has.
                        cursor = exc.hwm + 1
                        batch = self._read_batch(cursor, self.sizer.size)
                        continue
                    raise
                self.sizer.answered(self.terminal.clock.monotonic() - flight.started)
                if recorded is not None:
                    recorded.result()
                recorded = self._reader.submit(self._acknowledge, ack)
                result.sent += ack.stored
                result.batches += 1
                result.hwm = max(result.hwm, ack.hwm)
                if ack.hwm != flight.last:
                    # The server holds more than this batch: go on from its mark.
                    _land(flying)
                    cursor = ack.hwm + 1
                    batch = self._read_batch(cursor, self.sizer.size)
        finally:
            _land(flying)
            if recorded is not None:
                recorded.result()

    def _read_batch(self, first: int, size: int) -> _Batch:
        """Entries from `first` on, as the upload's body. Written without
        re-validation: the server validates every field and answers a bad one
        with a refusal."""
        with self.terminal.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_WIRE_COLUMNS} FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (first, first + size - 1),
            ).fetchall()
        # Large payloads: fewer entries, so the body stays well inside the
        # server's limit (a refused body would stop the push).
        total = 0
        for i, row in enumerate(rows):
            total += len(row[3]) + _ENTRY_OVERHEAD
            if total > BODY_BUDGET and i > 0:
                rows = rows[:i]
                break
        return _Batch(len(rows), upload_body(self.terminal.terminal_id, rows))

    def fetch_card_key(self) -> bool:
        """Ask for the chain's card-token key when this terminal has none yet
        (a terminal enrolled before the server handed it out). False when the
        server does not offer one."""
        if self.terminal.has_chain_card_key or self._no_card_key:
            return False
        box, box_key = cardkey.new_box_key()
        try:
            delivery = self.link.card_key(box_key)
        except ServerRefused as exc:
            if exc.status == 404:
                self._no_card_key = True  # a server from before the chain key: ask no more
                return False
            raise
        try:
            adopt_card_key(self.terminal, delivery, box, self.server_key)
        except ConfigRejected:
            if not self.follow_server_key():
                raise
            adopt_card_key(self.terminal, delivery, box, self.server_key)
        return True

    def pull(self) -> list[Applied]:
        """Apply every configuration version newer than the one in force, in
        order (first fetching the chain's card-token key if it is missing)."""
        self.fetch_card_key()
        if self.applier is None:
            return []
        done: list[Applied] = []
        while True:
            versions = self.link.config_after(self.applier.current()).versions
            if not versions:
                return done
            newest = {v.kind: v.version for v in versions}
            for v in versions:
                later = newest[v.kind] if newest[v.kind] > v.version else None
                try:
                    done.append(self.applier.apply(v, self.server_key, superseded_by=later))
                except NotServerSigned:
                    if not self.follow_server_key():
                        raise
                    done.append(self.applier.apply(v, self.server_key, superseded_by=later))

    def follow_server_key(self) -> bool:
        """Moves the pinned server key along the server's key chain, each new
        key endorsed by the one before it, starting from the key pinned now.
        False when the chain offers nothing newer (or does not hold the
        pinned key: then nothing is trusted)."""
        chain = self.link.server_keys().keys
        pinned = public_key_hex(self.server_key)
        start = next((i for i, k in enumerate(chain) if k.server_key == pinned), None)
        if start is None or start == len(chain) - 1:
            return False
        key = self.server_key
        for link in chain[start + 1 :]:
            fields = endorsement_fields(link.generation, link.server_key)
            if link.endorsement is None or not check_signed_document(fields, link.endorsement, key):
                raise ConfigRejected(msg("sync.key_chain_broken", generation=link.generation))
            key = public_key_from_hex(link.server_key)
        new = public_key_hex(key)
        with self.terminal.db.transaction() as conn:
            conn.execute("UPDATE sync_enrolment SET server_key = ? WHERE id = 1", (new,))
            self.terminal.journal.append(
                conn,
                Event.SYNC_SERVER_KEY_CHANGED,
                {"from": pinned, "to": new, "generation": chain[-1].generation},
            )
        self.server_key = key
        return True

    def sync_once(self) -> SyncReport:
        """One push and pull, with the outcome recorded for the status screen."""
        self._note_attempt()
        try:
            report = SyncReport(self.push(), self.pull())
            if report.applied:
                # Applying configuration journaled it: send that too.
                report.pushed = self.push()
                if any(a.kind == "servers" and a.outcome == "applied" for a in report.applied):
                    self.link.choice.replace(server_urls(self.terminal))
        except (LinkError, PosError) as exc:
            self._note_failure(exc)
            if isinstance(exc, ServerRefused) and exc.error == "revoked":
                self._note_revoked(exc)
            raise
        self._note_success()
        return report

    def _note_attempt(self) -> None:
        with self.terminal.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO sync_status (id) VALUES (1)")
            conn.execute("UPDATE sync_status SET last_attempt_at = ? WHERE id = 1", (self._now(),))

    def _note_success(self) -> None:
        with self.terminal.db.transaction() as conn:
            conn.execute(
                "UPDATE sync_status SET online = 1, last_success_at = ?, failures = 0, "
                "server_in_use = ? WHERE id = 1",
                (self._now(), self.link.base_url),
            )

    def _note_failure(self, exc: Exception) -> None:
        # A refusal or a rejected version is an answer: the server is reachable.
        online = not isinstance(exc, Unreachable | OutcomeUnknown)
        with self.terminal.db.transaction() as conn:
            conn.execute(
                "UPDATE sync_status SET online = ?, last_error = ?, last_error_at = ?, "
                "failures = failures + 1, server_in_use = ? WHERE id = 1",
                (int(online), str(exc)[:500], self._now(), self.link.base_url),
            )

    def _note_revoked(self, exc: ServerRefused) -> None:
        """The server revoked this terminal: no sales from now until it is
        enrolled again (pos.services.revocation)."""
        with self.terminal.db.transaction() as conn:
            record_revoked(conn, self.terminal.journal, self.terminal.clock, exc.detail)

    def _now(self) -> str:
        return iso(self.terminal.clock.now())


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    # The URL in use (last tried), and every URL the terminal may fail over to.
    server_url: str | None
    server_urls: list[str]
    online: bool
    backlog: int
    oldest_unsent_seconds: int | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    server_hwm: int
    config_version: int
    failures: int

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)

    def text(self) -> str:
        if not self.enrolled:
            return "not enrolled: run `pos enroll --server URL --code CODE`"
        age = "-" if self.oldest_unsent_seconds is None else f"{self.oldest_unsent_seconds} s"
        place = (
            f"{self.server_urls.index(self.server_url) + 1} of {len(self.server_urls)}"
            if self.server_url in self.server_urls
            else f"{len(self.server_urls)} listed"
        )
        lines = [
            f"server:        {self.server_url} ({'online' if self.online else 'offline'}; "
            f"in use, {place})",
            f"servers:       {', '.join(self.server_urls)}",
            f"backlog:       {self.backlog} entries (oldest waiting {age})",
            f"acknowledged:  up to entry {self.server_hwm}",
            f"configuration: version {self.config_version}",
            f"last success:  {self.last_success_at or 'never'}",
        ]
        if self.last_error:
            lines.append(f"last error:    {self.last_error_at} {self.last_error}")
        return "\n".join(lines)


def status(terminal: Terminal, now: datetime | None = None) -> SyncStatus:
    now = now or terminal.clock.now()
    e = enrolment(terminal)
    with terminal.db.read() as conn:
        row = conn.execute(
            "SELECT online, last_success_at, last_error, last_error_at, server_hwm, failures, "
            "server_in_use FROM sync_status WHERE id = 1"
        ).fetchone()
        urls = [str(r[0]) for r in conn.execute("SELECT url FROM sync_servers ORDER BY position")]
        backlog = outbox.backlog(conn)
        age = outbox.oldest_age(conn, now)
        version = conn.execute("SELECT max(version) FROM config_versions").fetchone()[0] or 0
    online, last_ok, last_err, last_err_at, hwm, failures, in_use = (
        tuple(row) if row else (0, None, None, None, 0, 0, None)
    )
    return SyncStatus(
        enrolled=e is not None,
        server_url=None if e is None else (in_use or (urls[0] if urls else e.server_url)),
        server_urls=urls,
        online=bool(online),
        backlog=backlog,
        oldest_unsent_seconds=None if age is None else int(age.total_seconds()),
        last_success_at=last_ok,
        last_error=last_err,
        last_error_at=last_err_at,
        server_hwm=int(hwm),
        config_version=int(version),
        failures=int(failures),
    )
