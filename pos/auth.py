"""Cashiers and managers: roles, PINs, and the manager approvals that some
actions need (void after payment, refund, large discount, no-sale drawer open).

PINs are 4 to 8 digits and are kept only as a scrypt hash (memory-hard) with a
random 16-byte salt, encoded with its parameters so they can be raised later:

    scrypt$n=16384,r=8,p=1$<salt, base64>$<hash, base64>

`needs_rehash` tells the caller to store a fresh hash after a successful
login when the stored parameters are weaker than the current ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pos.errors import InvalidInput, NotAllowed
from pos.messages import Message, has, msg

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# Bounds a stored hash may claim, so a tampered row cannot make a login
# allocate gigabytes or spin for minutes.
_MAX_N = 2**20
_MAX_RP = 64

_PIN_RE = re.compile(r"^[0-9]{4,8}$")
_HASH_RE = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_WEAK_PINS = frozenset({"1234", "12345", "123456", "1234567", "12345678", "4321", "654321"})


_USER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
MAX_NAME = 64


def validate_user_id(user_id: str) -> None:
    """1 to 32 ASCII letters, digits, '.', '_' or '-': it is printed, journaled
    and typed at sign-in."""
    if not isinstance(user_id, str) or not _USER_ID_RE.fullmatch(user_id):
        raise InvalidInput(msg("input.bad_user_id", text=str(user_id)[:40]))


def validate_name(name: str) -> None:
    """1 to 64 printable characters (names go on receipts and screens)."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_NAME
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    ):
        raise InvalidInput(msg("input.bad_user_name", text=str(name)[:40]))


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"


def role_name(role: Role) -> Message:
    """A role as a person reads it."""
    return msg(f"users.role.{role.value}")


def named_action(action: str | Message) -> str | Message:
    """An action the screens name by a word ("void", "refund") as a person
    reads it; any other text as it is."""
    if isinstance(action, str) and has(f"users.action.{action}"):
        return msg(f"users.action.{action}")
    return action


def action_text(action: str | Message) -> str:
    """An approved action as the journal keeps it (one language, any reader)."""
    return action.render("en") if isinstance(action, Message) else action


def validate_pin(pin: str) -> None:
    """PIN rules: 4 to 8 ASCII digits, not all one digit, not a plain run."""
    if not isinstance(pin, str) or not _PIN_RE.match(pin):
        raise InvalidInput(msg("users.pin_format"))
    if len(set(pin)) == 1 or pin in _WEAK_PINS:
        raise InvalidInput(msg("users.pin_too_easy"))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_pin(
    pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P, salt: bytes | None = None
) -> str:
    """A new encoded hash of a PIN that follows the PIN rules."""
    validate_pin(pin)
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(pin, salt, n, r, p)
    return f"scrypt$n={n},r={r},p={p}${_b64(salt)}${_b64(digest)}"


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: scrypt needs about 128 * n * r bytes; allow twice that.
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=256 * n * r + 2**20
    )


@dataclass(frozen=True, slots=True)
class _Params:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _decode(encoded: str) -> _Params:
    m = _HASH_RE.match(encoded) if isinstance(encoded, str) else None
    if not m:
        raise InvalidInput(msg("users.pin_hash_damaged"))
    n, r, p = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= _MAX_RP or not 1 <= p <= _MAX_RP:
        raise InvalidInput(msg("users.pin_hash_damaged"))
    try:
        salt = base64.b64decode(m.group(4), validate=True)
        digest = base64.b64decode(m.group(5), validate=True)
    except binascii.Error:
        raise InvalidInput(msg("users.pin_hash_damaged")) from None
    if len(salt) < _SALT_BYTES or len(digest) != _HASH_BYTES:
        raise InvalidInput(msg("users.pin_hash_damaged"))
    return _Params(n, r, p, salt, digest)


def verify_pin(pin: str, encoded: str) -> bool:
    """True when `pin` matches; comparison in constant time. A malformed PIN
    is simply wrong; a malformed stored hash is an InvalidInput."""
    params = _decode(encoded)
    if not isinstance(pin, str) or not _PIN_RE.match(pin):
        # Same work as a real attempt, so timing does not tell bad format apart.
        pin = "0000"
        _scrypt(pin, params.salt, params.n, params.r, params.p)
        return False
    candidate = _scrypt(pin, params.salt, params.n, params.r, params.p)
    return hmac.compare_digest(candidate, params.digest)


def needs_rehash(encoded: str) -> bool:
    """True when the stored hash uses weaker parameters than the current ones."""
    params = _decode(encoded)
    return params.n < SCRYPT_N or params.r < SCRYPT_R or params.p < SCRYPT_P


@dataclass(frozen=True, slots=True)
class User:
    """A till account. `pin_hash` is the encoded scrypt hash, never the PIN."""

    user_id: str
    name: str
    role: Role
    pin_hash: str
    active: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id.strip():
            raise InvalidInput(msg("users.no_id"))
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput(msg("users.no_name"))
        object.__setattr__(self, "role", _role(self.role))

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER

    def check_pin(self, pin: str) -> bool:
        return self.active and verify_pin(pin, self.pin_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role.value,
            "pin_hash": self.pin_hash,
            "active": int(self.active),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> User:
        try:
            user = cls(
                data["user_id"], data["name"], data["role"], data["pin_hash"], bool(data["active"])
            )
        except (KeyError, TypeError):
            raise InvalidInput(msg("users.bad_data")) from None
        _decode(user.pin_hash)
        return user


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(msg("users.unknown_role", role=repr(value))) from None


@dataclass(frozen=True, slots=True)
class Approval:
    """A manager's consent for one action, recorded with what it approved."""

    user_id: str
    role: Role
    reason: str = ""
    # How the approver proved who they are: "pin", or "badge+pin" (pos.services.badges).
    factors: str = "pin"

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise InvalidInput(msg("users.approval_no_approver"))
        if not isinstance(self.reason, str):
            raise InvalidInput(msg("users.approval_reason_not_text"))
        object.__setattr__(self, "role", _role(self.role))

    def to_dict(self) -> dict[str, str]:
        return {"user_id": self.user_id, "role": self.role.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        try:
            return cls(data["user_id"], data["role"], data.get("reason", ""))
        except (KeyError, TypeError, AttributeError):
            raise InvalidInput(msg("users.bad_approval_data")) from None


def require_manager(user: User, action: str | Message) -> None:
    """Refuse `action` (e.g. "refund an order") unless `user` is an active manager."""
    if not user.active:
        raise NotAllowed(msg("users.account_disabled", name=user.name))
    if not user.is_manager:
        raise NotAllowed(
            msg(
                "users.needs_manager_role", action=action, name=user.name, role=role_name(user.role)
            )
        )


class NeedsApproval(NotAllowed):
    """Refused only for want of a manager's approval: a manager's PIN fixes it
    (a plain NotAllowed is a refusal no approval can fix)."""


def require_approval(approval: Approval | None, action: str | Message) -> Approval:
    """The approval when it comes from a manager; NeedsApproval naming the action otherwise."""
    if approval is None:
        raise NeedsApproval(msg("users.needs_approval", action=action))
    if approval.role is not Role.MANAGER:
        raise NeedsApproval(
            msg(
                "users.needs_manager_role",
                action=action,
                name=approval.user_id,
                role=role_name(approval.role),
            )
        )
    return approval


def approve(user: User, pin: str, action: str | Message, reason: str = "") -> Approval:
    """A manager approves `action` with their PIN; NotAllowed if the PIN is
    wrong or the user is not an active manager."""
    require_manager(user, action)
    if not verify_pin(pin, user.pin_hash):
        raise NotAllowed(msg("users.approval_wrong_pin", name=user.name))
    return Approval(user.user_id, user.role, reason)
