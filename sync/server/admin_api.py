"""The admin API's sign-in and the admin actions that came with personal
accounts: pushing a store's configuration, listing and revoking terminals,
and reading the audit trail. Every action goes through `admin`, which names
the caller (sync.server.accounts), checks the role and audits the request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from pos.clock import Clock
from sync.server import accounts, configs, enrolment
from sync.server import models as m
from sync.server.accounts import Action, Principal

STORE = r"^[A-Za-z0-9_.:-]{1,64}$"
Admin = Callable[[str | None, Action, str | None], Principal]


SIGN_IN_MAX_BODY = 4096


class TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` (never held whole)."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        raise TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    return bytes(body)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"error": "too-large", "detail": f"the body is larger than {limit} bytes", "remedy": ""},
        status_code=413,
        headers={"Connection": "close"},
    )


class SignIn(BaseModel):
    account: str = Field(max_length=64)
    password: str = Field(max_length=256)
    totp: str | None = Field(default=None, max_length=12)


def router(
    engine: Engine,
    clock: Clock,
    key: Callable[[], Ed25519PrivateKey],
    admin: Admin,
    sealer: accounts.TotpSealer,
) -> APIRouter:
    api = APIRouter(tags=["admin"])

    @api.post("/v1/auth/token")
    async def token(request: Request) -> Any:
        """Sign in: account, password and (head office always) a TOTP code;
        answers a token good for 15 minutes."""
        try:
            given = SignIn.model_validate_json(await _body(request, SIGN_IN_MAX_BODY))
        except TooLarge:
            return _too_large(SIGN_IN_MAX_BODY)
        except ValidationError as exc:
            return JSONResponse(
                {"error": "malformed", "detail": str(exc)[:300], "remedy": ""}, status_code=400
            )
        t = await run_in_threadpool(
            accounts.sign_in, engine, clock, sealer, given.account, given.password, given.totp
        )
        return {
            "token": t.token,
            "expires_at": t.expires_at,
            "role": t.principal.role.value,
            "stores": sorted(t.principal.stores),
        }

    @api.post("/v1/auth/logout")
    def logout(authorization: str | None = Header(None)) -> dict[str, str]:
        accounts.sign_out(engine, authorization)
        return {"status": "signed out"}

    @api.post("/v1/admin/config")
    async def push_config(
        request: Request,
        kind: str = Query(pattern=r"^[a-z_]{1,32}$"),
        store: str | None = Query(None, pattern=STORE),
        authorization: str | None = Header(None),
    ) -> Any:
        """Publish a configuration version for one store (or, head office
        only, every store); the body is the document."""
        await run_in_threadpool(admin, authorization, Action.CONFIG_PUSH, store)
        try:
            body = await _body(request, configs.MAX_BODY)
        except TooLarge:
            return _too_large(configs.MAX_BODY)
        try:
            version = await run_in_threadpool(
                configs.publish, engine, clock, key(), kind, body, store
            )
        except ValueError as exc:
            return JSONResponse(
                {"error": "malformed", "detail": str(exc), "remedy": ""}, status_code=400
            )
        return {"version": version, "kind": kind, "store_id": store}

    @api.get("/v1/admin/terminals")
    def terminals(
        store: str | None = Query(None, pattern=STORE),
        authorization: str | None = Header(None),
    ) -> list[dict[str, Any]]:
        admin(authorization, Action.TERMINAL_LIST, store)
        t = m.terminals
        q = select(t.c.id, t.c.store_id, t.c.enrolled_at, t.c.revoked_at, t.c.hwm).order_by(t.c.id)
        if store is not None:
            q = q.where(t.c.store_id == store)
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    @api.post("/v1/admin/terminals/{terminal_id}/revoke")
    def revoke(
        terminal_id: str = Path(pattern=STORE),
        authorization: str | None = Header(None),
    ) -> Any:
        """Revoke a terminal: it learns it at its next contact and stops selling."""
        with engine.connect() as conn:
            store = conn.execute(
                select(m.terminals.c.store_id).where(m.terminals.c.id == terminal_id)
            ).scalar()
        admin(authorization, Action.TERMINAL_REVOKE, store)
        if store is None or not enrolment.revoke(engine, clock, terminal_id):
            return JSONResponse(
                {"error": "not-found", "detail": f"no active terminal {terminal_id}", "remedy": ""},
                status_code=404,
            )
        return {"revoked": terminal_id, "store_id": store}

    @api.get("/v1/admin/audit")
    def audit(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """Every admin action and sign-in, allowed or denied, newest first."""
        admin(authorization, Action.AUDIT_READ, None)
        return accounts.audit_trail(engine)

    return api
