"""`pos-server`: run the central server and manage it from its own machine.

    pos-server serve [--host H] [--port P] [--tls-cert C --tls-key K] [--workers N]
    pos-server db upgrade | db current
    pos-server code create --store S
    pos-server terminal list | terminal revoke ID
    pos-server config publish KIND FILE [--store S]
    pos-server report daily --date D [--store S] [--out FILE]
    pos-server alerts
    pos-server audit
    pos-server risk place|alerts|hotlist|draft|backtest|shadow|publish|rules|audit

    pos-server key show | key rotate
    pos-server account create NAME --role R [--store S]... | totp NAME | list | disable NAME | audit

Every command takes --db URL (env POS_SERVER_DB; default SQLite in the data
dir) and --data-dir (env POS_SERVER_DATA_DIR). The signing key lives in the
database, encrypted under POS_SERVER_KEY_SECRET (or the file named by
POS_SERVER_KEY_SECRET_FILE, or `key-secret` in the data dir).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import platformdirs
from fastapi import FastAPI
from sqlalchemy import Engine, select

from pos.clock import SystemClock
from pos.messages import env_lang
from pos.messages.helptext import speak_help
from sync.server import accounts, audit, configs, db, enrolment, identity, reports
from sync.server import models as m
from sync.server.app import ServerState, create_app
from sync.server.risk import cli as risk_cli


def _data_dir(arg: str | None) -> Path:
    text = arg or os.environ.get("POS_SERVER_DATA_DIR")
    return (
        Path(text)
        if text
        else Path(platformdirs.user_data_dir("store-checkout-server", appauthor=False))
    )


def _db_url(arg: str | None, data_dir: Path) -> str:
    url = arg or os.environ.get("POS_SERVER_DB")
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'server.db'}"


def _engine(args: argparse.Namespace) -> Engine:
    return db.make_engine(_db_url(args.db, _data_dir(args.data_dir)))


def _state(args: argparse.Namespace, engine: Engine) -> ServerState:
    token = os.environ.get("POS_SERVER_ADMIN_TOKEN")
    token_file = getattr(args, "admin_token_file", None)
    if token_file:
        token = Path(token_file).read_text().strip()
    return ServerState(
        engine=engine,
        identity=_identity(args, engine),
        admin_token=token,
        audit_every=float(getattr(args, "audit_every", 0.0)),
        warm_verifier=True,
    )


def _identity(args: argparse.Namespace, engine: Engine) -> identity.DatabaseIdentity:
    data_dir = _data_dir(args.data_dir)
    return identity.DatabaseIdentity.load_or_create(
        engine,
        identity.secret_from(os.environ, data_dir),
        SystemClock(),
        legacy_pem=data_dir / "signing-key.pem",
    )


def app_from_env() -> FastAPI:
    """Factory for uvicorn's worker processes (`serve --workers N`)."""
    args = argparse.Namespace(
        db=os.environ.get("POS_SERVER_DB"),
        data_dir=os.environ.get("POS_SERVER_DATA_DIR"),
        admin_token_file=os.environ.get("POS_SERVER_ADMIN_TOKEN_FILE"),
        audit_every=float(os.environ.get("POS_SERVER_AUDIT_EVERY", "0")),
    )
    return create_app(_state(args, _engine(args)))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    engine = _engine(args)
    if not args.no_migrate:
        db.upgrade(engine)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    port = sock.getsockname()[1]
    scheme = "https" if args.tls_cert else "http"
    tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key} if args.tls_cert else {}
    print(f"listening on {scheme}://{args.host}:{port}", flush=True)
    if args.workers > 1:
        os.environ["POS_SERVER_DB"] = _db_url(args.db, _data_dir(args.data_dir))
        os.environ["POS_SERVER_DATA_DIR"] = str(_data_dir(args.data_dir))
        if args.admin_token_file:
            os.environ["POS_SERVER_ADMIN_TOKEN_FILE"] = args.admin_token_file
        os.environ["POS_SERVER_AUDIT_EVERY"] = str(args.audit_every)
        config = uvicorn.Config(
            "sync.server.main:app_from_env",
            factory=True,
            workers=args.workers,
            log_level=args.log_level,
            **tls,
        )
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
        return 0
    app = create_app(_state(args, engine))
    config = uvicorn.Config(app, log_level=args.log_level, **tls)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _print(args: argparse.Namespace, data: object, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)


def _db_cmd(args: argparse.Namespace) -> int:
    engine = _engine(args)
    if args.action == "upgrade":
        db.upgrade(engine)
    rev = db.current_revision(engine)
    _print(
        args,
        {"revision": rev, "head": db.head_revision()},
        f"schema at {rev} (head {db.head_revision()})",
    )
    return 0


def _code(args: argparse.Namespace) -> int:
    engine = _engine(args)
    code = enrolment.create_code(engine, SystemClock(), args.store)
    _print(
        args,
        {"store_id": args.store, "code": code},
        f"enrolment code for store {args.store}: {code}\n(one use, valid for 24 hours)",
    )
    return 0


def _terminal(args: argparse.Namespace) -> int:
    engine = _engine(args)
    if args.action == "revoke":
        if not args.terminal_id or not enrolment.revoke(engine, SystemClock(), args.terminal_id):
            print(f"error: no active terminal {args.terminal_id}", file=sys.stderr)
            return 4
        accounts.record(
            engine,
            SystemClock(),
            "server-cli",
            "terminal.revoke",
            "allowed",
            detail=args.terminal_id,
        )
        _print(args, {"revoked": args.terminal_id}, f"terminal {args.terminal_id} revoked")
        return 0
    t = m.terminals
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(t).order_by(t.c.store_id, t.c.id)).mappings()]
    lines = [
        f"{r['store_id']:<12} {r['id']:<24} hwm {r['hwm']:<8} seen {r['last_seen_at'] or '-'}"
        + (f"  REVOKED {r['revoked_at']}" if r["revoked_at"] else "")
        for r in rows
    ]
    _print(args, rows, "\n".join(lines) or "no terminals enrolled")
    return 0


def _password(name: str) -> str:
    """From POS_SERVER_ACCOUNT_PASSWORD (scripts), else asked twice, never echoed."""
    import getpass

    given = os.environ.get("POS_SERVER_ACCOUNT_PASSWORD")
    if given:
        return given
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


def _account(args: argparse.Namespace) -> int:
    engine = _engine(args)
    clock = SystemClock()
    if args.action in ("create", "totp", "disable") and not args.name:
        raise accounts.AccountError(f"account {args.action} needs the account name")
    if args.action == "create":
        who = accounts.create_account(
            engine, clock, args.name, args.role, _password(args.name), args.store
        )
        text = f"account {who.account_id} ({who.role.value}) created"
        if who.role is accounts.Role.HEAD_OFFICE:
            text += f"; it signs in only with TOTP: pos-server account totp {who.account_id}"
        _print(args, {"account": who.account_id, "role": who.role.value}, text)
    elif args.action == "totp":
        sealer = accounts.TotpSealer(identity.secret_from(os.environ, _data_dir(args.data_dir)))
        uri = accounts.enrol_totp(engine, clock, sealer, args.name)
        _print(
            args,
            {"account": args.name, "otpauth_uri": uri},
            f"add this to the authenticator app (shown once):\n{uri}",
        )
    elif args.action == "disable":
        accounts.disable_account(engine, clock, args.name)
        _print(args, {"disabled": args.name}, f"account {args.name} disabled; its tokens are void")
    elif args.action == "audit":
        rows = accounts.audit_trail(engine)
        lines = [
            f"{r['at']} {r['actor']:<16} {r['action']:<16} {r['outcome']:<8} "
            f"{r['store_id'] or '-'} {r['detail']}"
            for r in rows
        ]
        _print(args, rows, "\n".join(lines) or "no admin actions yet")
    else:
        rows = accounts.list_accounts(engine)
        lines = [
            f"{r['account']:<16} {r['role']:<14} {','.join(r['stores']) or '-':<16} "  # type: ignore[arg-type]
            f"totp {'yes' if r['totp'] else 'no'}" + (" DISABLED" if r["disabled_at"] else "")
            for r in rows
        ]
        _print(args, rows, "\n".join(lines) or "no accounts")
    return 0


def _config(args: argparse.Namespace) -> int:
    engine = _engine(args)
    version = configs.publish(
        engine,
        SystemClock(),
        _identity(args, engine).current(),
        args.kind,
        Path(args.file).read_bytes(),
        args.store,
    )
    _print(
        args, {"version": version, "kind": args.kind}, f"published {args.kind} as version {version}"
    )
    return 0


def _key(args: argparse.Namespace) -> int:
    ident = _identity(args, _engine(args))
    if args.action == "rotate":
        link = ident.rotate()
        _print(
            args,
            link.model_dump(),
            f"server key generation {link.generation}: {link.server_key}\n"
            "terminals follow it at their next sync (it is signed by the previous key)",
        )
        return 0
    chain = ident.chain()
    _print(
        args,
        [c.model_dump() for c in chain],
        "\n".join(f"generation {c.generation}: {c.server_key}" for c in chain),
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    rows = reports.daily_settlement(_engine(args), args.date, args.store)
    text = reports.to_csv(args.date, rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(rows)} rows)")
    else:
        sys.stdout.write(text)
    return 0


def _alerts(args: argparse.Namespace) -> int:
    with _engine(args).connect() as conn:
        rows = [dict(r) for r in conn.execute(select(m.alerts).order_by(m.alerts.c.id)).mappings()]
    lines = [
        f"{r['created_at']} {r['terminal_id']} {r['kind']} seq {r['seq']}: {r['detail']}"
        for r in rows
    ]
    _print(args, rows, "\n".join(lines) or "no alerts")
    return 0


def _audit(args: argparse.Namespace) -> int:
    engine = _engine(args)
    # Alerts for what no audit has passed yet, then the report over the range
    # asked for (by default everything stored), whoever audited it before.
    audit.audit_once(engine, SystemClock())
    found = audit.audit_range(engine, args.terminal, args.first, args.last)
    lines = [f"terminal {t} entry {seq}: signature is not the terminal's" for t, seq in found.bad]
    summary = f"checked {found.checked} entry signatures; {len(found.bad)} bad"
    _print(
        args,
        {"checked": found.checked, "bad": [{"terminal_id": t, "seq": s} for t, s in found.bad]},
        "\n".join([*lines, summary]),
    )
    return 6 if found.bad else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pos-server", description="clihelp.server.prog_description")
    p.add_argument("--db", help="clihelp.server.db")
    p.add_argument("--data-dir", help="clihelp.server.data_dir")
    p.add_argument("--json", action="store_true", help="clihelp.main.json")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="clihelp.server.serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8443)
    s.add_argument("--tls-cert", help="clihelp.server.tls_cert")
    s.add_argument("--tls-key", help="clihelp.server.tls_key")
    s.add_argument("--workers", type=int, default=1, help="clihelp.server.workers")
    s.add_argument("--admin-token-file", help="clihelp.server.admin_token_file")
    s.add_argument("--no-migrate", action="store_true", help="clihelp.server.no_migrate")
    s.add_argument("--log-level", default="warning")
    s.add_argument(
        "--audit-every",
        type=float,
        default=30.0,
        help="clihelp.server.audit_every",
    )
    s.set_defaults(func=_serve)

    d = sub.add_parser("db", help="clihelp.server.db_2")
    d.add_argument("action", choices=["upgrade", "current"])
    d.set_defaults(func=_db_cmd)

    c = sub.add_parser("code", help="clihelp.server.code")
    c.add_argument("action", choices=["create"])
    c.add_argument("--store", required=True)
    c.set_defaults(func=_code)

    t = sub.add_parser("terminal", help="clihelp.server.terminal")
    t.add_argument("action", choices=["list", "revoke"])
    t.add_argument("terminal_id", nargs="?")
    t.set_defaults(func=_terminal)

    cf = sub.add_parser("config", help="clihelp.server.config")
    cf.add_argument("action", choices=["publish"])
    cf.add_argument("kind", choices=configs.KINDS)
    cf.add_argument("file")
    cf.add_argument("--store", help="clihelp.server.store")
    cf.set_defaults(func=_config)

    ac = sub.add_parser("account", help="clihelp.server.account")
    ac.add_argument("action", choices=["create", "totp", "list", "disable", "audit"])
    ac.add_argument("name", nargs="?", help="clihelp.server.name")
    ac.add_argument("--role", choices=[r.value for r in accounts.Role], default="auditor")
    ac.add_argument("--store", action="append", help="clihelp.server.store_2")
    ac.set_defaults(func=_account)

    k = sub.add_parser("key", help="clihelp.server.key")
    k.add_argument("action", choices=["show", "rotate"])
    k.set_defaults(func=_key)

    r = sub.add_parser("report", help="clihelp.server.report")
    r.add_argument("action", choices=["daily"])
    r.add_argument("--date", required=True, help="clihelp.server.date")
    r.add_argument("--store")
    r.add_argument("--out", help="clihelp.server.out")
    r.set_defaults(func=_report)

    a = sub.add_parser("alerts", help="clihelp.server.alerts")
    a.set_defaults(func=_alerts)

    au = sub.add_parser("audit", help="clihelp.server.audit")
    au.add_argument("--terminal", help="clihelp.server.terminal_2")
    au.add_argument("--from", dest="first", type=int, default=1, help="clihelp.server.from")
    au.add_argument("--to", dest="last", type=int, help="clihelp.server.to")
    au.set_defaults(func=_audit)
    # Risk publications are signed by the one identity every process shares.
    risk_cli.register(sub, _engine, lambda a: _identity(a, _engine(a)).current())
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    speak_help(parser, env_lang())
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except identity.ServerKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 5
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
