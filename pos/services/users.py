"""Till accounts: adding cashiers and managers, signing in, manager approvals.
A sign-in and every approval are journaled; a PIN never is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pos.auth import (
    Approval,
    Role,
    User,
    action_text,
    approve,
    hash_pin,
    named_action,
    require_manager,
    validate_name,
    validate_pin,
    validate_user_id,
)
from pos.canonical import loads
from pos.clock import Clock, iso
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.events import Event
from pos.messages import Message, msg
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
        validate_user_id(user_id)
        validate_name(name)
        validate_pin(pin)
        user = User(user_id, name, Role(role), hash_pin(pin))
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise InvalidInput(msg("users.exists", user_id=user_id))
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
            raise NotFound(msg("users.not_found", user_id=user_id))
        return _user(row)

    def all(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, name, role, pin_hash, active FROM users ORDER BY id"
            ).fetchall()
        return [_user(r) for r in rows]

    def _locked_out(self, user_id: str | None) -> bool:
        """Five wrong PINs in ten minutes, at sign-in or in approvals together,
        lock the account for the rest of those ten minutes: a 4-digit PIN must
        not be guessable at the till."""
        since = iso(self.clock.now() - LOCKOUT_WINDOW)
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT payload FROM journal WHERE type IN (?, ?) AND time >= ?"
                " ORDER BY seq DESC LIMIT 50",
                (Event.USER_LOGIN, Event.USER_APPROVAL_FAILED, since),
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

    def _refuse_if_locked(self, user_id: str | None) -> None:
        if self._locked_out(user_id):
            raise NotAllowed(
                msg(
                    "auth.locked",
                    who=user_id or "PIN",
                    fails=LOCKOUT_FAILS,
                    minutes=LOCKOUT_WINDOW.seconds // 60,
                )
            )

    def _journal_failed_approval(
        self, user_id: str | None, action: str | Message, requested_by: str | None
    ) -> None:
        with self.db.transaction() as conn:
            self.journal.append(
                conn,
                Event.USER_APPROVAL_FAILED,
                {
                    "user_id": user_id,
                    "action": action_text(action)[:200],
                    "requested_by": requested_by,
                },
            )

    def login(self, user_id: str, pin: str) -> User:
        user = self.get(user_id)
        self._refuse_if_locked(user_id)
        ok = user.check_pin(pin)
        with self.db.transaction() as conn:
            self.journal.append(conn, Event.USER_LOGIN, {"user_id": user_id, "ok": ok})
        if not ok:
            raise NotAllowed(msg("users.login_wrong_pin"))
        return user

    def login_by_pin(self, pin: str) -> User:
        """Tills where people sign in with their PIN alone: the PIN must match
        exactly one active account. Wrong PINs count against the till as a
        whole (user_id None), since they name nobody."""
        self._refuse_if_locked(None)
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
            raise NotAllowed(msg("users.pin_signs_in_nobody"))
        return matches[0]

    def approval(
        self,
        manager_id: str,
        pin: str,
        action: str | Message,
        reason: str = "",
        requested_by: str | None = None,
    ) -> Approval:
        """A manager's approval for `action`; the approval itself is journaled
        with the action it was used for, in that action's transaction. A wrong
        PIN is journaled (`user.approval_failed`) and counts toward the lockout."""
        user = self.get(manager_id)
        self._refuse_if_locked(manager_id)
        require_manager(user, named_action(action))
        if not user.check_pin(pin):
            self._journal_failed_approval(manager_id, action, requested_by)
            raise NotAllowed(msg("auth.approval_wrong_pin", name=user.name))
        return Approval(user.user_id, user.role, reason)

    def approval_by_pin(
        self, pin: str, action: str | Message, reason: str = "", requested_by: str | None = None
    ) -> Approval:
        self._refuse_if_locked(None)
        managers = [u for u in self.all() if u.is_manager and u.check_pin(pin)]
        if len(managers) != 1:
            self._journal_failed_approval(None, action, requested_by)
            raise NotAllowed(msg("auth.approval_no_manager", action=named_action(action)))
        return approve(managers[0], pin, named_action(action), reason)


def failed_approvals(conn: Any, since: str, requested_by: str | None = None) -> int:
    """Wrong manager PINs since `since` (ISO time), for the risk engine's view
    of a cashier's behaviour: all of them, or those asked for by one cashier."""
    n = 0
    for (raw,) in conn.execute(
        "SELECT payload FROM journal WHERE type = ? AND time >= ?",
        (Event.USER_APPROVAL_FAILED, since),
    ):
        if requested_by is None or loads(raw).get("requested_by") == requested_by:
            n += 1
    return n
