"""Admin API for chain risk: alerts, the hot list and the rule lifecycle.
Every endpoint needs the server's admin token; the lifecycle steps record
who did them (the X-Pos-Actor header, else "admin") in the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from pos.clock import Clock
from sync.server.risk import lifecycle, queries

RULE_ID = Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def router(
    engine: Engine,
    clock: Clock,
    key: Callable[[], Ed25519PrivateKey],
    require_admin: Callable[[str | None], None],
) -> APIRouter:
    api = APIRouter(prefix="/v1/risk", tags=["risk"])

    def refused(exc: lifecycle.LifecycleError) -> JSONResponse:
        return JSONResponse(
            {"error": "risk-rule", "detail": str(exc), "remedy": "see docs/risk.md"},
            status_code=409 if "needs it" in str(exc) or "published" in str(exc) else 422,
        )

    @api.get("/alerts")
    def alerts(
        store: str | None = Query(None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$"),
        authorization: str | None = Header(None),
    ) -> list[dict[str, Any]]:
        """Chain risk alerts, newest first, optionally for one store."""
        require_admin(authorization)
        return queries.alerts(engine, store)

    @api.get("/hotlist")
    def hotlist(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """The unexpired hot list (card tokens, buyer ids, cashiers)."""
        require_admin(authorization)
        return queries.hotlist(engine, clock)

    @api.post("/rules")
    async def draft(
        request: Request,
        authorization: str | None = Header(None),
        x_pos_actor: str = Header("admin", max_length=64),
    ) -> Any:
        """Draft a rule: the body is one [[rule]] table (TOML, CEL condition)."""
        require_admin(authorization)
        text = (await request.body()).decode("utf-8", errors="replace")
        try:
            return await run_in_threadpool(lifecycle.draft, engine, clock, x_pos_actor, text)
        except lifecycle.LifecycleError as exc:
            return refused(exc)

    @api.post("/rules/{rule_id}/{step}")
    def step(
        rule_id: str = RULE_ID,
        step: str = Path(pattern=r"^(backtest|shadow|publish)$"),
        authorization: str | None = Header(None),
        x_pos_actor: str = Header("admin", max_length=64),
    ) -> Any:
        """Backtest over the stored history, send in shadow mode, or publish."""
        require_admin(authorization)
        try:
            if step == "backtest":
                return lifecycle.backtest(engine, clock, x_pos_actor, rule_id)
            return lifecycle.advance(engine, clock, key(), x_pos_actor, rule_id, step)
        except lifecycle.LifecycleError as exc:
            return refused(exc)

    @api.get("/rules")
    def rules(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        require_admin(authorization)
        return lifecycle.drafts(engine)

    @api.get("/audit")
    def audit(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """Every lifecycle step: who, when, what."""
        require_admin(authorization)
        return lifecycle.audit_log(engine)

    return api
