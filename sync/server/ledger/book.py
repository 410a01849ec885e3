"""The ledger's one writer: append-only activities, each posting two entries
that sum to zero (the member's account and the chain's counter-account), and
balances derived from the postings.

Spends of one balance are serialised by locking the member's account row
(SELECT ... FOR UPDATE on PostgreSQL; on SQLite every write transaction
already holds the database's write lock from BEGIN IMMEDIATE, see
sync.server.db), so the balance read and the activity written under it can
never interleave with another spend. An idempotency key names each
activity: the same request again answers what was recorded the first time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from pos.clock import Clock, iso
from sync.server import models as m

KINDS = {"stored_value": "CNY", "points": "PTS"}
TYPES = ("load", "redeem", "refund", "adjust", "expire")
# The sign an activity's amount takes on the member's balance.
_SIGN = {"load": 1, "redeem": -1, "refund": 1, "expire": -1}


class LedgerRefused(Exception):
    """reason: unknown-member, insufficient, over-refund, unknown-activity,
    key-reused, bad-request, bad-pin."""

    def __init__(self, reason: str, detail: str, balance: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.balance = balance


@dataclass(frozen=True)
class Member:
    id: str
    number: str
    name: str


@dataclass(frozen=True)
class Recorded:
    activity_id: str
    type: str
    amount: int  # as asked: positive (adjust: signed)
    balance: int  # the member's balance after it
    replayed: bool = False


@dataclass(frozen=True)
class Spend:
    """One activity asked of the ledger."""

    member_id: str
    kind: str
    type: str
    amount: int
    key: str
    store_id: str
    terminal_id: str
    reference: str = ""
    refers_to: str | None = None
    source: str = "online"


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def pin_matches(stored: str, pin: str) -> bool:
    _, salt, digest = stored.split("$")
    got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(got.hex(), digest)


def account_id(kind: str, member_id: str) -> str:
    return f"{kind}:{member_id}"


def _issued(kind: str) -> str:
    return f"{kind}:issued"


def create_member(engine: Engine, clock: Clock, name: str, pin: str, created_by: str) -> Member:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise LedgerRefused("bad-request", "a PIN is 4 to 8 digits")
    now = iso(clock.now())
    pin_hash = hash_pin(pin)
    for _ in range(20):
        number = f"{secrets.randbelow(10**8):08d}"
        member = Member(secrets.token_hex(8), number, name.strip() or number)
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(m.members).values(
                        id=member.id,
                        number=number,
                        name=member.name,
                        pin_hash=pin_hash,
                        created_at=now,
                        created_by=created_by,
                    )
                )
                for kind, currency in KINDS.items():
                    _ensure_issued(conn, kind, currency, now)
                    conn.execute(
                        insert(m.ledger_accounts).values(
                            id=account_id(kind, member.id),
                            kind=kind,
                            member_id=member.id,
                            currency=currency,
                            created_at=now,
                        )
                    )
            return member
        except IntegrityError:
            continue  # the random number was taken: draw another
    raise LedgerRefused("bad-request", "no free member number")


def _ensure_issued(conn: Connection, kind: str, currency: str, now: str) -> None:
    a = m.ledger_accounts
    if conn.execute(select(a.c.id).where(a.c.id == _issued(kind))).first() is None:
        conn.execute(
            insert(a).values(
                id=_issued(kind), kind=kind, member_id=None, currency=currency, created_at=now
            )
        )


def find_member(engine: Engine, *, number: str = "", member_id: str = "") -> Member | None:
    t = m.members
    cond = t.c.number == number if number else t.c.id == member_id
    with engine.connect() as conn:
        row = conn.execute(select(t.c.id, t.c.number, t.c.name).where(cond)).first()
    return None if row is None else Member(row.id, row.number, row.name)


def check_pin(engine: Engine, member_id: str, pin: str) -> bool:
    with engine.connect() as conn:
        stored = conn.execute(
            select(m.members.c.pin_hash).where(m.members.c.id == member_id)
        ).scalar()
    return stored is not None and pin_matches(str(stored), pin)


def _balance(conn: Connection, account: str) -> int:
    p = m.ledger_postings
    total = conn.execute(
        select(func.coalesce(func.sum(p.c.amount), 0)).where(p.c.account_id == account)
    ).scalar()
    return int(total or 0)


def balance(engine: Engine, member_id: str, kind: str) -> int:
    with engine.connect() as conn:
        return _balance(conn, account_id(kind, member_id))


def record(engine: Engine, clock: Clock, spend: Spend) -> Recorded:
    """Append one activity, or answer the one already recorded under its key."""
    if spend.kind not in KINDS or spend.type not in TYPES:
        raise LedgerRefused("bad-request", f"no {spend.kind} {spend.type}")
    if spend.amount == 0 or (spend.type != "adjust" and spend.amount < 0):
        raise LedgerRefused("bad-request", "the amount must be positive")
    try:
        with engine.begin() as conn:
            return _record(conn, clock, spend)
    except IntegrityError:
        # A twin request with the same key committed first: answer it.
        with engine.begin() as conn:
            return _record(conn, clock, spend)


def _record(conn: Connection, clock: Clock, s: Spend) -> Recorded:
    account = account_id(s.kind, s.member_id)
    a = m.ledger_accounts
    locked = conn.execute(select(a.c.id).where(a.c.id == account).with_for_update()).first()
    if locked is None:
        raise LedgerRefused("unknown-member", f"no {s.kind} account for member {s.member_id}")
    previous = _by_key(conn, s.key)
    if previous is not None:
        same = (previous["account_id"], previous["type"], previous["amount"]) == (
            account,
            s.type,
            s.amount,
        )
        if not same:
            raise LedgerRefused("key-reused", f"key {s.key} names another activity")
        return Recorded(previous["id"], s.type, s.amount, _balance(conn, account), replayed=True)
    effect = s.amount * _SIGN.get(s.type, 1)
    held = _balance(conn, account)
    # An offline spend was already given on a signed allowance: it is recorded
    # as it happened; the allowance's cap bounds what it can overdraw.
    if effect < 0 and held + effect < 0 and s.source != "offline":
        raise LedgerRefused("insufficient", f"balance {held} < {-effect}", held)
    if s.type == "refund":
        _check_refund(conn, s, account)
    activity = secrets.token_hex(16)
    conn.execute(
        insert(m.ledger_activities).values(
            id=activity,
            idempotency_key=s.key,
            account_id=account,
            type=s.type,
            amount=s.amount,
            refers_to=s.refers_to,
            store_id=s.store_id,
            terminal_id=s.terminal_id,
            reference=s.reference[:128],
            source=s.source,
            created_at=iso(clock.now()),
        )
    )
    conn.execute(
        insert(m.ledger_postings),
        [
            {"activity_id": activity, "account_id": account, "amount": effect},
            {"activity_id": activity, "account_id": _issued(s.kind), "amount": -effect},
        ],
    )
    return Recorded(activity, s.type, s.amount, held + effect)


def _check_refund(conn: Connection, s: Spend, account: str) -> None:
    t = m.ledger_activities
    original = conn.execute(
        select(t.c.amount).where(
            t.c.id == (s.refers_to or ""), t.c.type == "redeem", t.c.account_id == account
        )
    ).first()
    if original is None:
        raise LedgerRefused("unknown-activity", f"no redeem {s.refers_to} on {account}")
    done = conn.execute(
        select(func.coalesce(func.sum(t.c.amount), 0)).where(
            t.c.refers_to == s.refers_to, t.c.type == "refund"
        )
    ).scalar()
    if int(done or 0) + s.amount > int(original.amount):
        raise LedgerRefused("over-refund", f"refunds would pass the {original.amount} redeemed")


def _by_key(conn: Connection, key: str) -> dict[str, Any] | None:
    t = m.ledger_activities
    row = conn.execute(
        select(t.c.id, t.c.account_id, t.c.type, t.c.amount).where(t.c.idempotency_key == key)
    ).first()
    return None if row is None else dict(row._mapping)


def member_of_activity(engine: Engine, activity_id: str) -> str:
    a, t = m.ledger_accounts, m.ledger_activities
    with engine.connect() as conn:
        found = conn.execute(
            select(a.c.member_id).join(t, t.c.account_id == a.c.id).where(t.c.id == activity_id)
        ).scalar()
    return str(found or "")


def void_key(
    engine: Engine, clock: Clock, key: str, kind: str, store_id: str, terminal: str
) -> str:
    """Claim `key` so that a spend still on its way under it can never be
    recorded (it is refused as key-reused); the type recorded under the key
    after the claim: "void", or "redeem" when the spend got there first."""
    if kind not in KINDS:
        raise LedgerRefused("bad-request", f"no {kind}")
    for _ in range(2):
        try:
            with engine.begin() as conn:
                found = _by_key(conn, key)
                if found is not None:
                    return str(found["type"])
                _ensure_issued(conn, kind, KINDS[kind], iso(clock.now()))
                conn.execute(
                    insert(m.ledger_activities).values(
                        id=secrets.token_hex(16), idempotency_key=key, account_id=_issued(kind),
                        type="void", amount=0, refers_to=None, store_id=store_id,
                        terminal_id=terminal, reference="", source="online",
                        created_at=iso(clock.now()),
                    )
                )  # fmt: skip
                return "void"
        except IntegrityError:
            continue  # the spend committed meanwhile: read it
    raise LedgerRefused("bad-request", f"cannot claim {key}")


def by_key(engine: Engine, key: str) -> Recorded | None:
    """What was recorded under `key`, if anything (an unknown outcome's query)."""
    with engine.connect() as conn:
        row = _by_key(conn, key)
        if row is None:
            return None
        return Recorded(row["id"], row["type"], row["amount"], _balance(conn, row["account_id"]))


def trial_balance(engine: Engine) -> int:
    """The sum of every posting: zero while the books are whole."""
    with engine.connect() as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(m.ledger_postings.c.amount), 0))
        ).scalar()
    return int(total or 0)


def member_code_key(engine: Engine, clock: Clock) -> bytes:
    """The chain's member-code key, made on first use."""
    k = m.ledger_keys
    with engine.begin() as conn:
        row = conn.execute(select(k.c.secret).where(k.c.name == "member-code")).first()
        if row is not None:
            return bytes(row.secret)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(k).values(
                    name="member-code", secret=secrets.token_bytes(32), created_at=iso(clock.now())
                )
            )
    except IntegrityError:
        pass  # another process made it first
    return member_code_key(engine, clock)
