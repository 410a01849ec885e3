"""`pos sandbox ...`: the loopback Alipay / WeChat Pay gateways for the demo
and tests, and what the shopper and the network do there. A front end of the
sandbox only: no product module imports it (an import-linter contract)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from pos.cli.context import CliContext
from pos.clock import SystemClock
from pos.errors import InvalidInput, PosError
from pos.messages import msg
from pos.messages.helptext import coded
from pos.payments.notify import SECTION as NOTIFY_SECTION
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.state import FAULT_KINDS, OPS
from pos.payments.settings import load_payments_config

SANDBOX_FILE = Path("sandbox") / "sandbox.json"


def _sandbox_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.payments.sandbox.server import SandboxServer

    server = SandboxServer(ctx.data_dir, SystemClock(), port=args.port)
    info = {"url": server.base_url, "control": f"{server.base_url}/_sandbox"}
    (ctx.data_dir / SANDBOX_FILE).write_text(json.dumps(info))
    if not args.no_configure:
        sections = server.keys.terminal_config(server.base_url)
        if NOTIFY_SECTION not in load_payments_config(ctx.data_dir):
            # Tills listen for the sandbox's notifications on a free loopback port.
            sections[NOTIFY_SECTION] = {"listen": "127.0.0.1:0"}
        write_terminal_config(ctx.data_dir, sections)
    ctx.emit(
        info,
        msg("cli.sandbox.running", url=server.base_url),
    )
    ctx.out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _control(
    ctx: CliContext, method: str, action: str, doc: dict[str, Any] | None = None
) -> dict[str, Any]:
    path = ctx.data_dir / SANDBOX_FILE
    if not path.exists():
        raise PosError(msg("cli.sandbox.not_running"))
    url = json.loads(path.read_text())["control"] + "/" + action
    try:
        resp = httpx.request(method, url, json=doc, timeout=5, trust_env=False)
    except httpx.HTTPError as exc:
        raise PosError(msg("cli.sandbox.no_answer", url=url, error=str(exc))) from exc
    body: dict[str, Any] = resp.json()
    if resp.status_code != 200:
        raise InvalidInput(msg("cli.sandbox.refused", error=str(body.get("error"))))
    return body


def parse_fault(text: str) -> dict[str, Any]:
    """KIND[:OP[:TIMES[:before|after[:DELAY]]]], e.g. timeout:start:1:after:30."""
    parts = text.split(":")
    kind = parts[0]
    op = parts[1] if len(parts) > 1 and parts[1] else "start"
    if kind not in FAULT_KINDS or op not in OPS:
        raise InvalidInput(
            msg(
                "cli.sandbox.unknown_fault",
                text=text,
                kinds=", ".join(FAULT_KINDS),
                ops=", ".join(OPS),
            )
        )
    try:
        return {
            "kind": kind,
            "op": op,
            "times": int(parts[2]) if len(parts) > 2 else 1,
            "after": (parts[3] if len(parts) > 3 else "after") != "before",
            "delay": float(parts[4]) if len(parts) > 4 else 30.0,
        }
    except ValueError as exc:
        raise InvalidInput(msg("cli.sandbox.bad_fault", text=text)) from exc


def _sandbox_scenario(args: argparse.Namespace, ctx: CliContext) -> int:
    doc: dict[str, Any] = {
        "confirm": args.confirm,
        "outcome": args.outcome,
        "decline": args.decline or "",
        "faults": [parse_fault(f) for f in args.fault or []],
    }
    if args.pay_after is not None:
        doc["pay_after"] = args.pay_after
    if args.order:
        doc["out_trade_no"] = args.order
    doc["next"] = bool(args.next)
    _control(ctx, "POST", "scenario", doc)
    target = args.order or msg("cli.sandbox.next" if args.next else "cli.sandbox.every")
    ctx.emit(doc, msg("cli.sandbox.scenario_set", target=target))
    return 0


def _sandbox_scan(args: argparse.Namespace, ctx: CliContext) -> int:
    trade = _control(ctx, "POST", "scan", {"out_trade_no": args.order, "platform": args.platform})
    ctx.emit(trade, msg("cli.sandbox.shopper_paid", **trade))
    return 0


def _sandbox_trades(args: argparse.Namespace, ctx: CliContext) -> int:
    trades = _control(ctx, "GET", "trades")["trades"]
    ctx.emit(
        trades,
        lambda: (
            "\n".join(
                f"{t['platform']:<7} {t['mode']:<4} {t['out_trade_no']}  {t['amount']:>8} fen  "
                f"{t['state']:<7} charged {t['charged']}"
                for t in trades
            )
            or "no trades"
        ),
    )
    return 0


def _sandbox_reset(args: argparse.Namespace, ctx: CliContext) -> int:
    _control(ctx, "POST", "reset")
    ctx.emit({"ok": True}, msg("cli.sandbox.cleared"))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("sandbox", help="clihelp.sandbox.sandbox")
    ssub = s.add_subparsers(dest="sandbox_command", required=True)
    run = ssub.add_parser("run", help="clihelp.sandbox.run")
    run.add_argument("--port", type=int, default=0, help="clihelp.sandbox.port")
    run.add_argument(
        "--no-configure", action="store_true", help="clihelp.drivers_card_host.no_configure"
    )
    run.set_defaults(func=_sandbox_run)
    sc = ssub.add_parser("scenario", help="clihelp.sandbox.scenario")
    target = sc.add_mutually_exclusive_group()
    target.add_argument("--order", help="clihelp.sandbox.order")
    target.add_argument("--next", action="store_true", help="clihelp.sandbox.next")
    sc.add_argument("--pay-after", type=float, help="clihelp.sandbox.pay_after")
    sc.add_argument("--confirm", type=float, default=1.0, help="clihelp.sandbox.confirm")
    sc.add_argument("--outcome", choices=["pay", "cancel", "never"], default="pay")
    sc.add_argument("--decline", help="clihelp.sandbox.decline")
    sc.add_argument(
        "--fault",
        action="append",
        help=coded("clihelp.sandbox.fault", kinds=", ".join(FAULT_KINDS)),
    )
    sc.set_defaults(func=_sandbox_scenario)
    scan = ssub.add_parser("scan", help="clihelp.sandbox.scan")
    scan.add_argument("--order", help="clihelp.sandbox.order_2")
    scan.add_argument("--platform", choices=["alipay", "wechat"])
    scan.set_defaults(func=_sandbox_scan)
    ssub.add_parser("trades", help="clihelp.sandbox.trades").set_defaults(func=_sandbox_trades)
    ssub.add_parser("reset", help="clihelp.sandbox.reset").set_defaults(func=_sandbox_reset)
