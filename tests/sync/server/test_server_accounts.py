"""Personal admin accounts over real HTTP on loopback: each role against each
admin endpoint (every forbidden pair answered 403, every allowed one not),
TOTP required for head office and spent once, short-lived tokens, lockout,
and the audit trail of every admin action."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from pos.clock import FakeClock, SystemClock
from sync.server import accounts, db, enrolment
from sync.server import models as m
from sync.server.accounts import Role
from tests.sync.conftest import TEST_KEY_SECRET, ThreadServer

PASSWORD = "correct horse battery"
# What the test servers seal TOTP secrets with (their shared key secret).
SEALER = accounts.TotpSealer(TEST_KEY_SECRET)
DAY = "2026-01-05"

# (name, method, path, params, body): every admin endpoint, for the stores
# of the manager (S001) and of another (S002), and for every store.
ENDPOINTS: list[tuple[str, str, str, dict[str, str], bytes | None]] = [
    ("report-own", "GET", "/v1/reports/daily", {"date": DAY, "store": "S001"}, None),
    ("report-other", "GET", "/v1/reports/daily", {"date": DAY, "store": "S002"}, None),
    ("report-all", "GET", "/v1/reports/daily", {"date": DAY}, None),
    ("alerts", "GET", "/v1/alerts", {}, None),
    ("code-own", "POST", "/v1/codes", {"store": "S001"}, None),
    ("code-other", "POST", "/v1/codes", {"store": "S002"}, None),
    ("config-own", "POST", "/v1/admin/config", {"kind": "catalog", "store": "S001"}, b"x"),
    ("config-other", "POST", "/v1/admin/config", {"kind": "catalog", "store": "S002"}, b"x"),
    ("config-all", "POST", "/v1/admin/config", {"kind": "catalog"}, b"x"),
    ("terminals-own", "GET", "/v1/admin/terminals", {"store": "S001"}, None),
    ("terminals-other", "GET", "/v1/admin/terminals", {"store": "S002"}, None),
    ("terminals-all", "GET", "/v1/admin/terminals", {}, None),
    ("revoke-own", "POST", "/v1/admin/terminals/T-S001/revoke", {}, None),
    ("revoke-other", "POST", "/v1/admin/terminals/T-S002/revoke", {}, None),
    ("risk-alerts", "GET", "/v1/risk/alerts", {}, None),
    ("risk-hotlist", "GET", "/v1/risk/hotlist", {}, None),
    ("risk-rules", "GET", "/v1/risk/rules", {}, None),
    ("risk-audit", "GET", "/v1/risk/audit", {}, None),
    ("risk-draft", "POST", "/v1/risk/rules", {}, b"not a rule"),
    ("risk-step", "POST", "/v1/risk/rules/nothing/shadow", {}, None),
    ("audit", "GET", "/v1/admin/audit", {}, None),
]

# What each role may do; everything else must be 403.
MANAGER_MAY = {"report-own", "code-own", "config-own", "terminals-own", "revoke-own"}
AUDITOR_MAY = {
    "report-own", "report-other", "report-all", "alerts", "terminals-own", "terminals-other",
    "terminals-all", "risk-alerts", "risk-hotlist", "risk-rules", "risk-audit", "audit",
}  # fmt: skip
MAY: dict[str, set[str]] = {
    "head-office": {name for name, *_ in ENDPOINTS},
    "store-manager": MANAGER_MAY,
    "auditor": AUDITOR_MAY,
    "nobody": set(),
}


def _totp(server: ThreadServer, account: str) -> str:
    with server.engine.connect() as conn:
        stored = conn.execute(
            select(m.accounts.c.totp_secret).where(m.accounts.c.id == account)
        ).scalar_one()
    assert stored.startswith("aead:")  # sealed at rest
    return pyotp.TOTP(SEALER.open(account, stored)).at(server.clock.now())


def _sign_in(server: ThreadServer, account: str, totp: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"account": account, "password": PASSWORD}
    if totp is not None:
        body["totp"] = totp
    return httpx.post(f"{server.url}/v1/auth/token", json=body)


def _server(tmp: Path, clock: Any) -> ThreadServer:
    server = ThreadServer(
        db.make_engine(f"sqlite:///{tmp / 'server.db'}"), tmp / "key.pem", clock, "admin-secret"
    )
    for store in ("S001", "S002"):
        code = enrolment.create_code(server.engine, SystemClock(), store)
        enrolment.enrol(server.engine, SystemClock(), code, f"T-{store}", store, "00" * 32)
    return server


@pytest.fixture(scope="module")
def matrix_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ThreadServer, dict[str, str]]]:
    server = _server(tmp_path_factory.mktemp("accounts"), SystemClock())
    e, clock = server.engine, SystemClock()
    accounts.create_account(e, clock, "hq", Role.HEAD_OFFICE, PASSWORD)
    accounts.enrol_totp(e, clock, SEALER, "hq")
    accounts.create_account(e, clock, "mgr1", Role.STORE_MANAGER, PASSWORD, ["S001"])
    accounts.create_account(e, clock, "audit", Role.AUDITOR, PASSWORD)
    tokens = {}
    for role, name in (("head-office", "hq"), ("store-manager", "mgr1"), ("auditor", "audit")):
        r = _sign_in(server, name, _totp(server, name) if name == "hq" else None)
        assert r.status_code == 200, r.text
        assert r.json()["role"] == role
        tokens[role] = r.json()["token"]
    tokens["nobody"] = "not-a-token"
    try:
        yield server, tokens
    finally:
        server.stop()


@pytest.mark.parametrize("role", sorted(MAY))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_each_role_against_each_admin_endpoint(
    matrix_server: tuple[ThreadServer, dict[str, str]],
    role: str,
    endpoint: tuple[str, str, str, dict[str, str], bytes | None],
) -> None:
    server, tokens = matrix_server
    name, method, path, params, body = endpoint
    r = httpx.request(
        method,
        server.url + path,
        params=params,
        content=body,
        headers={"Authorization": f"Bearer {tokens[role]}"},
    )
    if name in MAY[role]:
        # Allowed: answered on its merits (a revoked terminal is 404 the
        # second time, a bad rule 422, an unknown rule 4xx), never 403.
        assert r.status_code != 403 and r.status_code < 500, (role, name, r.text)
    else:
        assert r.status_code == 403, (role, name, r.status_code, r.text)
        assert r.json()["error"] in ("forbidden", "admin-only")


def test_a_store_manager_reads_only_their_stores_and_the_refusals_are_audited(
    matrix_server: tuple[ThreadServer, dict[str, str]],
) -> None:
    server, tokens = matrix_server
    manager = {"Authorization": f"Bearer {tokens['store-manager']}"}
    own = httpx.get(f"{server.url}/v1/admin/terminals", params={"store": "S001"}, headers=manager)
    assert [t["id"] for t in own.json()] == ["T-S001"]
    other = httpx.get(
        f"{server.url}/v1/reports/daily", params={"date": DAY, "store": "S002"}, headers=manager
    )
    assert other.status_code == 403
    assert "store-manager mgr1 may not report.read for store S002" in other.json()["detail"]
    trail = httpx.get(
        f"{server.url}/v1/admin/audit", headers={"Authorization": f"Bearer {tokens['auditor']}"}
    ).json()
    denied = [(t["actor"], t["action"], t["store_id"]) for t in trail if t["outcome"] == "denied"]
    assert ("mgr1", "report.read", "S002") in denied
    assert ("audit", "config.push", "S001") in denied
    logins = [(t["actor"], t["outcome"]) for t in trail if t["action"] == "login"]
    assert ("hq", "allowed") in logins


def test_head_office_needs_totp_enrolled_given_and_unspent(tmp_path: Path) -> None:
    server = _server(tmp_path, SystemClock())
    try:
        e, clock = server.engine, SystemClock()
        accounts.create_account(e, clock, "hq", Role.HEAD_OFFICE, PASSWORD)
        accounts.create_account(e, clock, "mgr", Role.STORE_MANAGER, PASSWORD, ["S001"])
        r = _sign_in(server, "hq")
        assert (r.status_code, r.json()["error"]) == (403, "totp-not-enrolled")
        uri = accounts.enrol_totp(e, clock, SEALER, "hq")
        assert uri.startswith("otpauth://totp/") and "hq" in uri
        r = _sign_in(server, "hq")
        assert (r.status_code, r.json()["error"]) == (401, "totp-required")
        code = _totp(server, "hq")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert _sign_in(server, "hq", wrong).status_code == 401
        assert _sign_in(server, "hq", code).status_code == 200
        # A code is spent once: a replayed code is refused.
        assert _sign_in(server, "hq", code).status_code == 401
        # A store manager without TOTP signs in with the password alone; once
        # enrolled, the code is needed.
        assert _sign_in(server, "mgr").status_code == 200
        accounts.enrol_totp(e, clock, SEALER, "mgr")
        assert _sign_in(server, "mgr").json()["error"] == "totp-required"
    finally:
        server.stop()


def test_tokens_expire_and_wrong_passwords_lock_the_account(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    server = _server(tmp_path, clock)
    try:
        accounts.create_account(server.engine, clock, "audit", Role.AUDITOR, PASSWORD)
        token = _sign_in(server, "audit").json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/v1/alerts", headers=headers).status_code == 200
        clock.advance(accounts.TOKEN_LIFETIME.total_seconds() + 1)
        r = httpx.get(f"{server.url}/v1/alerts", headers=headers)
        assert (r.status_code, r.json()["error"]) == (401, "token-expired")

        bad = {"account": "audit", "password": "wrong password!"}
        for _ in range(accounts.LOCKOUT_FAILS):
            assert httpx.post(f"{server.url}/v1/auth/token", json=bad).status_code == 401
        assert _sign_in(server, "audit").status_code == 429
        clock.advance(accounts.LOCKOUT_WINDOW.total_seconds() + 1)
        assert _sign_in(server, "audit").status_code == 200
        # Signing out voids the token at once.
        token = _sign_in(server, "audit").json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        httpx.post(f"{server.url}/v1/auth/logout", headers=headers)
        assert httpx.get(f"{server.url}/v1/alerts", headers=headers).status_code == 403
    finally:
        server.stop()


def test_passwords_are_kept_only_as_scrypt_hashes(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 's.db'}")
    db.upgrade(engine)
    accounts.create_account(engine, SystemClock(), "audit", Role.AUDITOR, PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(select(m.accounts.c.password_hash)).scalar_one()
    assert stored.startswith("scrypt$n=32768,r=8,p=1$") and PASSWORD not in stored
    assert accounts.verify_password(PASSWORD, stored)
    with pytest.raises(accounts.AccountError):
        accounts.create_account(engine, SystemClock(), "short", Role.AUDITOR, "too short")
    with pytest.raises(accounts.AccountError):
        accounts.create_account(engine, SystemClock(), "mgr", Role.STORE_MANAGER, PASSWORD)


def test_pos_server_account_creates_enrols_totp_lists_disables_and_audits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from sync.server.main import main

    base = ["--db", f"sqlite:///{tmp_path / 's.db'}", "--data-dir", str(tmp_path), "--json"]
    assert main([*base, "db", "upgrade"]) == 0
    monkeypatch.setenv("POS_SERVER_ACCOUNT_PASSWORD", PASSWORD)
    capsys.readouterr()

    def run(*argv: str) -> Any:
        assert main([*base, "account", *argv]) == 0
        return json.loads(capsys.readouterr().out)

    assert run("create", "hq", "--role", "head-office")["role"] == "head-office"
    assert run("create", "mgr1", "--role", "store-manager", "--store", "S001")["account"] == "mgr1"
    uri = run("totp", "hq")["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and "secret=" in uri
    listed = {a["account"]: a for a in run("list")}
    assert listed["hq"]["totp"] is True and listed["mgr1"]["stores"] == ["S001"]
    run("disable", "mgr1")
    assert run("list")[1]["disabled_at"] is not None
    # A store manager without stores is bad input: exit 2.
    assert main([*base, "account", "create", "mgr2", "--role", "store-manager"]) == 2
    actions = [(r["actor"], r["action"]) for r in run("audit")]
    assert ("server-cli", "account.create") in actions
    assert ("server-cli", "account.totp") in actions
    assert ("server-cli", "account.disable") in actions


def test_a_sign_in_body_too_large_is_refused_before_it_is_read(
    matrix_server: tuple[ThreadServer, dict[str, str]],
) -> None:
    server, _ = matrix_server
    r = httpx.post(f"{server.url}/v1/auth/token", content=b"{" + b" " * 10_000 + b"}")
    assert r.status_code == 413
    r = httpx.post(f"{server.url}/v1/auth/token", content=b"not json")
    assert r.status_code == 400
