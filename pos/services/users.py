"""Till accounts: adding cashiers and managers, signing in, manager approvals.
A sign-in and every approval are journaled; a PIN never is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pos.auth import Approval, Role, User, approve, hash_pin, validate_pin
from pos.canonical import loads
from pos.clock import Clock, iso
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.events import Event
from pos.store.db import Database
from pos.store.journal import Journal

LOCKOUT_FAILS = 5
LOCKOUT_WINDOW = timedelta(minutes=10)


def _user(row: Any) -> User:
    return User(row[0], row[1], Role(row[2]), row[3], bool(row[4]))


class UserService:
    def __init__(self, db: Database, journal: Journal, clock: Clock) -> None:
        self.db = db
        self.journal = journal
        self.clock = clock

    def add(self, user_id: str, name: str, role: Role | str, pin: str) -> User:
        validate_pin(pin)
        user = User(user_id, name, Role(role), hash_pin(pin))
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise InvalidInput(f"user {user_id} already exists", "Choose another user id.")
            conn.execute(
                "INSERT INTO users (id, name, role, pin_hash, active, created_at)"
                " VALUES (?,?,?,?,1,?)",
                (user.user_id, user.name, user.role.value, user.pin_hash, iso(self.clock.now())),
            )
            self.journal.append(
                conn,
                Event.USER_ADDED,
                {"user_id": user.user_id, "name": user.name, "role": user.role.value},
            )
        return user

    def get(self, user_id: str) -> User:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, name, role, pin_hash, active FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no user {user_id}", "Check the user id, or ask a manager to add it.")
        return _user(row)

    def all(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, name, role, pin_hash, active FROM users ORDER BY id"
            ).fetchall()
        return [_user(r) for r in rows]

    def _locked_out(self, user_id: str | None) -> bool:
        """Five wrong PINs in ten minutes lock the account for the rest of
        those ten minutes: a 4-digit PIN must not be guessable at the till."""
        since = iso(self.clock.now() - LOCKOUT_WINDOW)
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT payload FROM journal WHERE type = ? AND time >= ?"
                " ORDER BY seq DESC LIMIT 50",
                (Event.USER_LOGIN, since),
            ).fetchall()
        fails = 0
        for (raw,) in rows:
            p = loads(raw)
            if user_id is not None and p.get("user_id") != user_id:
                continue  # another person's sign-in says nothing about this account
            if p.get("ok"):
                break
            if p.get("user_id") != user_id:
                continue
            fails += 1
        return fails >= LOCKOUT_FAILS

    def login(self, user_id: str, pin: str) -> User:
        user = self.get(user_id)
        if self._locked_out(user_id):
            raise NotAllowed(
                f"{user.name}'s account is locked after {LOCKOUT_FAILS} wrong PINs",
                f"Wait {LOCKOUT_WINDOW.seconds // 60} minutes, or ask a manager.",
            )
        ok = user.check_pin(pin)
        with self.db.transaction() as conn:
            self.journal.append(conn, Event.USER_LOGIN, {"user_id": user_id, "ok": ok})
        if not ok:
            raise NotAllowed("wrong PIN or disabled account", "Enter your PIN again.")
        return user

    def login_by_pin(self, pin: str) -> User:
        """Tills where people sign in with their PIN alone: the PIN must match
        exactly one active account. Wrong PINs count against the till as a
        whole (user_id None), since they name nobody."""
        if self._locked_out(None):
            raise NotAllowed(
                f"PIN sign-in is locked after {LOCKOUT_FAILS} wrong PINs",
                f"Wait {LOCKOUT_WINDOW.seconds // 60} minutes, or ask a manager.",
            )
        matches = [u for u in self.all() if u.check_pin(pin)]
        with self.db.transaction() as conn:
            self.journal.append(
                conn,
                Event.USER_LOGIN,
                {
                    "user_id": matches[0].user_id if len(matches) == 1 else None,
                    "ok": len(matches) == 1,
                },
            )
        if len(matches) != 1:
            raise NotAllowed("that PIN does not sign anyone in", "Enter your PIN again.")
        return matches[0]

    def approval(self, manager_id: str, pin: str, action: str, reason: str = "") -> Approval:
        """A manager's approval for `action`; the approval itself is journaled
        with the action it was used for, in that action's transaction."""
        return approve(self.get(manager_id), pin, action, reason)

    def approval_by_pin(self, pin: str, action: str, reason: str = "") -> Approval:
        managers = [u for u in self.all() if u.is_manager and u.check_pin(pin)]
        if len(managers) != 1:
            raise NotAllowed(
                f"to {action} needs a manager's PIN", "Ask a manager to enter their PIN."
            )
        return approve(managers[0], pin, action, reason)
