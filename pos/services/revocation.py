"""The terminal's revocation by the central server. A revoked terminal learns
it at its next contact (the server refuses it as revoked); from then on it
takes no sales until it is enrolled again. Sales already paid stay; what is
in the outbox is sent after re-enrolment."""

from __future__ import annotations

from pos.clock import Clock, iso
from pos.errors import NotAllowed
from pos.events import Event
from pos.messages import msg
from pos.store.db import Connection
from pos.store.journal import Journal


class TerminalRevoked(NotAllowed):
    """The server revoked this terminal: no sales until it is enrolled again."""


def revoked(conn: Connection) -> str | None:
    """When this terminal learned the server revoked it (ISO time), or None."""
    row = conn.execute("SELECT learned_at FROM terminal_revocation WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def refuse_if_revoked(conn: Connection) -> None:
    learned = revoked(conn)
    if learned is not None:
        # The server's own words (English) stay in the journal; the person
        # at the till reads the date.
        raise TerminalRevoked(msg("badge.terminal_revoked", date=learned[:10]))


def record_revoked(conn: Connection, journal: Journal, clock: Clock, detail: str) -> bool:
    """Records the server's refusal once (True when it is news)."""
    if revoked(conn) is not None:
        return False
    detail = detail[:200]
    conn.execute(
        "INSERT INTO terminal_revocation (id, detail, learned_at) VALUES (1, ?, ?)",
        (detail, iso(clock.now())),
    )
    journal.append(conn, Event.TERMINAL_REVOKED, {"detail": detail})
    return True


def clear_revoked(conn: Connection, journal: Journal) -> None:
    """Enrolled again: sales may go on."""
    if revoked(conn) is None:
        return
    conn.execute("DELETE FROM terminal_revocation WHERE id = 1")
    journal.append(conn, Event.TERMINAL_REINSTATED, {})
