"""Personal accounts for the server's admin API: roles, passwords, a TOTP
second factor, short-lived tokens, and the audit trail of every admin action.

Roles:
  head-office    everything, every store; must use TOTP
  store-manager  reports, enrolment codes, configuration and terminals of
                 the stores named on the account, and nothing else
  auditor        reads everything (reports, alerts, risk, the audit trail),
                 changes nothing

Passwords are kept as scrypt hashes (memory-hard, 32 MiB per try). A token
is 32 random bytes shown once; only its SHA-256 is stored, with an expiry a
quarter of an hour away, so every server process on the database accepts it
and a copy of the database cannot use it. A TOTP code is spent once. TOTP
secrets are sealed (AES-256-GCM) under the secret every server process is
given for the signing key (sync.server.identity), so a copy of the database
alone holds no second factor.

The server's old single admin token (POS_SERVER_ADMIN_TOKEN) still works as a
break-glass head-office credential, audited as `admin-token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, and_, delete, func, insert, select, update

from pos.clock import Clock, iso
from sync.server import models as m

TOKEN_LIFETIME = timedelta(minutes=15)
LOCKOUT_FAILS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 12
BOOTSTRAP_ACTOR = "admin-token"
ISSUER = "Store checkout"

_ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_STORE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Role(StrEnum):
    HEAD_OFFICE = "head-office"
    STORE_MANAGER = "store-manager"
    AUDITOR = "auditor"


class Action(StrEnum):
    REPORT_READ = "report.read"
    ALERTS_READ = "alerts.read"
    CODE_CREATE = "code.create"
    CONFIG_PUSH = "config.push"
    TERMINAL_LIST = "terminal.list"
    TERMINAL_REVOKE = "terminal.revoke"
    RISK_READ = "risk.read"
    RISK_WRITE = "risk.write"
    AUDIT_READ = "audit.read"


# What each role may do; a store manager only for the stores on the account.
ALLOWED: dict[Role, frozenset[Action]] = {
    Role.HEAD_OFFICE: frozenset(Action),
    Role.STORE_MANAGER: frozenset(
        {
            Action.REPORT_READ,
            Action.CODE_CREATE,
            Action.CONFIG_PUSH,
            Action.TERMINAL_LIST,
            Action.TERMINAL_REVOKE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Action.REPORT_READ,
            Action.ALERTS_READ,
            Action.TERMINAL_LIST,
            Action.RISK_READ,
            Action.AUDIT_READ,
        }
    ),
}


class AccountError(ValueError):
    """Bad input to an account command (the CLI exits 2)."""


class Refused(Exception):
    """A credential or an action refused: `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Principal:
    """Who an admin request comes from."""

    account_id: str
    role: Role
    stores: frozenset[str] = frozenset()

    def may(self, action: Action, store: str | None) -> bool:
        if action not in ALLOWED[self.role]:
            return False
        if self.role is Role.STORE_MANAGER:
            # None is "every store": never a store manager's.
            return store is not None and store in self.stores
        return True


BOOTSTRAP = Principal(BOOTSTRAP_ACTOR, Role.HEAD_OFFICE)


class TotpSealer:
    """TOTP secrets at rest. With the servers' shared secret they are sealed
    (`aead:` + base64 of nonce and ciphertext, bound to the account); the
    embedded demo server, which has no such secret, keeps them as given."""

    PREFIX = "aead:"

    def __init__(self, server_secret: bytes | None) -> None:
        self._aead: AESGCM | None = None
        if server_secret is not None:
            kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pos-server-totp-v1")
            self._aead = AESGCM(kdf.derive(server_secret))

    def seal(self, account_id: str, secret: str) -> str:
        if self._aead is None:
            return secret
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), account_id.encode("utf-8"))
        return self.PREFIX + _b64(nonce + sealed)

    def open(self, account_id: str, stored: str) -> str:
        if not stored.startswith(self.PREFIX):
            return stored
        if self._aead is None:
            raise Refused(503, "totp-sealed", "this server process cannot read TOTP secrets")
        raw = base64.b64decode(stored.removeprefix(self.PREFIX))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], account_id.encode("utf-8")).decode()
        except InvalidTag:
            raise Refused(
                503, "totp-sealed", "the TOTP secret does not open with this server's secret"
            ) from None


# -- passwords --------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


_HASH_RE = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


def verify_password(password: str, encoded: str) -> bool:
    found = _HASH_RE.match(encoded)
    if found is None:
        return False
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    if n > 2**20 or r > 64 or p > 64:
        return False
    salt, digest = base64.b64decode(found.group(4)), base64.b64decode(found.group(5))
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), digest)


# A hash to check against when the account does not exist, so the answer
# takes as long as for a wrong password.
_DUMMY_HASH = f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(bytes(16))}${_b64(bytes(32))}"


# -- accounts ---------------------------------------------------------------


def _stores_text(stores: frozenset[str]) -> str:
    return json.dumps(sorted(stores))


def create_account(
    engine: Engine,
    clock: Clock,
    account_id: str,
    role: Role | str,
    password: str,
    stores: list[str] | None = None,
    actor: str = "server-cli",
) -> Principal:
    if not _ACCOUNT_RE.fullmatch(account_id):
        raise AccountError(f"{account_id!r} is not an account name (a-z, 0-9, . _ -)")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role is one of {', '.join(r.value for r in Role)}") from None
    wanted = frozenset(stores or ())
    if role is Role.STORE_MANAGER and not wanted:
        raise AccountError("a store manager's account names the stores (--store)")
    if role is not Role.STORE_MANAGER and wanted:
        raise AccountError("only a store manager's account is limited to stores")
    bad = [s for s in wanted if not _STORE_RE.fullmatch(s)]
    if bad:
        raise AccountError(f"not a store id: {bad[0]!r}")
    hashed = hash_password(password)
    with engine.begin() as conn:
        if conn.execute(select(m.accounts.c.id).where(m.accounts.c.id == account_id)).first():
            raise AccountError(f"account {account_id} already exists")
        conn.execute(
            insert(m.accounts).values(
                id=account_id,
                role=role.value,
                stores=_stores_text(wanted),
                password_hash=hashed,
                created_at=iso(clock.now()),
            )
        )
    principal = Principal(account_id, role, wanted)
    record(engine, clock, actor, "account.create", "allowed", detail=f"{account_id} {role.value}")
    return principal


def enrol_totp(
    engine: Engine, clock: Clock, sealer: TotpSealer, account_id: str, actor: str = "server-cli"
) -> str:
    """A new TOTP secret for the account (replacing any); the otpauth:// URI
    to show once as a QR code or type into an authenticator app."""
    secret = pyotp.random_base32()
    with engine.begin() as conn:
        done = conn.execute(
            update(m.accounts)
            .where(m.accounts.c.id == account_id)
            .values(totp_secret=sealer.seal(account_id, secret), totp_last_step=None)
        )
    if not done.rowcount:
        raise AccountError(f"no account {account_id}")
    record(engine, clock, actor, "account.totp", "allowed", detail=account_id)
    return pyotp.TOTP(secret).provisioning_uri(name=account_id, issuer_name=ISSUER)


def disable_account(
    engine: Engine, clock: Clock, account_id: str, actor: str = "server-cli"
) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            update(m.accounts)
            .where(and_(m.accounts.c.id == account_id, m.accounts.c.disabled_at.is_(None)))
            .values(disabled_at=iso(clock.now()))
        )
        conn.execute(delete(m.admin_tokens).where(m.admin_tokens.c.account_id == account_id))
    if not done.rowcount:
        raise AccountError(f"no active account {account_id}")
    record(engine, clock, actor, "account.disable", "allowed", detail=account_id)


def list_accounts(engine: Engine) -> list[dict[str, object]]:
    a = m.accounts
    with engine.connect() as conn:
        rows = conn.execute(select(a).order_by(a.c.id)).mappings().all()
    return [
        {
            "account": r["id"],
            "role": r["role"],
            "stores": json.loads(r["stores"]),
            "totp": r["totp_secret"] is not None,
            "created_at": r["created_at"],
            "disabled_at": r["disabled_at"],
        }
        for r in rows
    ]


# -- signing in -------------------------------------------------------------


def _failures(engine: Engine, clock: Clock, account_id: str) -> int:
    since = iso(clock.now() - LOCKOUT_WINDOW)
    au = m.admin_audit
    with engine.connect() as conn:
        last_ok = conn.execute(
            select(func.max(au.c.id)).where(
                and_(au.c.actor == account_id, au.c.action == "login", au.c.outcome == "allowed")
            )
        ).scalar()
        q = select(func.count()).where(
            and_(
                au.c.actor == account_id,
                au.c.action == "login",
                au.c.outcome == "denied",
                au.c.at >= since,
            )
        )
        if last_ok is not None:
            q = q.where(au.c.id > last_ok)
        return int(conn.execute(q).scalar_one())


def _totp_step(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The time step `code` is valid for (one step of drift either way), or
    None; a step at or before `last_step` was spent already."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    here = int(now) // totp.interval
    for step in (here, here - 1, here + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code) and (
            last_step is None or step > last_step
        ):
            return step
    return None


@dataclass(frozen=True)
class Token:
    token: str
    expires_at: str
    principal: Principal


def sign_in(
    engine: Engine,
    clock: Clock,
    sealer: TotpSealer,
    account_id: str,
    password: str,
    totp: str | None,
) -> Token:
    """A fresh short-lived token, or Refused. Head office must give a TOTP
    code (and must have one enrolled); other roles must once they enrolled one."""
    a = m.accounts
    with engine.connect() as conn:
        row = conn.execute(select(a).where(a.c.id == account_id)).mappings().first()
    if _failures(engine, clock, account_id) >= LOCKOUT_FAILS:
        record(engine, clock, account_id, "login", "denied", detail="locked")
        raise Refused(429, "locked", "too many failed sign-ins; try again in 15 minutes")
    password_ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not password_ok or row["disabled_at"] is not None:
        record(engine, clock, account_id[:64], "login", "denied", detail="password")
        raise Refused(401, "bad-credentials", "wrong account name or password")
    role = Role(row["role"])
    secret = row["totp_secret"]
    if secret is None and role is Role.HEAD_OFFICE:
        record(engine, clock, account_id, "login", "denied", detail="totp-not-enrolled")
        raise Refused(
            403,
            "totp-not-enrolled",
            "a head-office account signs in with TOTP: enrol it (pos-server account totp)",
        )
    if secret is not None:
        if not totp:
            record(engine, clock, account_id, "login", "denied", detail="totp-required")
            raise Refused(401, "totp-required", "give the code from the authenticator app")
        step = _totp_step(
            sealer.open(account_id, secret), totp, clock.now().timestamp(), row["totp_last_step"]
        )
        if step is None:
            record(engine, clock, account_id, "login", "denied", detail="totp")
            raise Refused(401, "bad-credentials", "wrong or already used TOTP code")
        with engine.begin() as conn:
            spent = conn.execute(
                update(a)
                .where(
                    and_(
                        a.c.id == account_id,
                        (a.c.totp_last_step.is_(None)) | (a.c.totp_last_step < step),
                    )
                )
                .values(totp_last_step=step)
            )
        if not spent.rowcount:  # another request spent the same code first
            record(engine, clock, account_id, "login", "denied", detail="totp")
            raise Refused(401, "bad-credentials", "wrong or already used TOTP code")
    principal = Principal(account_id, role, frozenset(json.loads(row["stores"])))
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    expires = iso(now + TOKEN_LIFETIME)
    with engine.begin() as conn:
        conn.execute(delete(m.admin_tokens).where(m.admin_tokens.c.expires_at < iso(now)))
        conn.execute(
            insert(m.admin_tokens).values(
                token_hash=_token_hash(raw),
                account_id=account_id,
                created_at=iso(now),
                expires_at=expires,
            )
        )
    record(engine, clock, account_id, "login", "allowed", detail=role.value)
    return Token(raw, expires, principal)


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def principal_of(
    engine: Engine, clock: Clock, authorization: str | None, bootstrap_token: str | None
) -> Principal:
    """Who the bearer token names; Refused when no live token does."""
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given:
        raise Refused(403, "admin-only", "this needs an admin sign-in (POST /v1/auth/token)")
    if bootstrap_token and hmac.compare_digest(given.encode(), bootstrap_token.encode()):
        return BOOTSTRAP
    t, a = m.admin_tokens, m.accounts
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.expires_at, a.c.id, a.c.role, a.c.stores, a.c.disabled_at)
            .join(a, a.c.id == t.c.account_id)
            .where(t.c.token_hash == _token_hash(given))
        ).first()
    if row is None or row.disabled_at is not None:
        raise Refused(403, "admin-only", "this token is not known; sign in again")
    if row.expires_at <= iso(clock.now()):
        raise Refused(401, "token-expired", "the sign-in has expired; sign in again")
    return Principal(row.id, Role(row.role), frozenset(json.loads(row.stores)))


def sign_out(engine: Engine, authorization: str | None) -> None:
    given = (authorization or "").removeprefix("Bearer ").strip()
    with engine.begin() as conn:
        conn.execute(
            delete(m.admin_tokens).where(m.admin_tokens.c.token_hash == _token_hash(given))
        )


# -- the audit trail --------------------------------------------------------


def record(
    engine: Engine,
    clock: Clock,
    actor: str,
    action: str,
    outcome: str,
    *,
    role: str = "",
    store: str | None = None,
    detail: str = "",
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(m.admin_audit).values(
                at=iso(clock.now()),
                actor=actor[:64],
                role=role,
                action=action[:64],
                store_id=store,
                outcome=outcome,
                detail=detail[:500],
            )
        )


def authorize(
    engine: Engine, clock: Clock, principal: Principal, action: Action, store: str | None
) -> None:
    """Audits the request, and refuses it (403) when the role may not."""
    allowed = principal.may(action, store)
    record(
        engine,
        clock,
        principal.account_id,
        action.value,
        "allowed" if allowed else "denied",
        role=principal.role.value,
        store=store,
    )
    if not allowed:
        where = f" for store {store}" if store else " for every store"
        raise Refused(
            403,
            "forbidden",
            f"{principal.role.value} {principal.account_id} may not {action}{where}",
        )


def audit_trail(engine: Engine, limit: int = 1000) -> list[dict[str, object]]:
    au = m.admin_audit
    with engine.connect() as conn:
        rows = conn.execute(select(au).order_by(au.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]
