"""The ASGI application. Every piece of state is in the database, so several
processes behind a load balancer can serve one PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from pos.clock import Clock, SystemClock
from sync import cardkey
from sync.protocol import (
    AuthRefused,
    VerifiedRequest,
    public_key_from_hex,
    public_key_hex,
    verify_request,
)
from sync.schemas import (
    Ack,
    CardKeyDelivery,
    CardKeyRequest,
    ConfigList,
    EnrolRequest,
    EnrolResponse,
    KeyChain,
    Refusal,
    StoreAlerts,
    UploadRequest,
)
from sync.server import accounts, admin_api, configs, db, enrolment, ingest, reports
from sync.server import models as m
from sync.server.accounts import Action, Principal
from sync.server.audit import Auditor
from sync.server.cardkey import CardKeySource, DatabaseCardKey, DerivedCardKey
from sync.server.identity import DatabaseIdentity, FixedKey, KeySource
from sync.server.ledger import api as ledger_api
from sync.server.risk import RiskHook
from sync.server.risk import api as risk_api
from sync.server.risk import queries as risk_queries
from sync.server.verify import BatchVerifier
from sync.wire import Malformed, as_entries, read_upload

NONCE_KEEP_SECONDS = 15 * 60
# The largest body a request may carry: a full batch (5,000 entries from the
# client, 10,000 allowed) of ordinary entries is a few MiB. A larger body is
# answered 413 while it is read, so a request never holds more than this.
MAX_BODY = 32 * 1024 * 1024
ENROL_MAX_BODY = 64 * 1024


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int, signed: bool = True) -> bytes:
    """The request's body, read chunk by chunk and refused (BodyTooLarge) as
    soon as it passes `limit`, or before reading when Content-Length says so.
    A request that must be signed and carries no signature is refused before
    its body is read at all."""
    declared = request.headers.get("content-length")
    if declared is not None and not (declared.isascii() and declared.isdigit()):
        raise BodyTooLarge(limit)
    if declared is not None and int(declared) > limit:
        raise BodyTooLarge(limit)
    if signed and "signature-input" not in request.headers:
        raise AuthRefused("unsigned", "the request carries no signature")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


@dataclass
class ServerState:
    engine: Engine
    # The identity every process shares (identity.DatabaseIdentity); `key`
    # alone is a key this process holds by itself (the embedded demo).
    key: Ed25519PrivateKey | None = None
    identity: KeySource | None = None
    clock: Clock = field(default_factory=SystemClock)
    admin_token: str | None = None
    verifier: BatchVerifier = field(default_factory=BatchVerifier)
    # Seconds between signature audits in this process; 0: none (`pos-server audit`).
    audit_every: float = 0.0
    # Start the verification pool's processes before serving (a served
    # process does; in-process test servers need not).
    warm_verifier: bool = False
    max_body: int = MAX_BODY
    # The chain's card-token key (sync.server.cardkey); made from the
    # identity at first use when not given.
    card_key: CardKeySource | None = None
    _last_purge: float = 0.0

    def __post_init__(self) -> None:
        if self.identity is None:
            if self.key is None:
                raise ValueError("a server needs an identity or a key")
            self.identity = FixedKey(self.key)

    @property
    def keys(self) -> KeySource:
        assert self.identity is not None
        return self.identity

    def card_key_for(self, terminal_id: str, box_key: str) -> CardKeyDelivery:
        """The chain's card-token key sealed to one terminal request's box key."""
        if self.card_key is None:
            if isinstance(self.identity, DatabaseIdentity):
                self.card_key = DatabaseCardKey.load_or_create(
                    self.engine, self.identity.secret, self.clock
                )
            else:
                self.card_key = DerivedCardKey(self.keys.current())
        generation, key = self.card_key.current()
        return cardkey.seal(key, generation, terminal_id, box_key, self.keys.current())

    def purge_nonces(self) -> None:
        """Nonces older than the freshness window can never be replayed."""
        mono = time.monotonic()
        if mono - self._last_purge < 60:
            return
        self._last_purge = mono
        cutoff = int(self.clock.now().timestamp()) - NONCE_KEEP_SECONDS
        with self.engine.begin() as conn:
            conn.execute(delete(m.nonces).where(m.nonces.c.created_at < cutoff))


@dataclass(frozen=True)
class Signed:
    """A verified request and the enrolled terminal it came from."""

    request: VerifiedRequest
    public_key: str
    store_id: str

    @property
    def terminal_id(self) -> str:
        return self.request.terminal_id


def refusal(
    status: int, error: str, detail: str, remedy: str = "", hwm: int | None = None
) -> JSONResponse:
    body = Refusal(error=error, detail=detail, remedy=remedy, hwm=hwm)
    return JSONResponse(body.model_dump(), status_code=status)


def _schema(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "content": {"application/json": {"schema": model.model_json_schema()}},
            "required": True,
        }
    }


_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Refusal, "description": "unsigned, badly signed, stale, replayed or unknown"},
    403: {"model": Refusal, "description": "revoked or wrong terminal"},
}


def create_app(state: ServerState) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state.warm_verifier:
            await run_in_threadpool(state.verifier.warm)
        auditor = Auditor(state.engine, state.clock, state.audit_every)
        if state.audit_every > 0:
            auditor.start()
        yield
        auditor.stop()
        state.verifier.close()

    risk = RiskHook(
        state.engine, state.clock, state.keys.current
    )  # chain-wide risk (sync/server/risk)

    app = FastAPI(
        title="Store checkout central server",
        version="1",
        description="Terminal enrolment, signed journal upload, configuration push, store reports.",
        lifespan=lifespan,
    )

    def authenticate(request: Request, body: bytes) -> Signed:
        """Blocking (database): call from the thread pool."""
        found: dict[str, Any] = {}

        def key_of(terminal_id: str) -> Ed25519PublicKey | None:
            t = m.terminals
            with db.reader(state.engine).connect() as conn:
                row = conn.execute(
                    select(t.c.public_key, t.c.revoked_at, t.c.store_id).where(
                        t.c.id == terminal_id
                    )
                ).first()
            if row is None:
                return None
            found.update(row._mapping)
            return public_key_from_hex(row.public_key)

        v = verify_request(
            request.method, str(request.url), request.headers, body, key_of, state.clock
        )
        if found["revoked_at"] is not None:
            raise AuthRefused(
                "revoked", f"terminal {v.terminal_id} was revoked on {found['revoked_at']}"
            )
        return Signed(v, found["public_key"], found["store_id"])

    def spend_nonce(v: VerifiedRequest) -> None:
        """Blocking (database): call from the thread pool. Raises ReplayedNonce."""
        state.purge_nonces()
        try:
            with state.engine.begin() as conn:
                ingest.remember_nonce(conn, v.terminal_id, v.nonce, int(v.created.timestamp()))
        except IntegrityError as exc:
            raise ingest.ReplayedNonce() from exc

    def admin(authorization: str | None, action: Action, store: str | None = None) -> Principal:
        """The caller of an admin endpoint, if their role may do `action`
        (for `store`; None: every store); audited either way. Blocking."""
        who = accounts.principal_of(state.engine, state.clock, authorization, state.admin_token)
        accounts.authorize(state.engine, state.clock, who, action, store)
        return who

    def require_admin(authorization: str | None) -> None:
        """Signed in (the risk API's role check is `risk_role` below)."""
        accounts.principal_of(state.engine, state.clock, authorization, state.admin_token)

    def risk_role(request: Request, authorization: str | None = Header(None)) -> None:
        action = Action.RISK_READ if request.method == "GET" else Action.RISK_WRITE
        admin(authorization, action, None)

    @app.exception_handler(accounts.Refused)
    async def _refused(_r: Request, exc: accounts.Refused) -> JSONResponse:
        return refusal(exc.status, exc.reason, exc.detail)

    @app.exception_handler(AuthRefused)
    async def _auth(_r: Request, exc: AuthRefused) -> JSONResponse:
        code = 403 if exc.reason in ("revoked", "wrong-terminal", "admin-only") else 401
        return refusal(code, exc.reason, exc.detail)

    @app.exception_handler(ingest.ReplayedNonce)
    async def _replayed(_r: Request, _exc: ingest.ReplayedNonce) -> JSONResponse:
        return refusal(401, "replay", "this request was already received")

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_r: Request, exc: BodyTooLarge) -> JSONResponse:
        # The rest of the body is not read: the connection is closed after this answer.
        response = refusal(
            413,
            "too-large",
            str(exc),
            "Send smaller batches; the terminal's client does this by itself.",
        )
        response.headers["Connection"] = "close"
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/server-key")
    def server_key() -> dict[str, str]:
        """The key terminals pin at enrolment (also returned by /v1/enroll)."""
        return {"server_key": public_key_hex(state.keys.current().public_key())}

    @app.get("/v1/server-keys", response_model=KeyChain, responses=_REFUSALS)
    async def server_keys(request: Request) -> Response:
        """Every generation of the server's key, each endorsed by the one before:
        a terminal follows it from the key it pinned to the newest."""
        body = await read_body(request, ENROL_MAX_BODY)

        def answer() -> Response:
            s = authenticate(request, body)
            spend_nonce(s.request)
            return JSONResponse(KeyChain(keys=state.keys.chain()).model_dump())

        return await run_in_threadpool(answer)

    @app.post(
        "/v1/enroll",
        response_model=EnrolResponse,
        openapi_extra=_schema(EnrolRequest),
        responses={400: {"model": Refusal}, 401: {"model": Refusal}, 409: {"model": Refusal}},
    )
    async def enroll(request: Request) -> Response:
        """Spend a one-time code: register the terminal's key and its store.
        The request is signed with the key being registered (proof of possession)."""
        body = await read_body(request, ENROL_MAX_BODY)
        try:
            req = EnrolRequest.model_validate_json(body)
            new_key = public_key_from_hex(req.public_key)
        except (ValidationError, ValueError) as exc:
            return refusal(400, "malformed", str(exc)[:500])
        verified = verify_request(
            request.method,
            str(request.url),
            request.headers,
            body,
            lambda kid: new_key if kid == req.terminal_id else None,
            state.clock,
        )
        return await run_in_threadpool(_enrol, req, verified)

    def _enrol(req: EnrolRequest, verified: VerifiedRequest) -> Response:
        try:
            done = enrolment.enrol(
                state.engine, state.clock, req.code, req.terminal_id, req.store_id, req.public_key
            )
        except enrolment.EnrolmentRefused as exc:
            code = 409 if exc.reason in ("code-used", "terminal-exists") else 400
            return refusal(code, exc.reason, exc.detail, exc.remedy)
        spend_nonce(verified)
        out = EnrolResponse(
            terminal_id=done.terminal_id,
            store_id=done.store_id,
            server_key=public_key_hex(state.keys.current().public_key()),
            hwm=done.hwm,
            card_key=None
            if req.box_key is None
            else state.card_key_for(req.terminal_id, req.box_key),
        )
        return JSONResponse(out.model_dump())

    @app.post(
        "/v1/card-key",
        response_model=CardKeyDelivery,
        openapi_extra=_schema(CardKeyRequest),
        responses={**_REFUSALS, 400: {"model": Refusal}},
    )
    async def card_key(request: Request) -> Response:
        """The chain's card-token key, sealed to the one-time key in the request."""
        body = await read_body(request, ENROL_MAX_BODY)

        def answer() -> Response:
            s = authenticate(request, body)
            spend_nonce(s.request)
            try:
                req = CardKeyRequest.model_validate_json(body)
            except ValidationError as exc:
                return refusal(400, "malformed", str(exc)[:500])
            return JSONResponse(state.card_key_for(s.terminal_id, req.box_key).model_dump())

        return await run_in_threadpool(answer)

    @app.get("/v1/risk/store-alerts", response_model=StoreAlerts, responses=_REFUSALS)
    async def store_alerts(request: Request) -> Response:
        """The chain's risk alerts about the asking terminal's store, newest first."""
        body = await read_body(request, ENROL_MAX_BODY)

        def answer() -> Response:
            s = authenticate(request, body)
            spend_nonce(s.request)
            out = risk_queries.store_alerts(state.engine, s.store_id)
            return JSONResponse(out.model_dump())

        return await run_in_threadpool(answer)

    @app.get("/v1/journal/state", response_model=Ack, responses=_REFUSALS)
    async def journal_state(request: Request) -> Response:
        """The acknowledged high-water mark: where the terminal's next upload starts."""
        body = await read_body(request, ENROL_MAX_BODY)

        def answer() -> Response:
            s = authenticate(request, body)
            spend_nonce(s.request)
            return JSONResponse(ingest.journal_state(state.engine, s.terminal_id).model_dump())

        return await run_in_threadpool(answer)

    @app.post(
        "/v1/journal",
        response_model=Ack,
        openapi_extra=_schema(UploadRequest),
        responses={**_REFUSALS, 409: {"model": Refusal}, 422: {"model": Refusal}},
    )
    async def upload_journal(request: Request) -> Response:
        """Store a batch of journal entries once each; answer the high-water mark."""
        body = await read_body(request, state.max_body)
        return await run_in_threadpool(_upload, request, body)

    def _upload(request: Request, body: bytes) -> Response:
        s = authenticate(request, body)
        v = s.request
        try:
            terminal_id, entries = read_upload(body)
        except Malformed as exc:
            spend_nonce(v)
            return refusal(400, "malformed", str(exc)[:500])
        if terminal_id != v.terminal_id:
            spend_nonce(v)
            raise AuthRefused("wrong-terminal", "a terminal may only upload its own journal")
        seqs = [e[0] for e in entries]
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            spend_nonce(v)
            return refusal(400, "malformed", "entries must be in ascending, contiguous order")
        after = request.query_params.get("after")
        if after is not None and not (after.isascii() and after.isdigit() and len(after) < 19):
            spend_nonce(v)
            return refusal(400, "malformed", "after must be a sequence number")
        nonce = (v.nonce, int(v.created.timestamp()))
        checking = state.verifier.start(v.terminal_id, s.public_key, entries)
        try:
            ack = ingest.store_verified(
                state.engine,
                state.clock,
                v.terminal_id,
                checking,
                nonce,
                None if after is None else int(after),
            )
        except ingest.Early as exc:
            # Its predecessor failed or is late: nothing to alert about.
            spend_nonce(v)
            return refusal(409, exc.kind, exc.detail, _FROM_HWM, exc.hwm)
        except ingest.BadEntry as bad:
            # The alert spends the request's nonce: a replay of it is refused
            # as a replay, not alerted again.
            ingest.raise_alert(
                state.engine, state.clock, v.terminal_id, "bad-entry", bad.seq, bad.detail, nonce
            )
            hwm = ingest.journal_state(state.engine, v.terminal_id).hwm
            return refusal(422, "bad-entry", f"entry {bad.seq}: {bad.detail}", _ALERT_REMEDY, hwm)
        except ingest.Refused as exc:
            ingest.raise_alert(
                state.engine, state.clock, v.terminal_id, exc.kind, exc.seq, exc.detail, nonce
            )
            remedy = _FROM_HWM if exc.kind == "gap" else _ALERT_REMEDY
            return refusal(409, exc.kind, exc.detail, remedy, exc.hwm)
        if ack.stored:
            risk.after_upload(v.terminal_id, s.store_id, as_entries(entries))
        return JSONResponse(ack.model_dump())

    @app.get("/v1/config", response_model=ConfigList, responses=_REFUSALS)
    # config_versions.version is an INTEGER: a larger `after` is refused, not a 500.
    async def config(request: Request, after: int = Query(0, ge=0, le=2**31 - 1)) -> Response:
        """Configuration versions newer than `after` for the terminal's store, oldest first."""
        body = await read_body(request, ENROL_MAX_BODY)

        def answer() -> Response:
            s = authenticate(request, body)
            spend_nonce(s.request)
            versions = configs.newer_than(state.engine, s.store_id, after)
            return JSONResponse(ConfigList(versions=versions).model_dump())

        return await run_in_threadpool(answer)

    @app.get(
        "/v1/reports/daily", response_class=PlainTextResponse, responses={403: {"model": Refusal}}
    )
    def daily_report(
        date: str = Query(pattern=r"^\d{4}-\d{2}-\d{2}$"),
        store: str | None = None,
        authorization: str | None = Header(None),
    ) -> Response:
        """Daily settlement per store, terminal and channel, as CSV (report readers)."""
        admin(authorization, Action.REPORT_READ, store)
        rows = reports.daily_settlement(state.engine, date, store)
        return PlainTextResponse(
            reports.to_csv(date, rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="settlement-{date}.csv"'},
        )

    @app.get("/v1/alerts", responses={403: {"model": Refusal}})
    def list_alerts(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """Gaps, forks and bad entries refused, and entries whose signature
        the audit found bad, newest first (head office, auditors)."""
        admin(authorization, Action.ALERTS_READ)
        with state.engine.connect() as conn:
            rows = conn.execute(
                select(m.alerts).order_by(m.alerts.c.id.desc()).limit(500)
            ).mappings()
            return [dict(r) for r in rows]

    @app.post("/v1/codes", responses={403: {"model": Refusal}})
    def new_code(
        store: str = Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$"),
        authorization: str | None = Header(None),
    ) -> dict[str, str]:
        """A one-time enrolment code for a store (head office, its managers)."""
        admin(authorization, Action.CODE_CREATE, store)
        return {"store_id": store, "code": enrolment.create_code(state.engine, state.clock, store)}

    app.include_router(
        risk_api.router(state.engine, state.clock, state.keys.current, require_admin),
        dependencies=[Depends(risk_role)],
    )
    # TOTP secrets are sealed under the secret the processes share for the key.
    shared = state.identity.secret if isinstance(state.identity, DatabaseIdentity) else None
    sealer = accounts.TotpSealer(shared)
    app.include_router(
        admin_api.router(state.engine, state.clock, state.keys.current, admin, sealer)
    )
    app.include_router(
        ledger_api.router(
            state.engine,
            state.clock,
            state.keys.current,
            authenticate,
            spend_nonce,
            read_body,
            require_admin,
        )
    )
    return app


_FROM_HWM = "Upload from the acknowledged high-water mark."
_ALERT_REMEDY = (
    "The server refused this batch and raised an alert; nothing was stored. "
    "A manager must check the terminal's journal (pos journal verify)."
)
