"""The ledger on the terminals' signed protocol: every request is signed by an
enrolled terminal (the same authentication as the journal upload) and spends
its nonce; the store is the terminal's own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from pos.clock import Clock, iso
from pos.member_code import looks_like_code, verify_code
from sync.protocol import VerifiedRequest, public_key_hex, signed_document
from sync.server.ledger import book

MAX_BODY = 16 * 1024
# What a till may spend offline for one member on one allowance, and for how long.
ALLOWANCE_CAP = {"stored_value": 20_000, "points": 5_000}
ALLOWANCE_LIFETIME = timedelta(hours=24)
ALLOWANCE_PURPOSE = "pos-wallet-allowance"
# Corrections and expiry are the chain office's, not a till's.
ADMIN_ONLY = ("adjust", "expire")

_STATUS = {
    "bad-request": 400,
    "bad-pin": 403,
    "unknown-member": 404,
    "unknown-activity": 404,
    "insufficient": 409,
    "over-refund": 409,
    "key-reused": 409,
}


class _Signed(Protocol):
    @property
    def request(self) -> VerifiedRequest: ...

    @property
    def store_id(self) -> str: ...

    @property
    def terminal_id(self) -> str: ...


class NewMember(BaseModel):
    name: str = Field(max_length=100)
    pin: str = Field(pattern=r"^\d{4,8}$")


class Ask(BaseModel):
    """One activity: the member by a dynamic code, number or id."""

    code: str = Field("", max_length=32)
    number: str = Field("", pattern=r"^(\d{8})?$")
    member_id: str = Field("", max_length=32)
    kind: str = Field(pattern=r"^(stored_value|points)$")
    type: str = Field(pattern=r"^(load|redeem|refund|adjust|expire)$")
    amount: int = Field(ge=-(2**53), le=2**53)
    key: str = Field(min_length=8, max_length=128)
    reference: str = Field("", max_length=128)
    refers_to: str | None = Field(None, max_length=32)
    source: str = Field("online", pattern=r"^(online|offline)$")
    pin: str = Field("", pattern=r"^(\d{4,8})?$")


class VoidAsk(BaseModel):
    kind: str = Field(pattern=r"^(stored_value|points)$")
    key: str = Field(min_length=8, max_length=128)


def refused(reason: str, detail: str, balance: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": reason, "detail": detail, "remedy": "", "hwm": None}
    if balance is not None:
        body["balance"] = balance
    return JSONResponse(body, status_code=_STATUS.get(reason, 400))


def allowance(
    engine: Engine, clock: Clock, key: Ed25519PrivateKey, member: book.Member, kind: str
) -> dict[str, Any]:
    """A signed allowance: what a till may spend for `member` offline, until when."""
    held = book.balance(engine, member.id, kind)
    now = clock.now()
    fields = {
        "purpose": ALLOWANCE_PURPOSE,
        "member_id": member.id,
        "number": member.number,
        "kind": kind,
        "cap": max(0, min(held, ALLOWANCE_CAP[kind])),
        "issued_at": iso(now),
        "expires_at": iso(now + ALLOWANCE_LIFETIME),
        "server_key": public_key_hex(key.public_key()),
    }
    return {"fields": fields, "signature": signed_document(fields, key)}


def router(
    engine: Engine,
    clock: Clock,
    key: Callable[[], Ed25519PrivateKey],
    authenticate: Callable[[Request, bytes], _Signed],
    spend_nonce: Callable[[VerifiedRequest], None],
    read_body: Callable[..., Any],
    require_admin: Callable[[str | None], None],
) -> APIRouter:
    api = APIRouter(prefix="/v1/ledger", tags=["ledger"])

    def signed(request: Request, body: bytes) -> _Signed:
        s = authenticate(request, body)
        spend_nonce(s.request)
        return s

    def who(code: str = "", number: str = "", member_id: str = "") -> book.Member | None:
        if code:
            if not looks_like_code(code):
                return None
            named = verify_code(book.member_code_key(engine, clock), code, clock.now())
            return None if named is None else book.find_member(engine, number=named)
        if number:
            return book.find_member(engine, number=number)
        return book.find_member(engine, member_id=member_id) if member_id else None

    def recorded(
        ask: Ask, member: book.Member, store_id: str, terminal_id: str
    ) -> book.Recorded | JSONResponse:
        spend = book.Spend(
            member.id, ask.kind, ask.type, ask.amount, ask.key, store_id, terminal_id,
            ask.reference, ask.refers_to, ask.source,
        )  # fmt: skip
        try:
            return book.record(engine, clock, spend)
        except book.LedgerRefused as exc:
            return refused(exc.reason, exc.detail, exc.balance)

    @api.post("/members")
    async def create_member(request: Request) -> Response:
        """Register a member (name and PIN); both ledgers' accounts open at zero."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            s = signed(request, body)
            try:
                new = NewMember.model_validate_json(body)
                made = book.create_member(engine, clock, new.name, new.pin, s.terminal_id)
            except ValidationError as exc:
                return refused("bad-request", str(exc)[:300])
            except book.LedgerRefused as exc:
                return refused(exc.reason, exc.detail)
            return JSONResponse({"member_id": made.id, "number": made.number, "name": made.name})

        return await run_in_threadpool(answer)

    @api.post("/activities")
    async def activity(request: Request) -> Response:
        """Load, redeem, refund, adjust or expire; the same key answers the same activity."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            s = signed(request, body)
            try:
                ask = Ask.model_validate_json(body)
            except ValidationError as exc:
                return refused("bad-request", str(exc)[:300])
            member_id = ask.member_id
            if ask.type == "refund" and not (ask.code or ask.number or member_id):
                # A refund goes back to the balance its spend came from.
                member_id = book.member_of_activity(engine, ask.refers_to or "")
            member = who(ask.code, ask.number, member_id)
            if member is None:
                return refused("unknown-member", "no member for this code or number")
            if ask.type in ADMIN_ONLY:
                return refused("bad-request", f"{ask.type} is for the chain's office (admin token)")
            if ask.type == "redeem" and ask.source == "online" and not ask.code:
                return refused("bad-request", "an online spend needs the member's code")
            if ask.pin and not book.check_pin(engine, member.id, ask.pin):
                return refused("bad-pin", "the PIN does not match")
            done = recorded(ask, member, s.store_id, s.terminal_id)
            if isinstance(done, JSONResponse):
                return done
            return JSONResponse(
                {
                    "activity_id": done.activity_id,
                    "type": done.type,
                    "amount": done.amount,
                    "balance": done.balance,
                    "replayed": done.replayed,
                    "member_id": member.id,
                    "number": member.number,
                    "allowance": allowance(engine, clock, key(), member, ask.kind),
                }
            )

        return await run_in_threadpool(answer)

    @api.post("/admin/activities")
    async def office_activity(
        request: Request, authorization: str | None = Header(None)
    ) -> Response:
        """Adjust or expire a member's balance (admin token); by number or id."""
        require_admin(authorization)
        body = await read_body(request, MAX_BODY, False)

        def answer() -> Response:
            try:
                ask = Ask.model_validate_json(body)
            except ValidationError as exc:
                return refused("bad-request", str(exc)[:300])
            if ask.type not in ADMIN_ONLY:
                return refused("bad-request", "the office adjusts and expires; tills do the rest")
            member = who("", ask.number, ask.member_id)
            if member is None:
                return refused("unknown-member", "no member for this number")
            done = recorded(ask, member, "office", "office")
            if isinstance(done, JSONResponse):
                return done
            return JSONResponse(
                {"activity_id": done.activity_id, "balance": done.balance,
                 "replayed": done.replayed}
            )  # fmt: skip

        return await run_in_threadpool(answer)

    @api.post("/void")
    async def void(request: Request) -> Response:
        """Claim an idempotency key whose spend's outcome a till does not know:
        answers "void" (nothing was or will be spent under it) or "redeem"."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            s = signed(request, body)
            try:
                ask = VoidAsk.model_validate_json(body)
                kind = book.void_key(engine, clock, ask.key, ask.kind, s.store_id, s.terminal_id)
            except ValidationError as exc:
                return refused("bad-request", str(exc)[:300])
            except book.LedgerRefused as exc:
                return refused(exc.reason, exc.detail)
            found = book.by_key(engine, ask.key)
            assert found is not None
            return JSONResponse({"type": kind, "activity_id": found.activity_id})

        return await run_in_threadpool(answer)

    @api.get("/activities")
    async def find_activity(request: Request, key: str = Query(max_length=128)) -> Response:
        """What was recorded under an idempotency key (404: nothing)."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            signed(request, body)
            done = book.by_key(engine, key)
            if done is None:
                return refused("unknown-activity", f"nothing recorded under {key}")
            return JSONResponse(
                {"activity_id": done.activity_id, "type": done.type, "amount": done.amount,
                 "balance": done.balance}
            )  # fmt: skip

        return await run_in_threadpool(answer)

    @api.get("/members/{number}")
    async def member(request: Request, number: str) -> Response:
        """A member's balances and fresh allowances, by number or dynamic code."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            signed(request, body)
            found = who(number, "") if len(number) > 8 else who("", number)
            if found is None:
                return refused("unknown-member", "no member for this code or number")
            return JSONResponse(
                {
                    "member_id": found.id,
                    "number": found.number,
                    "name": found.name,
                    "balances": {k: book.balance(engine, found.id, k) for k in book.KINDS},
                    "allowances": {
                        k: allowance(engine, clock, key(), found, k) for k in book.KINDS
                    },
                }
            )

        return await run_in_threadpool(answer)

    @api.get("/code-key")
    async def code_key(request: Request) -> Response:
        """The member-code key, for tills that verify codes offline."""
        body = await read_body(request, MAX_BODY)

        def answer() -> Response:
            signed(request, body)
            return JSONResponse({"key": book.member_code_key(engine, clock).hex()})

        return await run_in_threadpool(answer)

    return api
