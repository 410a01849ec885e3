"""Staff badges at the till: enrolment and revocation by a manager, sign-in
by a tap, and manager approvals by badge and PIN. Every tap is journaled,
refused ones with why (unknown badge, revoked badge, a card that cannot sign
for the badge it claims to be), and a PIN never is.

Above a threshold (setting `approval.badge_above_minor`, minor units) a
manager's approval must come from badge and PIN together: a PIN alone can be
watched over a shoulder, the badge alone can be borrowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pos.auth import (
    Approval,
    NeedsApproval,
    User,
    action_text,
    require_approval,
    require_manager,
)
from pos.auth_badge import (
    BadgeCard,
    Purpose,
    key_fingerprint,
    new_challenge,
    signature_valid,
    validate_badge_id,
)
from pos.canonical import dumps, loads
from pos.clock import Clock, iso
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.events import Event
from pos.messages import Message, msg
from pos.money import Money
from pos.services.users import UserService
from pos.store.db import Database
from pos.store.journal import Journal

BADGE_AND_PIN = "badge+pin"
THRESHOLD_SETTING = "approval.badge_above_minor"


@dataclass(frozen=True)
class Badge:
    badge_id: str
    user_id: str
    fingerprint: str
    enrolled_at: str
    enrolled_by: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "badge_id": self.badge_id,
            "user_id": self.user_id,
            "fingerprint": self.fingerprint,
            "enrolled_at": self.enrolled_at,
            "enrolled_by": self.enrolled_by,
            "revoked_at": self.revoked_at,
        }


_COLUMNS = "badge_id, user_id, public_key, enrolled_at, enrolled_by, revoked_at"


def _badge(row: Any) -> Badge:
    return Badge(row[0], row[1], key_fingerprint(bytes(row[2])), row[3], row[4], row[5])


class BadgeService:
    def __init__(self, db: Database, journal: Journal, clock: Clock, users: UserService) -> None:
        self.db = db
        self.journal = journal
        self.clock = clock
        self.users = users

    # -- the badges --------------------------------------------------------

    def all(self) -> list[Badge]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM badges ORDER BY badge_id").fetchall()
        return [_badge(r) for r in rows]

    def enrol(self, card: BadgeCard, user_id: str, approval: Approval | None) -> Badge:
        """Enrol the badge in the reader for `user_id`: the card proves it holds
        the key it offers before the key is kept."""
        approval = require_approval(approval, msg("badge.action_enrol").render("en"))
        badge_id = card.badge_id
        validate_badge_id(badge_id)
        user = self.users.get(user_id)
        if not user.active:
            raise NotAllowed(msg("badge.user_disabled", user=user.name))
        public_key = card.public_key()
        challenge = new_challenge()
        if not signature_valid(
            public_key, badge_id, Purpose.ENROL, challenge, card.sign(Purpose.ENROL, challenge)
        ):
            raise NotAllowed(msg("badge.cannot_sign", badge=badge_id))
        now = iso(self.clock.now())
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT user_id, revoked_at FROM badges WHERE badge_id = ?", (badge_id,)
            ).fetchone()
            if row is not None and row[1] is None:
                raise InvalidInput(msg("badge.already_enrolled", badge=badge_id, user=row[0]))
            if row is not None:
                # A revoked id stays revoked: a copy of it must never come back.
                raise NotAllowed(msg("badge.revoked_badge", badge=badge_id))
            conn.execute(
                "INSERT INTO badges (badge_id, user_id, public_key, enrolled_at, enrolled_by)"
                " VALUES (?,?,?,?,?)",
                (badge_id, user.user_id, public_key, now, approval.user_id),
            )
            self.journal.append(
                conn,
                Event.BADGE_ENROLLED,
                {
                    "badge_id": badge_id,
                    "user_id": user.user_id,
                    "key_fingerprint": key_fingerprint(public_key),
                    "approver_id": approval.user_id,
                },
            )
        return Badge(badge_id, user.user_id, key_fingerprint(public_key), now, approval.user_id)

    def revoke(self, badge_id: str, approval: Approval | None) -> Badge:
        approval = require_approval(approval, msg("badge.action_revoke").render("en"))
        now = iso(self.clock.now())
        with self.db.transaction() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM badges WHERE badge_id = ?", (badge_id,)
            ).fetchone()
            if row is None:
                raise NotFound(msg("badge.unknown", badge=badge_id))
            if row[5] is not None:
                raise InvalidInput(msg("badge.revoked_badge", badge=badge_id))
            conn.execute(
                "UPDATE badges SET revoked_at = ?, revoked_by = ? WHERE badge_id = ?",
                (now, approval.user_id, badge_id),
            )
            self.journal.append(
                conn,
                Event.BADGE_REVOKED,
                {"badge_id": badge_id, "user_id": row[1], "approver_id": approval.user_id},
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM badges WHERE badge_id = ?", (badge_id,)
            ).fetchone()
        return _badge(row)

    # -- taps --------------------------------------------------------------

    def _refuse(self, event: Event, badge_id: str, user_id: str | None, reason: str) -> None:
        with self.db.transaction() as conn:
            self.journal.append(
                conn,
                event,
                {"badge_id": badge_id[:40], "user_id": user_id, "ok": False, "reason": reason},
            )

    def _holder(self, card: BadgeCard, purpose: bytes, event: Event) -> User:
        """The person whose badge is in the reader, proved by a fresh
        signature; every refusal journaled with why."""
        badge_id = card.badge_id
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT user_id, public_key, revoked_at FROM badges WHERE badge_id = ?",
                (badge_id,),
            ).fetchone()
        if row is None:
            self._refuse(event, badge_id, None, "unknown")
            raise NotAllowed(msg("badge.unknown", badge=badge_id[:40]))
        user_id, public_key, revoked_at = str(row[0]), bytes(row[1]), row[2]
        if revoked_at is not None:
            self._refuse(event, badge_id, user_id, "revoked")
            raise NotAllowed(msg("badge.revoked_badge", badge=badge_id))
        challenge = new_challenge()
        try:
            signature = card.sign(purpose, challenge)
        except NotAllowed:
            self._refuse(event, badge_id, user_id, "card")
            raise
        if not signature_valid(public_key, badge_id, purpose, challenge, signature):
            self._refuse(event, badge_id, user_id, "key")
            raise NotAllowed(msg("badge.wrong_key", badge=badge_id))
        user = self.users.get(user_id)
        if not user.active:
            self._refuse(event, badge_id, user_id, "disabled")
            raise NotAllowed(msg("badge.user_disabled", user=user.name))
        return user

    def sign_in(self, card: BadgeCard) -> User:
        """A tap signs its holder in (switching the cashier at the till)."""
        user = self._holder(card, Purpose.SIGN_IN, Event.BADGE_LOGIN)
        with self.db.transaction() as conn:
            self.journal.append(
                conn,
                Event.BADGE_LOGIN,
                {"badge_id": card.badge_id, "user_id": user.user_id, "ok": True, "reason": ""},
            )
        return user

    def approval(
        self,
        card: BadgeCard,
        pin: str,
        action: str | Message,
        reason: str = "",
        requested_by: str | None = None,
    ) -> Approval:
        """A manager's approval by badge and PIN: the badge names and proves
        the manager, the PIN is theirs (wrong PINs count toward the lockout)."""
        user = self._holder(card, Purpose.APPROVE, Event.BADGE_APPROVAL)
        try:
            require_manager(user, action)
            pin_ok = self.users.approval(user.user_id, pin, action, reason, requested_by)
        except NotAllowed:
            self._refuse(Event.BADGE_APPROVAL, card.badge_id, user.user_id, "pin")
            raise
        with self.db.transaction() as conn:
            self.journal.append(
                conn,
                Event.BADGE_APPROVAL,
                {
                    "badge_id": card.badge_id,
                    "user_id": user.user_id,
                    "ok": True,
                    "reason": "",
                    "action": action_text(action)[:200],
                },
            )
        return Approval(pin_ok.user_id, pin_ok.role, reason, BADGE_AND_PIN)

    # -- the threshold -----------------------------------------------------

    def threshold(self) -> int | None:
        with self.db.read() as conn:
            return badge_threshold(conn)

    def set_threshold(self, minor: int | None, approval: Approval | None) -> None:
        approval = require_approval(approval, msg("badge.action_threshold").render("en"))
        if minor is not None and minor < 0:
            raise InvalidInput(msg("badge.bad_threshold", value=minor))
        with self.db.transaction() as conn:
            if minor is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (THRESHOLD_SETTING,))
            else:
                conn.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?,?,?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (THRESHOLD_SETTING, dumps(minor), iso(self.clock.now())),
                )
            self.journal.append(
                conn,
                Event.CONFIG_CHANGED,
                {"key": THRESHOLD_SETTING, "value": minor, "approver_id": approval.user_id},
            )


def badge_threshold(conn: Any) -> int | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (THRESHOLD_SETTING,)).fetchone()
    if row is None:
        return None
    value = loads(row[0])
    return value if isinstance(value, int) else None


def require_badge_above(
    conn: Any, approval: Approval, amount: Money, action: str | Message
) -> None:
    """Above the store's threshold an approval by PIN alone is not enough."""
    limit = badge_threshold(conn)
    if limit is not None and amount.minor > limit and approval.factors != BADGE_AND_PIN:
        raise NeedsApproval(
            msg(
                "badge.approval_needs_badge",
                action=action,
                amount=amount,
                limit=Money(limit, amount.currency),
            )
        )
